"""Variables the platform provides to every tenant's compose file.

All are namespaced `PLATFORM_*` so they never clash with an app's own settings (the system this
replaces exported `ENVIRONMENT`, which apps also used for themselves).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FIXED = (
    "PLATFORM_PROJECT",
    "PLATFORM_ENVIRONMENT",
    "PLATFORM_COMPOSE_PROJECT",
    "PLATFORM_DOMAIN",
)


def image_variable(service: str) -> str:
    """`backend` -> `PLATFORM_IMAGE_BACKEND`: the deployed image of a built service."""
    return "PLATFORM_IMAGE_" + re.sub(r"[^A-Z0-9]", "_", service.upper())


def platform_variable_names(built_services: Iterable[str]) -> frozenset[str]:
    return frozenset(FIXED) | {image_variable(s) for s in built_services}


def compose_project(project: str, environment: str) -> str:
    return f"{project}-{environment}"
