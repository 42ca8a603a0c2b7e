"""The limits every tenant container runs with, and the rules that bound what a tenant asks.

The platform writes each service's limits into the release's `platform.override.yml`, which
Compose merges over the tenant's file, so the platform's values are what the engine gets. A
service's limit of one resource is, in this order: the manifest's `limits:` for it, the compose
file's own (`mem_limit`/`cpus`/`pids_limit` or `deploy.resources.limits`), the platform's
default; never above the platform's maximum. The override writes it in both of Compose's forms
(the service key and `deploy.resources.limits`), as Compose refuses the two with distinct
values. Without `limits:` in configs/platform.yml only the manifest's limits are written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from platform_lib.config.compose_policy import services
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.config.tenant_policy import Unresolved, resolve
from platform_lib.errors import Problem
from platform_lib.models.limits import RESOURCES, PlatformLimits, ResourceLimits
from platform_lib.models.sizes import SizeError, format_size, parse_size

FORMS: Final = {
    "memory": ("mem_limit", "memory"),
    "cpus": ("cpus", "cpus"),
    "pids": ("pids_limit", "pids"),
}
"""Per resource: its service key, and its key under `deploy.resources.limits`."""
UNLIMITED: Final = float("inf")


class Unreadable(ValueError):
    """A compose-file limit the platform cannot read: why, and where (once known)."""

    def __init__(self, message: str, path: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True)
class ComposeLimit:
    """A limit as the compose file sets it: where, and its value (UNLIMITED for 0 or less)."""

    path: tuple[object, ...]
    key: str
    value: float


def read_value(resource: str, value: object) -> float:
    """A limit's value as a number (bytes, CPUs, processes); UNLIMITED for 0 or less."""
    try:
        number = float(parse_size(value)) if resource == "memory" else _number(resource, value)
    except (SizeError, ValueError) as exc:
        raise Unreadable(str(exc)) from None
    return UNLIMITED if number <= 0 else number


