"""The sinks' secrets of one tenant and environment, picked from a job's secrets (the
workflow's `toJSON(secrets)`, bare names). Pure.

The platform's sink variables are read under their own names; a tenant's own sink's
`url_secret: NAME` is a secret `NAME` of its GitHub environment, handed on as
`<PROJECT>__NAME` (the variable `routing` reads). Nothing else is picked: a command that
announces gets no other secret of the job."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from platform_lib.config.credentials import is_platform_credential, tenant_secret_variable
from platform_lib.models.notifications import EVENT_KINDS, EventKind
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings
from platform_lib.notifications.routing import targets


def sink_secrets(
    settings: PlatformSettings,
    manifest: ProjectManifest | None,
    project: str,
    environment: str,
    available: Mapping[str, object],
    kinds: Iterable[EventKind] = EVENT_KINDS,
) -> dict[str, str]:
    """Variable -> value for every sink taking one of `kinds`; a missing or empty secret is
    left out (the sink is then reported `not set`, never a failure)."""
    prefix = tenant_secret_variable(project, "")
    chosen: dict[str, str] = {}
    for kind in kinds:
        for target in targets(settings, manifest, project, environment, kind):
            for variable in (target.url_variable, target.key_variable):
                if variable is None:
                    continue
                name = variable.removeprefix(prefix) if target.owner == "tenant" else variable
                if target.owner == "tenant" and is_platform_credential(name, settings):
                    continue  # validation refuses it first; never hand a credential to a tenant
                value = available.get(name)
                if isinstance(value, str) and value:
                    chosen[variable] = value
    return chosen
