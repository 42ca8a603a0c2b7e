"""Constrained names shared by the models.

The patterns are deliberately narrow: every name ends up in paths, compose project names,
labels and shell commands on a host, so the schema only admits what is safe in all of them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

ProjectName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length=40),
    Field(description="Lowercase letters, digits and single dashes; starts with a letter."),
]
EnvName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9]*$", max_length=20),
    Field(description="Lowercase letters and digits, e.g. `staging`, `production`."),
]
HostName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=63),
    Field(description="A name for the host used in logs and placement."),
]
ServiceName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=63),
    Field(description="A service of the tenant's docker-compose.yml."),
]
VolumeName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", max_length=63),
    Field(description="A named volume of the tenant's docker-compose.yml."),
]
SecretName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64),
    Field(description="An environment variable name; the value comes from the deploy environment."),
]
Domain = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$",
        max_length=253,
    ),
    Field(description="A fully qualified lowercase domain name."),
]
ImageRepository = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$"),
    Field(description="An image repository path without registry or tag, e.g. `acme/shop-api`."),
]
HttpPath = Annotated[
    str,
    StringConstraints(pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$", max_length=200),
    Field(description="An absolute URL path, e.g. `/healthz`."),
]
GitHubRepository = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$"),
    Field(description="`owner/name` of a GitHub repository."),
]
