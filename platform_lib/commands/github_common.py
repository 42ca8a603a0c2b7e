"""What the `github` subcommands share: the settings, platform repository, GitHub client
and checked `--project` of a call, and the arguments every subcommand takes."""

from __future__ import annotations

import argparse
import os

from platform_lib.commands import common
from platform_lib.config.loader import is_project_name
from platform_lib.config.sources import SETTINGS_FILE
from platform_lib.errors import UsageError
from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.settings import load_manifest, load_settings, resolve_repo
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings


def optional_settings(args: argparse.Namespace) -> PlatformSettings | None:
    return load_settings(common.root(args))


def need_settings(args: argparse.Namespace) -> PlatformSettings:
    settings = optional_settings(args)
    if settings is None:
        raise UsageError(f"{common.root(args) / SETTINGS_FILE}: missing (use --root)")
    return settings


def platform_repo(args: argparse.Namespace, settings: PlatformSettings | None) -> Repo:
    return resolve_repo(args.repo, settings, os.environ)


def new_client() -> GitHubClient:
    return GitHubClient.from_environment(os.environ)


def checked_project(name: str) -> str:
    if not is_project_name(name):
        raise UsageError(f"--project {name!r}: lowercase letters, digits and single dashes")
    return name


def tenant_target(args: argparse.Namespace) -> tuple[PlatformSettings, str, ProjectManifest]:
    """The settings, the `--project` and its manifest, with `--env` one of the settings'."""
    settings = need_settings(args)
    project = checked_project(args.project)
    manifest = load_manifest(common.root(args), project)
    if manifest is None:
        raise UsageError(f"configs/{project}/project.yml: missing or invalid (run validate)")
    if args.env not in settings.environments:
        raise UsageError(f"--env {args.env!r}: not one of {', '.join(settings.environments)}")
    return settings, project, manifest


def add_common(p: argparse.ArgumentParser) -> None:
    common.add_root(p)
    p.add_argument(
        "--repo",
        metavar="OWNER/NAME",
        help="platform repository (default: github.repository in configs/platform.yml, "
        "else $GITHUB_REPOSITORY)",
    )


def add_images(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--image", action="append", default=[], metavar="SERVICE=REF", help=help_text)