def _number(resource: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a number")
    number = float(value)
    if resource == "pids" and not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return number


def resolved(raw: Any, variables: Mapping[str, str]) -> Any:
    """`raw` with the env file's variables put in; Unreadable if it names any other."""
    value = resolve(raw, variables)
    if not isinstance(value, Unresolved):
        return value
    if value.names:
        raise Unreadable(f"is set through ${{{value.names[0]}}}, which the env file does not set")
    raise Unreadable("is set through a variable that cannot be put in")


def compose_limit(
    name: str, spec: Mapping[str, Any], resource: str, variables: Mapping[str, str]
) -> ComposeLimit | None:
    """The compose file's limit of one resource of service `name`, or None when it sets
    none. Raises Unreadable for a value it cannot read, or two forms that differ."""
    key, deploy_key = FORMS[resource]
    deploy = spec.get("deploy")
    resources = deploy.get("resources") if isinstance(deploy, dict) else None
    limits = resources.get("limits") if isinstance(resources, dict) else None
    found: list[ComposeLimit] = []
    candidates: list[tuple[tuple[object, ...], str, Any]] = [
        (("services", name, key), key, spec.get(key))
    ]
    if isinstance(limits, dict):
        at = ("services", name, "deploy", "resources", "limits", deploy_key)
        candidates.append((at, f"deploy.resources.limits.{deploy_key}", limits.get(deploy_key)))
    for path, what, raw in candidates:
        if raw is None:
            continue
        try:
            found.append(ComposeLimit(path, what, read_value(resource, resolved(raw, variables))))
        except Unreadable as exc:
            raise Unreadable(f"{what} {exc}", path) from None
    if len(found) == 2 and found[0].value != found[1].value:
        raise Unreadable(
            f"{found[0].key} and {found[1].key} differ (Compose refuses distinct values)",
            found[1].path,
        )
    return found[0] if found else None


def effective_limits(
    platform: PlatformLimits | None, tenant: Tenant, environment: str
) -> dict[str, ResourceLimits]:
    """Every service's limits in `environment` (an empty entry: nothing limited)."""
    variables = tenant.env_files[environment].values() if environment in tenant.env_files else {}
    result: dict[str, ResourceLimits] = {}
    for name, spec in sorted(services(tenant.compose).items()):
        asked = tenant.manifest.limits.get(name, ResourceLimits())
        values: dict[str, float] = {}
        for resource in RESOURCES:
            value = _effective(platform, asked, name, spec, resource, variables)
            if value is not None:
                values[resource] = value
        result[name] = ResourceLimits(
            memory=int(values["memory"]) if "memory" in values else None,
            cpus=values.get("cpus"),
            pids=int(values["pids"]) if "pids" in values else None,
        )
    return result


def _effective(
    platform: PlatformLimits | None,
    asked: ResourceLimits,
    name: str,
    spec: Mapping[str, Any],
    resource: str,
    variables: Mapping[str, str],
) -> float | None:
    request: float | None = getattr(asked, resource)
    maximum = platform.maximum_of(resource) if platform is not None else None
    if request is None and platform is not None and maximum is not None:
        try:
            own = compose_limit(name, spec, resource, variables)
        except Unreadable:
            own = None  # validation reports it; the default stands
        request = own.value if own is not None else platform.default_of(resource)
    if request is not None and maximum is not None and request > maximum:
        return maximum
    return request


def show(resource: str, value: float) -> str:
    """A limit as people (and Compose) read it: `512m`, `1.5`, `256`."""
    if resource == "memory":
        return format_size(int(value))
    return str(int(value)) if float(value).is_integer() else str(value)


def describe(limits: ResourceLimits) -> str:
    """`memory 512m, cpus 1, pids 256`: the resources limited, for people."""
    values = ((r, getattr(limits, r)) for r in RESOURCES)
    return ", ".join(f"{r} {show(r, v)}" for r, v in values if v is not None)


def limit_problems(config: PlatformConfig, tenant: Tenant) -> list[Problem]:
    """The manifest's `limits:` and the compose file's limits against the platform's maximum."""
    platform = config.settings.limits
    specs = services(tenant.compose)
    problems: list[Problem] = []
    for name, asked in tenant.manifest.limits.items():
        if name not in specs:
            problems.append(
                Problem(
                    tenant.manifest_doc.locate(["limits", name]),
                    "project.unknown-service",
                    f"service {name!r} is not in {tenant.compose.file}",
                    f"known services: {', '.join(sorted(specs)) or 'none'}",
                )
            )
        for resource in RESOURCES:
            value = getattr(asked, resource)
            maximum = platform.maximum_of(resource) if platform is not None else None
            if value is not None and maximum is not None and value > maximum:
                problems.append(
                    Problem(
                        tenant.manifest_doc.locate(["limits", name, resource]),
                        "project.limit-above-maximum",
                        f"service {name!r} asks for {resource} {show(resource, value)}, above "
                        f"the platform's maximum of {show(resource, maximum)}",
                        "ask for at most the maximum (limits.maximum in configs/platform.yml), "
                        "or ask the platform maintainers to raise it",
                    )
                )
    if platform is not None:
        problems += per_environment(
            {
                env: _compose_problems(tenant, platform, env_file.values())
                for env, env_file in tenant.env_files.items()
            }
        )
    return problems


def per_environment(found: Mapping[str, list[Problem]]) -> list[Problem]:
    """One problem where every environment has it; else one naming the environments that do
    (a value set through the env file may be fine in one and not in another)."""
    where: dict[Problem, list[str]] = {}
    for env, problems in sorted(found.items()):
        for problem in problems:
            where.setdefault(problem, []).append(env)
    return [
        p if len(envs) == len(found) else replace(p, message=f"{p.message} (in {', '.join(envs)})")
        for p, envs in where.items()
    ]


def _compose_problems(
    tenant: Tenant, platform: PlatformLimits, variables: Mapping[str, str]
) -> list[Problem]:
    problems: list[Problem] = []
    for name, spec in sorted(services(tenant.compose).items()):
        for resource in RESOURCES:
            maximum = platform.maximum_of(resource)
            if maximum is None:
                continue
            try:
                own = compose_limit(name, spec, resource, variables)
            except Unreadable as exc:
                problems.append(
                    Problem(
                        tenant.compose.locate(list(exc.path)),
                        "compose.limit-unreadable",
                        f"service {name!r}: {exc.message}",
                        f"write the limit itself (e.g. {show(resource, maximum)}) in one of the "
                        "two forms, or set it in project.yml limits:",
                    )
                )
                continue
            if own is None or own.value <= maximum:
                continue
            if resource == "pids" and own.value == UNLIMITED:
                continue  # policy.resources refuses it already
            value = "no limit" if own.value == UNLIMITED else show(resource, own.value)
            default = show(resource, platform.default_of(resource) or maximum)
            problems.append(
                Problem(
                    tenant.compose.locate(list(own.path)),
                    "compose.limit-above-maximum",
                    f"service {name!r} sets {own.key} to {value}, above the "
                    f"platform's maximum of {show(resource, maximum)}",
                    f"set at most {show(resource, maximum)}, or remove it to get the "
                    f"platform's default of {default}",
                )
            )
    return problems
