"""How a run's tenants are cut into the workflow's matrices: at most 256 per matrix, and no
host sees more deploys at once, over all matrices, than its max_parallel_deploys."""

from __future__ import annotations

import pytest

from platform_lib.github.matrix import (
    CHUNK_SLOTS,
    MATRIX_LIMIT,
    Chunk,
    Leg,
    TooManyTenants,
    chunks,
)


def legs(count: int, hosts: tuple[str, ...], prefix: str = "t") -> list[Leg]:
    return [Leg(f"{prefix}{i:04d}", "", (), hosts) for i in range(count)]


def in_flight(parts: list[Chunk], host: str) -> int:
    """The most legs that can deploy onto `host` at once: each chunk's max-parallel, for the
    chunks holding one of its tenants."""
    return sum(p.max_parallel for p in parts if any(host in leg.hosts for leg in p.legs))


def test_600_tenants_on_one_pair_of_hosts_fill_three_matrices_within_the_hosts_limit() -> None:
    parts = chunks(legs(600, ("stage", "prod")), {"stage": 4, "prod": 6})
    assert [len(p.legs) for p in parts] == [256, 256, 88]
    assert [p.max_parallel for p in parts] == [2, 1, 1]  # stage's 4 shared out, prod's 6 too
    assert in_flight(parts, "stage") <= 4 and in_flight(parts, "prod") <= 6
    assert sorted(leg.project for p in parts for leg in p.legs) == [f"t{i:04d}" for i in range(600)]


def test_a_small_host_limits_only_the_matrices_holding_its_tenants() -> None:
    tenants = legs(400, ("big", "prod"), "a") + legs(200, ("small", "prod"), "b")
    parts = chunks(tenants, {"big": 12, "small": 2, "prod": 9})
    # sorted by hosts: big's 400 first, then small's 200
    assert [len(p.legs) for p in parts] == [256, 256, 88]
    assert {leg.hosts[0] for leg in parts[0].legs} == {"big"}
    assert {leg.hosts[0] for leg in parts[2].legs} == {"small"}
    assert [p.max_parallel for p in parts] == [3, 1, 1]
    for host, limit in {"big": 12, "small": 2, "prod": 9}.items():
        assert in_flight(parts, host) <= limit, host


def test_a_small_run_is_one_matrix_no_wider_than_its_tenants() -> None:
    [part] = chunks(legs(3, ("stage", "prod")), {"stage": 4, "prod": 4})
    assert (len(part.legs), part.max_parallel) == (3, 3)
    assert part.matrix()["include"][0] == {
        "project": "t0000", "images": "", "gates": [], "approvals": 0,
    }  # fmt: skip


def test_a_host_split_over_more_matrices_than_its_limit_still_runs_one_per_matrix() -> None:
    parts = chunks(legs(600, ("stage",)), {"stage": 2})
    assert [p.max_parallel for p in parts] == [1, 1, 1]


def test_an_unknown_host_counts_as_one_at_a_time() -> None:
    [part] = chunks(legs(5, ("elsewhere",)), {})
    assert part.max_parallel == 1


def test_no_tenants_no_matrix() -> None:
    assert chunks([], {"stage": 4}) == []


def test_more_tenants_than_the_matrices_hold_is_refused() -> None:
    with pytest.raises(TooManyTenants, match="at most 1024"):
        chunks(legs(MATRIX_LIMIT * CHUNK_SLOTS + 1, ("stage",)), {"stage": 4})


def test_the_cut_is_deterministic_whatever_the_order_given() -> None:
    tenants = legs(300, ("a",)) + legs(300, ("b",), "u")
    assert chunks(tenants, {"a": 3, "b": 5}) == chunks(tenants[::-1], {"a": 3, "b": 5})
