"""The one place config files are read from disk."""

from __future__ import annotations

import re
from pathlib import Path

from platform_lib.errors import Location, PlatformError, Problem

CONFIG_DIR = "configs"
SETTINGS_FILE = f"{CONFIG_DIR}/platform.yml"
TENANT_FILES = ("project.yml", "docker-compose.yml")


def read_sources(root: Path, tenant: str | None = None) -> dict[str, str]:
    """Every config file under `root/configs` (with `tenant`: under `root/configs/<tenant>`),
    keyed by its path relative to `root`."""
    base = root / CONFIG_DIR
    if not base.is_dir():
        raise PlatformError(
            f"{base}: no configs/ directory here (use --root to point at the platform repository)"
        )
    sources: dict[str, str] = {}
    for path in sorted((base if tenant is None else base / tenant).rglob("*")):
        if path.is_file() and is_config_file(path.name):
            sources[path.relative_to(root).as_posix()] = decode(path.read_bytes())
    return sources


def decode(raw: bytes) -> str:
    """A file's text. Bytes that are not UTF-8 stay in it as lone surrogates (U+DC80..U+DCFF),
    so one such file is a problem of that file (`encoding_problem`), not of the whole run."""
    return raw.decode("utf-8", "surrogateescape")


_UNDECODED = re.compile("[\udc80-\udcff]")


def encoding_problem(path: str, text: str) -> Problem | None:
    """file.encoding at the first byte of `text` (from `decode`) that is not UTF-8, if any."""
    found = _UNDECODED.search(text)
    if found is None:
        return None
    before = text[: found.start()]
    return Problem(
        Location(path, before.count("\n") + 1, len(before) - before.rfind("\n"), ""),
        "file.encoding",
        f"{path} is not UTF-8 text: byte 0x{ord(found.group()) - 0xDC00:02X} cannot be decoded",
        "save the file as UTF-8 (a config file is text; a binary file does not belong here)",
    )


def is_config_file(name: str) -> bool:
    return name in TENANT_FILES or name == "platform.yml" or name.startswith(".env.")
