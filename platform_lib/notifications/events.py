"""The events of a deploy, a rollback and a review, made from what the command had: its
request, its plan or error, the gate reviewed. Pure: the clock and the CI run are arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from platform_lib.errors import DeployRolledBack, PlatformError
from platform_lib.models.notifications import Approvals, Event, EventKind, EventOverride
from platform_lib.models.plan import Plan, WindowOverride


@dataclass(frozen=True)
class RunLinks:
    """Where the command runs (a CI run) and which app commit it deploys, when known."""

    run_url: str | None = None
    app_repository: str | None = None
    app_commit: str | None = None
    server_url: str = "https://github.com"

    @property
    def commit_url(self) -> str | None:
        if not (self.app_repository and self.app_commit):
            return None
        return f"{self.server_url}/{self.app_repository}/commit/{self.app_commit}"


@dataclass(frozen=True)
class Subject:
    """What an event is about: one tenant's environment, who acts, and the CI context."""

    project: str
    environment: str
    actor: str
    links: RunLinks = RunLinks()

    def event(self, kind: EventKind, now: datetime, **fields: object) -> Event:
        return Event.model_validate(
            {
                "kind": kind,
                "project": self.project,
                "environment": self.environment,
                "actor": self.actor,
                "at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "run_url": self.links.run_url,
                "app_repository": self.links.app_repository,
                "app_commit": self.links.app_commit,
                "commit_url": self.links.commit_url,
                **fields,
            }
        )


def override_of(override: WindowOverride | None) -> EventOverride | None:
    if override is None:
        return None
    return EventOverride(
        reason=override.reason, closed_by=override.closed_by, next_open=override.next_open
    )


def started(subject: Subject, now: datetime, images: Mapping[str, str],
            override: WindowOverride | None) -> list[Event]:  # fmt: skip
    """A deploy starting; and, when it starts while its windows are closed, the override."""
    found = override_of(override)
    events = [subject.event("deploy.started", now, images=dict(images), window_override=found)]
    if found is not None:
        events.append(subject.event("deploy.window_override", now, images=dict(images),
                                    window_override=found, detail=found.reason))  # fmt: skip
    return events


def finished(subject: Subject, now: datetime, plan: Plan) -> Event:
    """A deploy that completed, or a rollback that did (the command's success)."""
    kind: EventKind = "deploy.rolled_back" if plan.kind == "rollback" else "deploy.succeeded"
    return subject.event(kind, now, release=plan.release, images=dict(plan.images),
                         window_override=override_of(plan.window_override))  # fmt: skip


def failed(subject: Subject, now: datetime, error: BaseException) -> Event:
    """A deploy or rollback that raised. A PlatformError's message is for users (no secret
    reaches it: the host's lines are redacted before an ApplyError is made); a bug's is not
    passed on, only its type."""
    detail = (
        str(error)
        if isinstance(error, PlatformError)
        else f"internal error ({type(error).__name__})"
    )
    # The host's typed outcome: a deploy that failed after the switch and was rolled back by
    # itself is a rollback; every other failure (aborted, rollback failed, unknown) a failure.
    kind: EventKind = (
        "deploy.rolled_back" if isinstance(error, DeployRolledBack) else "deploy.failed"
    )
    return subject.event(kind, now, detail=detail)


@dataclass(frozen=True)
class Review:
    """An approval or a rejection given to a gate, as the review command made it."""

    environment: str
    actor: str
    state: str
    """`approved` or `rejected`."""
    run_url: str
    images: Mapping[str, str]
    comment: str | None = None
    counted: tuple[int, int] | None = None
    """(given, needed) distinct approvals after this one, for a deploy needing several."""


def reviewed(subject: Subject, now: datetime, review: Review) -> Event:
    """An approval or a rejection given; an approval that leaves more distinct approvals to
    give is `approval.waiting`."""
    kind: EventKind = "approval.rejected" if review.state == "rejected" else "approval.approved"
    counted = review.counted
    approvals = Approvals(given=counted[0], needed=counted[1]) if counted else None
    if kind == "approval.approved" and counted and counted[0] < counted[1]:
        kind = "approval.waiting"
    return subject.event(
        kind, now, images=dict(review.images), detail=review.comment, approvals=approvals
    )


def waiting(subject: Subject, now: datetime, images: Mapping[str, str], needed: int) -> Event:
    """A run that reached a gated environment: `needed` distinct approvals, none given."""
    return subject.event(
        "approval.waiting", now, images=dict(images), approvals=Approvals(given=0, needed=needed)
    )
