"""The example configs as texts, for tests that edit one tenant's files in memory: paiss's
files by name, and where its compose file takes additions to its web service."""

from __future__ import annotations

from pathlib import Path

from platform_lib.config.sources import read_sources

REPO = Path(__file__).resolve().parents[1]
BASE = read_sources(REPO)
PLATFORM = "configs/platform.yml"
COMPOSE = "configs/paiss/docker-compose.yml"
PROJECT = "configs/paiss/project.yml"
ENV = "configs/paiss/.env.staging"
ANCHOR = "    env_file: .env\n"  # line 4 of paiss's compose file; additions start on line 5
