"""How the Deploy Project workflow spreads a run's tenants over its matrices. Pure.

Each tenant of a run is one leg: a call of the per-tenant workflow (staging, its approval
gates, production). GitHub expands a matrix into at most 256 jobs, so the legs are cut into
chunks of at most `MATRIX_LIMIT`, one per chunk job of the workflow (`tenants-1` ..
`tenants-<CHUNK_SLOTS>`); all chunks run at once.

A leg deploys one environment at a time, so it stands on one host at a time; a chunk's
`max-parallel` bounds its legs in flight. Every host's `max_parallel_deploys` is shared out
among the chunks holding tenants of that host, and a chunk takes the smallest share of its
hosts: the legs in flight on a host, over all chunks, never exceed the host's setting (except
that a chunk always runs at least one leg, so a host whose tenants span more chunks than its
setting sees one per chunk). Legs are sorted by their hosts before they are cut, so a host's
tenants fill as few chunks as they can.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MATRIX_LIMIT = 256
"""GitHub's limit on the jobs one matrix expands into."""
CHUNK_SLOTS = 4
"""How many chunk jobs deploy-project.yml has (`tenants-1` .. `tenants-4`)."""


class TooManyTenants(ValueError):
    """More legs than the workflow's chunk jobs can hold."""


@dataclass(frozen=True)
class Leg:
    project: str
    images: str
    """SERVICE=REF lines (the request's images; empty: each environment keeps what runs)."""
    gates: tuple[int, ...]
    """The extra approval gates of its production deploy (1..N-1 for `approvals: N`)."""
    hosts: tuple[str, ...]
    """The hosts it deploys to, in the order it deploys."""
    approvals: int = 0
    """The distinct approvals its production deploy needs (0: not gated, or no production)."""

    def entry(self) -> dict[str, Any]:
        """The leg as a matrix entry: `matrix.project`, `matrix.images`, `matrix.gates` and
        `matrix.approvals` (0 when its production deploy needs none)."""
        return {
            "project": self.project,
            "images": self.images,
            "gates": list(self.gates),
            "approvals": self.approvals,
        }


@dataclass(frozen=True)
class Chunk:
    legs: tuple[Leg, ...]
    max_parallel: int

    def matrix(self) -> dict[str, Any]:
        return {"include": [leg.entry() for leg in self.legs]}


def chunks(
    legs: Sequence[Leg],
    limits: Mapping[str, int],
    size: int = MATRIX_LIMIT,
    slots: int = CHUNK_SLOTS,
) -> list[Chunk]:
    """The legs cut into chunks of at most `size`, each with its `max-parallel`; `limits` is
    each host's max_parallel_deploys (a host not in it counts as 1)."""
    if len(legs) > size * slots:
        raise TooManyTenants(
            f"{len(legs)} tenants in one run; the workflow deploys at most {size * slots} "
            f"({slots} matrices of {size}): push the change in parts"
        )
    ordered = sorted(legs, key=lambda leg: (leg.hosts, leg.project))
    cut = [tuple(ordered[i : i + size]) for i in range(0, len(ordered), size)]
    holding: dict[str, list[int]] = {}
    for index, part in enumerate(cut):
        for host in sorted({h for leg in part for h in leg.hosts}):
            holding.setdefault(host, []).append(index)
    result = []
    for index, part in enumerate(cut):
        shares = [
            _share(limits.get(host, 1), holding[host].index(index), len(holding[host]))
            for host in sorted({h for leg in part for h in leg.hosts})
        ]
        result.append(Chunk(part, max(1, min([len(part), *shares]))))
    return result


def _share(limit: int, rank: int, among: int) -> int:
    """The `rank`-th of `among` chunks' part of a host's limit; the first get the remainder."""
    return limit // among + (1 if rank < limit % among else 0)
