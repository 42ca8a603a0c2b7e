"""Which sinks an event goes to: the environment's (always) and the tenant's own. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from platform_lib.config.credentials import tenant_secret_variable
from platform_lib.models.notifications import EventKind, Sink
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings


@dataclass(frozen=True)
class Target:
    """One sink to post an event to, with the variables (never values) of its secrets."""

    kind: Literal["slack", "webhook"]
    owner: Literal["platform", "tenant"]
    url_variable: str
    key_variable: str | None = None

    @property
    def label(self) -> str:
        """How the log names the sink: its kind and the variable of its URL, not the URL."""
        return f"{self.kind} {self.url_variable}"


def _target(sink: Sink, owner: Literal["platform", "tenant"], project: str) -> Target:
    def variable(name: str) -> str:
        return tenant_secret_variable(project, name) if owner == "tenant" else name

    key = getattr(sink, "key_secret", None)
    return Target(
        kind=sink.kind,
        owner=owner,
        url_variable=variable(sink.url_secret),
        key_variable=variable(key) if key else None,
    )


def targets(
    settings: PlatformSettings,
    manifest: ProjectManifest | None,
    project: str,
    environment: str,
    kind: EventKind,
) -> list[Target]:
    """The sinks taking `kind` for `project` in `environment`: the platform's first (a
    tenant cannot remove them), then the tenant's own, whose variables are `<PROJECT>__NAME`."""
    env = settings.environments.get(environment)
    platform = env.notifications if env is not None else []
    tenant = manifest.notifications.get(environment, []) if manifest is not None else []
    found = [_target(s, "platform", project) for s in platform if _takes(s, kind)]
    found += [_target(s, "tenant", project) for s in tenant if _takes(s, kind)]
    return list(dict.fromkeys(found))


def _takes(sink: Sink, kind: EventKind) -> bool:
    return sink.events is None or kind in sink.events
