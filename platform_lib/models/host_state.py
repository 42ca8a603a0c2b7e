"""The host facts: what a host reports about one tenant+environment (releases, current, lock,
containers, routes), written by the runtime's `platform_facts` from the records it keeps."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from platform_lib.models.plan import ServerFacts
from platform_lib.models.records import LockHolder, Record, ReleaseRecord, RolloutState

__all__ = [
    "HostState",
    "LockHolder",
    "ProxyRefreshed",
    "ReleaseRecord",
    "RollbackFacts",
    "RouteState",
]


class RouteState(Record):
    """A route as nginx serves it on the host."""

    route: int
    mode: str
    """`tls`, or `plain` while its certificate is missing."""
    domain: str
    certificate: str
    """The certificate's directory."""
    certificate_expires: str = ""
    """openssl's `notAfter`, e.g. `Jan 31 12:00:00 2027 GMT`; empty without a certificate."""


class HostState(Record):
    """`platform_facts`: one JSON object."""

    version: Literal[1] = 1
    current_release: str | None = None
    current: ReleaseRecord | None = None
    releases: list[ReleaseRecord] = Field(default_factory=list)
    """Releases that completed a deploy, newest first."""
    lock: LockHolder | None = None
    containers: list[dict[str, Any]] = Field(default_factory=list)
    """`docker ps` of the compose project, when asked for."""
    routes: list[RouteState] = Field(default_factory=list)
    """The tenant's routes in the host's proxy, when asked for."""
    rollout: RolloutState | None = None
    """A canary rollout in progress."""

    @field_validator("current_release", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return value or None

    def facts(self, verified_from: HostState | None = None) -> ServerFacts:
        """Facts for a plan; `verified_from` is the state of the environment this one deploys
        after, whose current release's digests are what promotion deploys."""
        verified = {}
        if verified_from is not None and verified_from.current is not None:
            verified = dict(verified_from.current.digests.services)
        current = dict(self.current.digests.services) if self.current is not None else {}
        return ServerFacts(
            current_release=self.current_release, current_images=current, verified_images=verified
        )


class RollbackFacts(Record):
    """`platform_canary_rollback`: the host's state, and whether a warm period was running and
    its deploy asked to go back to the warm previous release (`rollback` without `--to`)."""

    version: Literal[1] = 1
    asked: bool
    state: HostState


class ProxyRefreshed(Record):
    """`platform_proxy_refresh`: what nginx serves of a tenant+environment after a refresh."""

    version: Literal[1] = 1
    routes: Literal["installed", "none", "rollout"]
    """`installed`: the current release's routes; `none`: no current release with routes;
    `rollout`: a rollout in progress kept its split (its upstreams written again by its
    weights, its sites left to its deploy)."""
    release: str | None = None
    """The release those routes are of (for `rollout`: the release rolling out)."""
    undone: bool = False
    """A rollout left unfinished (its deploy killed) was undone first: its new containers
    removed, the old ones unpaused and every request back on the current release."""
    undone_release: str | None = None
    """The release of that rollout (none when it was left before it named one)."""
    finished_release: str | None = None
    """A rollout left as it finished (killed after it recorded this release, the current one)
    was finished first: its warm containers stopped. Not undone: the new release serves."""
