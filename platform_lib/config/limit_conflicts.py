"""Compose settings the engine refuses beside the limits the platform sets: the tenant's file
was fine alone, but with the override's `cpus` or `mem_limit` the containers would not be
created, so the deploy would fail on the host. Validation says so first, and where.

- `cpu_quota` / `cpu_period` next to `cpus` (Docker: "Nano CPUs and CPU Period/Quota cannot
  both be set");
- `memswap_limit` below the memory limit (Docker refuses it), or -1, which would let the
  container use the host's swap without bound;
- a memory reservation above the memory limit (Docker refuses it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from platform_lib.config.compose_policy import services
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.config.resource_limits import (
    Unreadable,
    effective_limits,
    per_environment,
    resolved,
    show,
)
from platform_lib.errors import Problem
from platform_lib.models.limits import ResourceLimits
from platform_lib.models.sizes import SizeError, parse_size

RULE = "compose.limit-conflict"


def conflict_problems(config: PlatformConfig, tenant: Tenant) -> list[Problem]:
    specs = services(tenant.compose)
    found: dict[str, list[Problem]] = {}
    for env, env_file in tenant.env_files.items():
        variables = env_file.values()
        found[env] = [
            Problem(tenant.compose.locate(list(path)), RULE, message, hint)
            for name, limits in effective_limits(config.settings.limits, tenant, env).items()
            for path, message, hint in _conflicts(name, specs[name], limits, variables)
        ]
    return per_environment(found)


def _conflicts(
    name: str, spec: Mapping[str, Any], limits: ResourceLimits, variables: Mapping[str, str]
) -> list[tuple[tuple[object, ...], str, str]]:
    found: list[tuple[tuple[object, ...], str, str]] = []
    at = ("services", name)
    if limits.cpus is not None:
        for key in ("cpu_quota", "cpu_period"):
            if key in spec:
                found.append((
                    (*at, key),
                    f"service {name!r} sets {key}, which the engine refuses beside the CPU "
                    f"limit the platform sets ({show('cpus', limits.cpus)})",
                    "remove it; ask for CPUs with cpus: (up to the platform's maximum) or "
                    "limits: in project.yml",
                ))  # fmt: skip
    if limits.memory is None:
        return found
    memory = show("memory", limits.memory)
    if "memswap_limit" in spec:
        swap = _size(spec["memswap_limit"], variables)
        if swap is None or swap < limits.memory:
            what = "-1 (no limit on swap)" if swap == -1 else "a value below it"
            what = "a value the platform cannot read" if swap is None else what
            found.append((
                (*at, "memswap_limit"),
                f"service {name!r} sets memswap_limit to {what}, beside the memory limit "
                f"{memory}",
                f"remove it (Docker then allows as much swap as memory), or set it to at "
                f"least {memory}",
            ))  # fmt: skip
    deploy = spec.get("deploy")
    resources = deploy.get("resources") if isinstance(deploy, dict) else None
    reserved = resources.get("reservations") if isinstance(resources, dict) else None
    candidates: list[tuple[tuple[object, ...], Any]] = [
        ((*at, "mem_reservation"), spec.get("mem_reservation"))
    ]
    if isinstance(reserved, dict):
        candidates.append(((*at, "deploy", "resources", "reservations", "memory"),
                           reserved.get("memory")))  # fmt: skip
    for path, raw in candidates:
        if raw is None:
            continue
        size = _size(raw, variables)
        if size is None or size > limits.memory:
            found.append((
                path,
                f"service {name!r} reserves more memory than its limit {memory}"
                if size is not None
                else f"service {name!r} reserves memory the platform cannot read",
                f"reserve at most {memory}, or ask for a higher limit (limits: in project.yml)",
            ))  # fmt: skip
    return found


def _size(raw: Any, variables: Mapping[str, str]) -> int | None:
    try:
        value = resolved(raw, variables)
        return -1 if isinstance(value, str) and value.strip() == "-1" else parse_size(value)
    except (SizeError, Unreadable):
        return None
