"""Constrained names shared by the models.

The patterns are deliberately narrow: every name ends up in paths, compose project names,
labels and shell commands on a host, so the schema only admits what is safe in all of them.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import StringConstraints, TypeAdapter, ValidationError

COMMIT_PATTERN = r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$"
"""A git commit id in full: SHA-1 (40 hex digits) or SHA-256 (64)."""

# Unanchored, for the places that match names inside larger text (run titles, job names).
PROJECT_NAME_PATTERN = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
ENV_NAME_PATTERN = r"[a-z][a-z0-9]*"

# Lowercase letters, digits and single dashes; starts with a letter.
ProjectName = Annotated[
    str,
    StringConstraints(pattern=rf"^{PROJECT_NAME_PATTERN}$", max_length=40),
]
# Lowercase letters and digits, e.g. `staging`, `production`.
EnvName = Annotated[
    str,
    StringConstraints(pattern=rf"^{ENV_NAME_PATTERN}$", max_length=20),
]
# A name for the host used in logs and placement.
HostName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=63),
]
# A service of the tenant's docker-compose.yml.
ServiceName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=63),
]
# A named volume of the tenant's docker-compose.yml.
VolumeName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", max_length=63),
]
# A Docker network name, e.g. one the platform shares between tenants.
NetworkName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", max_length=63),
]
# An environment variable name; the value comes from the deploy environment.
SecretName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64),
]
# A fully qualified lowercase domain name.
Domain = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$",
        max_length=253,
    ),
]
# An image repository path without registry or tag, e.g. `acme/shop-api`.
ImageRepository = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$"),
]
# An absolute URL path, e.g. `/healthz`.
HttpPath = Annotated[
    str,
    StringConstraints(pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$", max_length=200),
]
# `owner/name` of a GitHub repository.
GitHubRepository = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$"),
]


@cache
def _adapter(kind: Any) -> TypeAdapter[str]:
    return TypeAdapter(kind)


def conforms(kind: Any, text: str) -> bool:
    """Whether `text` is a valid value of one of the name types above."""
    try:
        _adapter(kind).validate_python(text)
    except ValidationError:
        return False
    return True
