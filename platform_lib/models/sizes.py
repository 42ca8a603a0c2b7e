"""Memory sizes as Compose writes them: `512m`, `1g`, `1.5GiB`, `100kb` or a number of bytes.

Compose reads them with binary multipliers (`k` is 1024): the same parse here keeps the
platform's maximum comparable to what a tenant writes in its compose file."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import BeforeValidator, WithJsonSchema

_SIZE: Final = re.compile(r"^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$", re.IGNORECASE)
_UNITS: Final = "kmgtp"
SIZE_PATTERN: Final = r"^[0-9]+(\.[0-9]+)? ?([kKmMgGtTpP])?[iI]?[bB]?$"


class SizeError(ValueError):
    """Not a size Compose reads."""


def parse_size(value: object) -> int:
    """Bytes of a Compose size: an integer, or text such as `512m` or `1.5g`.
    0 (and -1 in Compose) means no limit: the caller decides what that means to it."""
    if isinstance(value, bool):
        raise SizeError(f"{value!r} is not a size")
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        raise SizeError(f"{value!r} is not a size")
    match = _SIZE.match(value.strip())
    if match is None:
        raise SizeError(f"{value!r} is not a size (write e.g. 512m, 1g or a number of bytes)")
    unit = match.group(2)
    factor = 1024 ** (_UNITS.index(unit.lower()) + 1) if unit else 1
    # In floating point and truncated, exactly as Compose computes it (go-units RAMInBytes):
    # the same text must give the same bytes on both sides of a maximum.
    size = int(float(match.group(1)) * factor)
    if size >= 2**63:
        raise SizeError(f"{value!r} is too large")
    return size


def format_size(size: int) -> str:
    """The shortest exact Compose text for `size` bytes: `512m`, `1g`, `1536k`, `1000`."""
    if size <= 0:
        return str(size)
    for index in range(len(_UNITS), 0, -1):
        factor = 1024**index
        if size % factor == 0:
            return f"{size // factor}{_UNITS[index - 1]}"
    return str(size)


def _to_bytes(value: object) -> int:
    size = parse_size(value)
    if size <= 0:
        raise SizeError("a limit must be above 0 bytes")
    return size


MemorySize = Annotated[
    int,
    BeforeValidator(_to_bytes),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": SIZE_PATTERN},
                {"type": "integer", "minimum": 1},
            ],
            "description": "bytes, or a size as Compose writes it: 512m, 1g, 1.5GiB",
        }
    ),
]
"""A memory limit in bytes, written as Compose would (`512m`, `1g`) or as a number."""
