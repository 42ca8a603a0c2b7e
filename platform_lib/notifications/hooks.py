"""The commands' one call: announce a deploy, rollback or review to its sinks. The edge of
notifications: it reads the environment (sink secrets, the CI run) and the clock; what it
sends is made by `events` and `payloads`, and `deliver` keeps it within its time bounds.
Nothing here can fail or change the command's own result."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from platform_lib.config.loader import PlatformConfig
from platform_lib.errors import PlatformError
from platform_lib.models.notifications import Event
from platform_lib.models.plan import Plan, WindowOverride
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings
from platform_lib.notifications import events
from platform_lib.notifications.deliver import Delivery, Poster, deliver, urllib_post
from platform_lib.notifications.routing import targets
from platform_lib.planning.builder import PlanRequest
from platform_lib.planning.rollback import RollbackRequest
from platform_lib.planning.windows import check_window, effective_windows
from platform_lib.transport.base import LineSink

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def run_links(environ: Mapping[str, str], app_repository: str | None) -> events.RunLinks:
    """The CI run (GitHub Actions' own variables) and the app commit the workflow deploys
    (`PLATFORM_APP_COMMIT`, from the deploy request), when set."""
    server = environ.get("GITHUB_SERVER_URL") or "https://github.com"
    repo, run = environ.get("GITHUB_REPOSITORY"), environ.get("GITHUB_RUN_ID")
    commit = environ.get("PLATFORM_APP_COMMIT") or None
    return events.RunLinks(
        run_url=f"{server}/{repo}/actions/runs/{run}" if repo and run else None,
        app_repository=app_repository if commit else None,
        app_commit=commit,
        server_url=server,
    )


def announce(settings: PlatformSettings, manifest: ProjectManifest | None,
             found: Sequence[Event], environ: Mapping[str, str], log: LineSink,
             post: Poster = urllib_post) -> list[Delivery]:  # fmt: skip
    done: list[Delivery] = []
    for event in found:
        sinks = targets(settings, manifest, event.project, event.environment, event.kind)
        if sinks:
            done += deliver(event, sinks, environ, settings.notification_limits, log, post)
    return done


def _override(config: PlatformConfig, manifest: ProjectManifest, project: str, env: str,
              now: datetime, reason: str | None) -> WindowOverride | None:  # fmt: skip
    windows = effective_windows(config.settings, manifest, env)
    return check_window(windows, project, env, now, reason)


def notified(
    config: PlatformConfig,
    subject: events.Subject,
    run: Callable[[], Plan],
    *,
    images: Mapping[str, str] | None = None,
    at: datetime | None = None,
    outside_window: str | None = None,
    environ: Mapping[str, str] = os.environ,
    log: LineSink,
    clock: Clock = _now,
    post: Poster = urllib_post,
) -> Plan:
    """`run()` (a deploy or a rollback), announced: started (deploys: `images` is given),
    then succeeded / rolled back, or failed. Its plan or its exception is passed on as is."""
    tenant = config.tenants.get(subject.project)
    if tenant is None or subject.environment not in config.settings.environments:
        return run()  # the command refuses it itself; nothing started
    manifest = tenant.manifest
    subject = events.Subject(subject.project, subject.environment, subject.actor,
                             run_links(environ, manifest.app_repository))  # fmt: skip
    if images is not None:
        try:
            override = _override(config, manifest, subject.project, subject.environment,
                                 at or clock(), outside_window)  # fmt: skip
        except PlatformError:
            return run()  # windows closed, no override: the deploy refuses, nothing started
        announce(config.settings, manifest, events.started(subject, clock(), images, override),
                 environ, log, post)  # fmt: skip
    try:
        plan = run()
    except Exception as error:
        announce(config.settings, manifest, [events.failed(subject, clock(), error)],
                 environ, log, post)  # fmt: skip
        raise
    announce(config.settings, manifest, [events.finished(subject, clock(), plan)], environ, log,
             post)  # fmt: skip
    return plan


def notify_review(
    settings: PlatformSettings | None,
    manifests: Mapping[str, ProjectManifest | None],
    review: events.Review,
    log: LineSink,
    environ: Mapping[str, str] = os.environ,
    clock: Clock = _now,
    post: Poster = urllib_post,
) -> None:
    """An approval or rejection of a gate, announced once per project it releases."""
    if settings is None or review.environment not in settings.environments:
        return
    for project, manifest in manifests.items():
        links = run_links(environ, manifest.app_repository if manifest else None)
        links = replace(links, run_url=review.run_url or links.run_url)
        subject = events.Subject(project, review.environment, review.actor, links)
        announce(settings, manifest, [events.reviewed(subject, clock(), review)], environ, log,
                 post)  # fmt: skip


def notified_deploy(
    config: PlatformConfig, request: PlanRequest, run: Callable[[], Plan], log: LineSink
) -> Plan:
    """The deploy `run()` of `request`, announced (the deploy command's one call)."""
    subject = events.Subject(request.project, request.environment, request.actor)
    return notified(config, subject, run, images=request.images, at=request.now,
                    outside_window=request.outside_window, log=log)  # fmt: skip


def notified_rollback(
    config: PlatformConfig, request: RollbackRequest, run: Callable[[], Plan], log: LineSink
) -> Plan:
    """The rollback `run()` of `request`, announced: rolled back, or failed."""
    subject = events.Subject(request.project, request.environment, request.actor)
    return notified(config, subject, run, log=log)
