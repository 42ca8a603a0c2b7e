"""The one place config files are read from disk.

Only regular files and folders are read. A symbolic link anywhere under configs/ is refused,
never followed: a tenant's `.env.staging -> /proc/self/environ` (or a link to another
tenant's file, or to a platform secret) would otherwise put whatever it points at into a
release. A FIFO, socket or device file is refused too (reading one could hang or read a
device), and so is an entry that changes into one between the listing and the reading
(`read_regular` opens without following links and checks what it opened)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from platform_lib.errors import Location, PlatformError, Problem

CONFIG_DIR = "configs"
SETTINGS_FILE = f"{CONFIG_DIR}/platform.yml"
TENANT_FILES = ("project.yml", "docker-compose.yml")
_LINK_HINT = (
    "replace the link by the file itself (git add the real file): the platform never follows "
    "a link, so a tenant's config cannot read files outside its folder"
)
_SPECIAL_HINT = (
    "remove it: the configs/ tree holds only regular files and folders (a FIFO, socket or "
    "device file could hang or read a device)"
)


class Sources(dict[str, str]):
    """Config texts keyed by path relative to the root, and the entries refused unread
    (`refused`: path -> its file.symlink or file.not-regular problem), which the loader
    reports instead of calling such a file missing."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: dict[str, Problem] = {}


class NotRegular(OSError):
    """The path is a link, or not a regular file, when it is opened."""


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file, opened without following a link (the last component) and
    without blocking; NotRegular when it is anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if Path(path).is_symlink():
            raise NotRegular(f"{path} is a symbolic link") from exc
        raise
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(f"{path} is not a regular file")
        return file.read()


def refusal(path: str, is_link: bool) -> Problem:
    """file.symlink or file.not-regular at `path` (relative to the root)."""
    if is_link:
        return Problem(
            Location(path),
            "file.symlink",
            f"{path} is a symbolic link: links under {CONFIG_DIR}/ are refused, not followed",
            _LINK_HINT,
        )
    return Problem(
        Location(path),
        "file.not-regular",
        f"{path} is not a regular file or folder (a FIFO, socket or device): it is not read",
        _SPECIAL_HINT,
    )


def read_sources(root: Path, tenant: str | None = None) -> Sources:
    """Every config file under `root/configs` (with `tenant`: under `root/configs/<tenant>`),
    keyed by its path relative to `root`, in path order; links and special files refused."""
    base = root / CONFIG_DIR
    if not base.is_dir():
        raise PlatformError(
            f"{base}: no configs/ directory here (use --root to point at the platform repository)"
        )
    found = Sources()
    texts: dict[str, str] = {}
    start = base if tenant is None else base / tenant
    if start.is_symlink():
        rel = start.relative_to(root).as_posix()
        found.refused[rel] = refusal(rel, True)
    else:
        _scan(str(start), start.relative_to(root).as_posix(), texts, found.refused)
    for path in sorted(texts):
        found[path] = texts[path]
    return found


def _scan(folder: str, rel: str, texts: dict[str, str], refused: dict[str, Problem]) -> None:
    """The config files of `folder` (`rel` to the root) and its subfolders, paths as strings:
    at 3,000 tenants, Path objects for every entry were a tenth of `validate`."""
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        path = f"{rel}/{entry.name}"
        if entry.is_symlink():
            refused[path] = refusal(path, True)
        elif entry.is_dir(follow_symlinks=False):
            _scan(entry.path, path, texts, refused)
        elif not entry.is_file(follow_symlinks=False):
            refused[path] = refusal(path, False)
        elif is_config_file(entry.name):
            _add(entry.path, path, texts, refused)


def add_source(root: Path, rel: str, texts: dict[str, str], refused: dict[str, Problem]) -> None:
    """Read `root/rel` into `texts`, or its refusal into `refused` (a link or special file);
    nothing when it does not exist."""
    _add(str(root / rel), rel, texts, refused)


def _add(path: str, rel: str, texts: dict[str, str], refused: dict[str, Problem]) -> None:
    try:
        texts[rel] = decode(read_regular(path))
    except NotRegular:
        refused[rel] = refusal(rel, Path(path).is_symlink())
    except FileNotFoundError:
        pass


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
