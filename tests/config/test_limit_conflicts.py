"""Compose settings the engine refuses beside the platform's limits: exact location, message
and hint, for each environment."""

from __future__ import annotations

import pytest
from paiss_tree import ANCHOR, BASE, COMPOSE, PROJECT

from platform_lib.config.validate import validate_sources
from platform_lib.errors import Location, Problem

CPU_HINT = (
    "remove it; ask for CPUs with cpus: (up to the platform's maximum) or limits: in project.yml"
)


def conflicts(compose: str, project: str = "") -> list[Problem]:
    files = dict(BASE)
    files[COMPOSE] = BASE[COMPOSE].replace(ANCHOR, ANCHOR + compose)
    files[PROJECT] = BASE[PROJECT] + project
    return [p for p in validate_sources(files)[1] if p.rule == "compose.limit-conflict"]


def each_env(where: tuple[int, int, str], message: str, hint: str) -> list[Problem]:
    """The problem every environment has: reported once, naming none."""
    return [Problem(Location(COMPOSE, *where), "compose.limit-conflict", message, hint)]


@pytest.mark.parametrize("key", ["cpu_quota", "cpu_period"])
def test_a_cpu_quota_beside_the_platforms_cpus(key: str) -> None:
    assert conflicts(f"    {key}: 50000\n") == each_env(
        (5, 5, f"/services/web/{key}"),
        f"service 'web' sets {key}, which the engine refuses beside the CPU limit the "
        "platform sets (1)",
        CPU_HINT,
    )


@pytest.mark.parametrize(
    ("value", "what"),
    [("-1", "-1 (no limit on swap)"), ("256m", "a value below it"),
     ("${SWAP}", "a value the platform cannot read")],
)  # fmt: skip
def test_a_swap_limit_below_the_memory_limit_or_none(value: str, what: str) -> None:
    assert conflicts(f"    memswap_limit: {value}\n") == each_env(
        (5, 5, "/services/web/memswap_limit"),
        f"service 'web' sets memswap_limit to {what}, beside the memory limit 512m",
        "remove it (Docker then allows as much swap as memory), or set it to at least 512m",
    )


def test_a_memory_reservation_above_the_limit_in_either_form() -> None:
    extra = "    mem_reservation: 1g\n    deploy: {resources: {reservations: {memory: 2g}}}\n"
    hint = "reserve at most 512m, or ask for a higher limit (limits: in project.yml)"
    message = "service 'web' reserves more memory than its limit 512m"
    assert conflicts(extra) == sorted(
        each_env((5, 5, "/services/web/mem_reservation"), message, hint)
        + each_env((6, 41, "/services/web/deploy/resources/reservations/memory"), message, hint)
    )


def test_what_fits_the_limits() -> None:
    extra = "    memswap_limit: 1g\n    mem_reservation: 256m\n    mem_limit: 1g\n"
    assert conflicts(extra) == []
    assert conflicts("    mem_reservation: 2g\n", "limits:\n  web: {memory: 2g}\n") == []
