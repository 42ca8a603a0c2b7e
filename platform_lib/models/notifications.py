"""Notifications of deploys and approvals: where they go (sinks, in the configs) and what
they say (events, made by the command that acted). Secrets are named, never held: a sink
names the environment variable that holds its URL (and signing key)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from platform_lib.models.base import Model
from platform_lib.models.names import SecretName

EventKind = Literal[
    "deploy.started",
    "deploy.succeeded",
    "deploy.failed",
    "deploy.rolled_back",
    "deploy.window_override",
    "approval.waiting",
    "approval.approved",
    "approval.rejected",
]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)


class SlackSink(Model):
    """A Slack incoming webhook: a Block Kit message per event."""

    kind: Literal["slack"]
    url_secret: SecretName
    """Name of the environment variable holding the webhook URL (never the URL itself)."""
    events: list[EventKind] | None = None
    """The events sent here (default: all)."""


class WebhookSink(Model):
    """A generic JSON webhook, each request signed with HMAC-SHA256 (README: Notifications)."""

    kind: Literal["webhook"]
    url_secret: SecretName
    """Name of the environment variable holding the URL (never the URL itself)."""
    key_secret: SecretName
    """Name of the environment variable holding the HMAC key the requests are signed with."""
    events: list[EventKind] | None = None
    """The events sent here (default: all)."""


Sink = Annotated[SlackSink | WebhookSink, Field(discriminator="kind")]


class NotificationLimits(Model):
    """How long a notification may hold up the command that sends it. A sink that fails is
    reported in one log line; it never fails the deploy or the approval."""

    timeout: float = Field(default=3.0, gt=0, le=10)
    """Seconds per request."""
    retries: int = Field(default=2, ge=0, le=5)
    """Attempts after the first, on a timeout, a connection error, a 429 or a 5xx."""
    budget: float = Field(default=10.0, gt=0, le=30)
    """Seconds for all the requests of one event, every sink and retry included."""


class Approvals(Model):
    """Distinct approvals a gated deploy has, and needs."""

    given: int
    needed: int


class EventOverride(Model):
    """A deploy started outside its deployment windows, by an explicit override."""

    reason: str
    closed_by: str
    next_open: str | None


class Event(Model):
    """One thing that happened, as every sink is told it."""

    kind: EventKind
    project: str
    environment: str
    actor: str
    at: str
    """When, ISO 8601 in UTC."""
    release: str | None = None
    images: dict[str, str] = Field(default_factory=dict)
    """Service -> image reference (deploys), or the images a waiting run would deploy."""
    detail: str | None = None
    """Why a deploy failed, or the reviewer's comment."""
    run_url: str | None = None
    """The CI run that deployed, or that waits for approval."""
    app_repository: str | None = None
    app_commit: str | None = None
    """The app repository's commit the images were built from, when known."""
    commit_url: str | None = None
    """Where that commit is shown (its GitHub page)."""
    window_override: EventOverride | None = None
    approvals: Approvals | None = None
