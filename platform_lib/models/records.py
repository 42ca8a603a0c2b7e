"""Records that cross the SSH boundary from the host: the release record (`release.json`), the
history event (`history.jsonl`), the lock holder (`lock/holder.json`), the record of each
backup (`backups/<file>.json`), the list of backups and the decisions of a canary rollout.
The runtime writes them with its one JSON writer (runtime json: platform_json_object); these
models read them, and their JSON Schemas are in `schemas/`.

Every record carries `version: 1`. Records written before versioning carry none and read as
version 1: their keys are a subset of these (every key added since has a default)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from platform_lib.models.plan import PlanGrant


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Digests(Record):
    services: dict[str, str] = Field(default_factory=dict)
    """Service -> `repository@sha256:...` the release ran (every service whose image the plan
    knew)."""


class ReleaseDraft(Record):
    """What the plan knows of a release: written by the plan as `release.draft.json`; the host
    completes it into `release.json` once the release passed its checks."""

    version: Literal[1] = 1
    release: str
    project: str = ""
    environment: str = ""
    compose_project: str = ""
    actor: str = ""
    """Who deployed it."""
    platform_sha: str = ""
    """The platform repository's commit the plan was made from."""
    images: dict[str, str] = Field(default_factory=dict)
    """Built service -> image reference the plan deployed (tag or digest, as planned)."""
    grants: tuple[PlanGrant, ...] = ()
    """Exceptions to the tenant security policy the release runs with, with their reasons."""
    window_override: str = ""
    """The reason given for deploying it outside its deployment windows, if it was."""


class ReleaseRecord(ReleaseDraft):
    """`release.json`: the draft, and what only the host knew: the plan id, the time, the
    digests pulled and the outcome. Written only once the release passed its checks."""

    plan: str = ""
    deployed_at: str = ""
    outcome: str = ""
    """`deployed` (the only outcome a release record is written with)."""
    digests: Digests = Digests()


class CanaryFigures(Record):
    """One release's requests over a judged period, from the proxy's access log: every
    attempt nginx made at one of its containers."""

    requests: int = Field(ge=0)
    failures: int = Field(ge=0)
    """Attempts answered with a 5xx, or that got no answer (connection refused, timed out)."""
    p99_ms: int | None = None
    """p99 of the answered attempts' upstream response times (nearest rank); None: none."""


CanaryVerdict = Literal["pass", "fail", "not-enough-requests", "promoted"]


class CanaryDecision(Record):
    """How one canary step, or the warm period after the full switch, was judged: written by
    the runtime with its one JSON writer into `rollout/decisions.jsonl` and carried by the
    history event of the rollout."""

    version: Literal[1] = 1
    service: str
    step: str
    """`1`, `2`, ... a canary step; `warm` the warm period; `manual` a person's decision."""
    weight: int = Field(ge=0, le=100)
    """Percent of requests the new release had."""
    verdict: CanaryVerdict
    """`promoted`: a person finished the rollout (`rollout promote`) before it was judged."""
    reason: str = ""
    """Why it failed (or was not judged), with the figures."""
    new: CanaryFigures
    old: CanaryFigures
    decided_ms: int = 0
    """Unix time in milliseconds of the decision (the host's clock)."""


class RolloutState(Record):
    """`rollout/status.json` and the decisions so far: a canary rollout in progress (the
    deploy running it holds the lock)."""

    version: Literal[1] = 1
    release: str
    """The release being rolled out."""
    phase: str
    """`started`, `canary <service> step <n>`, `switched <service>`, `warm <service>`."""
    weight: int = Field(ge=0, le=100)
    """Percent of the service's requests on the new release."""
    since: str = ""
    """UTC, ISO 8601: when the phase began."""
    figures: CanaryFigures | None = None
    decisions: list[CanaryDecision] = Field(default_factory=list)


HistoryOutcome = Literal[
    "deployed",
    "aborted",
    "failed",
    "rollback-failed",
    "restored",
    "passed",
    "rolled-back",
    "promoted",
]


class HistoryEvent(Record):
    """One line of `history.jsonl`: a deploy, a rollback or a restore, and how it went."""

    version: Literal[1] = 1
    at: str
    """UTC, ISO 8601, the host's clock."""
    event: Literal["deploy", "rollback", "restore", "canary"]
    """What ran: a deploy plan, a rollback (a rollback plan, or a deploy's own rollback after
    a failed switch), a restore of a backup."""
    outcome: HistoryOutcome
    """deploy: `deployed`, `aborted` (before the switch), `failed` (after it: a rollback
    follows), `rollback-failed`; rollback: `restored`, or as a deploy; restore: `restored`,
    `failed`."""
    actor: str = ""
    plan: str = ""
    release: str = ""
    """The release deployed, switched back to, or restored into."""
    step: str = ""
    """The step that failed."""
    reason: str = ""
    """Why it failed, as the host saw it."""
    from_release: str = ""
    """A manual rollback: the release that was current before."""
    failed_release: str = ""
    """A deploy's own rollback: the release that failed."""
    backup: str = ""
    """A restore: `<release>/<file>` of the backup."""
    sha256: str = ""
    """A restore: the checksum the backup was checked against."""
    window_override: str | None = None
    """A deploy outside its deployment windows: the reason given for the override."""
    decision: CanaryDecision | None = None
    """A canary event: how a step of the rollout (or its warm period) was judged, with the
    figures; outcome `passed`, `rolled-back` (traffic back on the previous release) or
    `promoted` (a person finished the rollout)."""
    client_disconnected: bool = False
    """A deploy or rollback: its client had gone away by the time of this event (the script
    runs on to its end; its progress is in `logs/` on the host)."""


class LockHolder(Record):
    """`lock/holder.json`: who holds a tenant+environment's deploy lock."""

    version: Literal[1] = 1
    actor: str = ""
    release: str = ""
    """The release being deployed, or what else holds it (`restore <backup>`,
    `proxy-refresh`)."""
    plan: str = ""
    started: str = ""
    expires_epoch: int = 0
    """After this (Unix time), a deploy may take the lock over."""
    pid: int = 0


class BackupRecord(Record):
    """`backups/<file>.json`, beside the backup it describes: written as the backup is taken;
    a restore checks the file against its `sha256` first."""

    version: Literal[1] = 1
    kind: Literal["pg_dump", "volume"]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    """Of the backup file, as it was written."""
    bytes: int = Field(ge=0)
    taken_at: str
    """UTC, ISO 8601, the host's clock."""


class BackupEntry(Record):
    """One line of `platform_backups`: a backup file on the host and its record."""

    version: Literal[1] = 1
    backup: str
    """`<release>/<file>`: what `restore --backup` takes."""
    bytes: int = Field(ge=0)
    """The file's size now."""
    record: BackupRecord | None = None
    """None: the backup has no record (taken before records were), and cannot be restored."""
