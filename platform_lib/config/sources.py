"""The one place config files are read from disk."""

from __future__ import annotations

from pathlib import Path

from platform_lib.errors import PlatformError

CONFIG_DIR = "configs"
SETTINGS_FILE = f"{CONFIG_DIR}/platform.yml"
TENANT_FILES = ("project.yml", "docker-compose.yml")


def read_sources(root: Path) -> dict[str, str]:
    """Every config file under `root/configs`, keyed by its path relative to `root`."""
    base = root / CONFIG_DIR
    if not base.is_dir():
        raise PlatformError(
            f"{base}: no configs/ directory here (use --root to point at the platform repository)"
        )
    sources: dict[str, str] = {}
    for path in sorted(base.rglob("*")):
        if path.is_file() and _is_config_file(path.name):
            rel = path.relative_to(root).as_posix()
            try:
                sources[rel] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise PlatformError(f"{rel}: not UTF-8 text") from None
    return sources


def _is_config_file(name: str) -> bool:
    return name in TENANT_FILES or name == "platform.yml" or name.startswith(".env.")
