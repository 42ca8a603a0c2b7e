"""The SSH host a command will reach, read from the raw YAML before anything else.

A deploy spends its first few hundred milliseconds importing and validating; opening the SSH
connection takes as long again (key exchange, login). Knowing the host that early lets the
two overlap. This is only a hint: it reads `platform.yml` and the tenant's `project.yml`
without validating them and gives up (None) on anything unexpected. The plan is still made
from the validated config, and the connection is only reused when the planned host is the
same (`Connections` keys transports by kind, address, port and user).

Only the standard library and PyYAML (and config/sources.py, which needs no more): the point
is to run before the heavy imports. A file is read as validation reads it (`read_regular`: no
link followed, no FIFO waited on).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from platform_lib.config.sources import read_regular


@dataclass(frozen=True)
class HostHint:
    """The fields of a TargetHost that opening a connection needs."""

    name: str
    kind: str
    address: str | None
    port: int
    user: str
    host_key: str | None
    docker_host: str | None


def early_target(root: Path, project: str, environment: str) -> HostHint | None:
    """The host `project` runs on in `environment`, as the configs say, or None."""
    try:
        settings = _mapping(root / "configs" / "platform.yml")
        manifest = _mapping(root / "configs" / project / "project.yml")
        hosts = settings["environments"][environment]["hosts"]
        placement = manifest.get("placement") or {}
        name = placement.get(environment) or next(iter(hosts))
        host = hosts[name]
        return HostHint(
            name=str(name),
            kind=str(host.get("kind", "ssh")),
            address=host.get("address"),
            port=int(host.get("port", 22)),
            user=str(host.get("user", "deploy")),
            host_key=host.get("host_key"),
            docker_host=host.get("docker_host"),
        )
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError, ValueError,
            AttributeError, StopIteration):  # fmt: skip
        return None


def _mapping(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C one when PyYAML has it
    text = read_regular(path).decode("utf-8")
    data = yaml.load(text, Loader=loader)  # noqa: S506 - safe
    if not isinstance(data, dict):
        raise TypeError(path)
    return data
