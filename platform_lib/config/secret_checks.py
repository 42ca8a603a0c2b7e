"""A tenant's config may not ask for the platform's credentials, by any route: as a declared
secret, as a `${VAR}` the host's compose would fill in from the deploy's environment, as a
compose secret taken from the environment, or as a key of its env files."""

from __future__ import annotations

from platform_lib.config.compose_policy import string_values
from platform_lib.config.credentials import is_platform_credential
from platform_lib.config.interpolation import InterpolationSyntaxError, find_references
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.errors import Location, Problem

HINT = (
    "the platform's credentials (registry token, SSH keys, GitHub tokens, GITHUB_*, "
    "ACTIONS_*, RUNNER_*) are never given to a tenant; declare a secret of the "
    "tenant's own under another name"
)


def platform_secret_problems(config: PlatformConfig, tenant: Tenant) -> list[Problem]:
    settings = config.settings
    problems: list[Problem] = []
    for index, name in enumerate(tenant.manifest.secrets):
        if is_platform_credential(name, settings):
            problems.append(
                Problem(
                    tenant.manifest_doc.locate(["secrets", index]),
                    "project.platform-secret",
                    f"secret {name} is one of the platform's own credentials",
                    HINT,
                )
            )
    for env, sinks in tenant.manifest.notifications.items():
        for index, sink in enumerate(sinks):
            for key in ("url_secret", "key_secret"):
                variable = getattr(sink, key, None)
                if variable is not None and is_platform_credential(variable, settings):
                    problems.append(
                        Problem(
                            tenant.manifest_doc.locate(["notifications", env, index, key]),
                            "project.platform-secret",
                            f"notification sink variable {variable} is one of the platform's "
                            "own credentials",
                            HINT,
                        )
                    )
    for path, value in string_values(tenant.compose.data):
        if "$" not in value:
            continue
        try:
            names = {ref.name for ref in find_references(value)}
        except InterpolationSyntaxError:
            continue  # compose.interpolation-syntax
        for name in sorted(n for n in names if is_platform_credential(n, settings)):
            problems.append(
                Problem(
                    tenant.compose.locate(path),
                    "compose.platform-secret",
                    f"${{{name}}} is one of the platform's credentials: compose on the "
                    "host would fill it in",
                    HINT,
                )
            )
    data = tenant.compose.data if isinstance(tenant.compose.data, dict) else {}
    for section in ("secrets", "configs"):
        entries = data.get(section)
        for key, spec in entries.items() if isinstance(entries, dict) else ():
            taken = spec.get("environment") if isinstance(spec, dict) else None
            if isinstance(taken, str) and is_platform_credential(taken, settings):
                problems.append(
                    Problem(
                        tenant.compose.locate([section, key, "environment"]),
                        "compose.platform-secret",
                        f"{section[:-1]} {key!r} takes {taken}, one of the platform's "
                        "credentials, from the deploy's environment",
                        HINT,
                    )
                )
    for env_file in tenant.env_files.values():
        for entry in env_file.entries:
            if is_platform_credential(entry.key, settings):
                problems.append(
                    Problem(
                        Location(env_file.file, entry.line, entry.column),
                        "env.platform-secret",
                        f"{entry.key} is one of the platform's credentials",
                        HINT,
                    )
                )
    return problems
