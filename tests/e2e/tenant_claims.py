"""A tenant name held by one test at a time, across pytest processes.

`make test` runs two lanes of e2e tests against the machine's one dockerd, where a tenant's
containers, volumes and networks are named after it (`<tenant>-<env>`): two tests deploying
the same tenant at once would remove or replace each other's. Each lane's tests have tenant
names of their own, so a claim never waits in `make test`; it makes an overlap (a test moved
between lanes, two `pytest` runs by hand) wait instead of fail at random."""

from __future__ import annotations

import fcntl
import time
from pathlib import Path
from typing import TextIO

WAIT = 900.0  # seconds; longer than any one e2e test

_held: dict[str, TextIO] = {}


def claim(state: Path, name: str) -> None:
    """Hold `name` for this process until release(); wait while another process holds it."""
    if name in _held:
        return
    folder = state / "tenants"
    folder.mkdir(parents=True, exist_ok=True)
    handle = (folder / f"{name}.lock").open("w")
    deadline = time.monotonic() + WAIT
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise AssertionError(
                    f"tenant {name!r} stayed held by another pytest process for {WAIT:.0f}s "
                    f"({folder / name}.lock): give this test's tenants names of their own"
                ) from None
            time.sleep(0.2)
            continue
        _held[name] = handle
        return


def release(name: str) -> None:
    handle = _held.pop(name, None)
    if handle is not None:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
