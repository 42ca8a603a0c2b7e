"""The platform's own credentials, and where a tenant's secrets come from.

A tenant's config must never receive the platform's credentials: the registry token, the SSH
keys of the hosts, the GitHub tokens, or anything the runner itself provides. And two tenants'
secrets of one name are two values: the deploy reads a tenant's secret `NAME` of project
`my-app` from `MY_APP__NAME` (on GitHub, the tenant's own environment supplies it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from platform_lib.models.settings import PlatformSettings

APP_DEPLOYMENTS_TOKEN: Final = "APP_DEPLOYMENTS_TOKEN"  # noqa: S105 a secret's name
"""The platform's token for Deployments in the tenants' app repositories (an optional secret)."""
BUILT_IN: Final = frozenset(
    {"DEPLOY_SSH_KEY", "PLATFORM_SSH_KEY", "GITHUB_TOKEN", "GH_TOKEN", APP_DEPLOYMENTS_TOKEN}
)
# Set by GitHub or the runner (ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN, ...).
RESERVED_PREFIXES: Final = ("GITHUB_", "ACTIONS_", "RUNNER_")


def notification_credentials(settings: PlatformSettings) -> frozenset[str]:
    """The variables of the platform's own notification sinks (webhook URLs, HMAC keys)."""
    return frozenset(
        name
        for environment in settings.environments.values()
        for sink in environment.notifications
        for name in (sink.url_secret, getattr(sink, "key_secret", None))
        if name is not None
    )


def platform_credentials(settings: PlatformSettings) -> frozenset[str]:
    token = settings.registry.token_secret
    return (
        BUILT_IN
        | notification_credentials(settings)
        | {*settings.platform_secrets, *([token] if token else [])}
    )


def is_reserved(name: str, credentials: Iterable[str]) -> bool:
    """`name` is one of `credentials`, a built-in one, or set by GitHub or the runner."""
    return name in BUILT_IN or name in set(credentials) or name.startswith(RESERVED_PREFIXES)


def is_platform_credential(name: str, settings: PlatformSettings) -> bool:
    return is_reserved(name, platform_credentials(settings))


def tenant_secret_variable(project: str, name: str) -> str:
    """The deploy environment's variable holding tenant `project`'s secret `name`. Project
    names have single dashes and no underscores, so no two (project, name) pairs share one."""
    return f"{project.upper().replace('-', '_')}__{name}"
