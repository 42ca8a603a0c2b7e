"""Running the CLI in-process the way the tests do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]
"""`cli("pending", "--format", "json")` runs `python -m platform_lib github pending ...`."""
