"""Builders of plan steps: each returns argv tuples calling the host runtime (planning/runtime/) or
docker; nothing here runs anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from platform_lib.models.plan import OnFailure, Step
from platform_lib.models.project import Backup, Route
from platform_lib.models.settings import Proxy, Registry, Timeouts


def step(
    id: str,
    title: str,
    argv: tuple[str, ...],
    timeout: int,
    on_failure: OnFailure,
    stdin_file: str | None = None,
) -> Step:
    return Step(
        id=id, title=title, argv=argv, timeout=timeout, on_failure=on_failure, stdin_file=stdin_file
    )


def compose(compose_project: str) -> tuple[str, ...]:
    """`docker compose` for a release, run inside its directory: the release's own files and
    .env, under the tenant's compose project. Relative, so a rollback can reuse it for any
    release directory."""
    return (
        "docker",
        "compose",
        "--project-name",
        compose_project,
        "--file",
        "docker-compose.yml",
        "--file",
        "platform.override.yml",
        "--env-file",
        ".env",
    )


def backup_step(
    backup: Backup, base_dir: str, release: str, compose_project: str, timeout: int
) -> Step:
    target = f"{base_dir}/releases/{release}/backups"
    if backup.kind == "pg_dump":
        argv: tuple[str, ...] = (
            "platform_backup_pg_dump",
            base_dir,
            target,
            compose_project,
            backup.service,
            backup.database,
            backup.user,
            backup.name,
        )
    else:
        argv = (
            "platform_backup_volume",
            base_dir,
            target,
            compose_project,
            backup.volume,
            backup.name,
        )
    return step(
        f"backup-{backup.name}", f"Back up {backup.name} ({backup.kind})", argv, timeout, "abort"
    )


@dataclass(frozen=True)
class TenantImages:
    """The repositories of the platform's registry namespace a tenant may run
    (config/repositories.py): `own` is `<registry>/<namespace>/<project>` (that repository
    and `<project>-...`), `shared` the namespace's shared repositories."""

    own: str
    shared: tuple[str, ...]

    @classmethod
    def of(cls, registry: Registry, project: str) -> TenantImages:
        own = f"{registry.host}/{registry.namespace}/{project}"
        return cls(own, tuple(registry.shared_repositories))


def policy_step(
    base: str,
    release: str,
    compose_project: str,
    grants: Sequence[str] = (),
    shared_networks: Sequence[str] = (),
    images: TenantImages | None = None,
) -> Step:
    """Before anything is pulled or started: the host refuses a release whose compose model,
    as `docker compose config` resolves it there, breaks the tenant security policy (defence
    in depth behind validation). `grants` are the policy rule ids granted to the tenant,
    `shared_networks` the networks the platform lets tenants join, `images` which
    repositories of the platform's registry namespace the tenant may run."""
    granted = tuple(arg for rule in sorted(set(grants)) for arg in ("--grant", rule))
    shared = tuple(
        arg for name in sorted(set(shared_networks)) for arg in ("--shared-network", name)
    )
    if images is not None:
        shared += ("--tenant-images", images.own)
        shared += tuple(
            arg for name in sorted(set(images.shared)) for arg in ("--shared-image", name)
        )
    return step(
        "policy",
        "Check the release against the tenant security policy",
        ("platform_policy_check", base, release, compose_project, *granted, *shared, "--",
         *compose(compose_project)),
        60,
        "abort",
    )  # fmt: skip


def health_step(
    number: int, route: Route, compose_project: str, timeout: int, prefix: str = ""
) -> Step:
    """The HTTP check of the `number`th route (numbered: two routes may share service+port)."""
    return step(
        f"{prefix}health-{number}-{route.service}",
        f"HTTP health of {route.service}:{route.port}{route.health_path}",
        (
            "platform_http_check",
            compose_project,
            route.service,
            str(route.port),
            route.health_path,
            str(timeout),
        ),
        timeout + 10,
        "rollback" if not prefix else "abort",
    )


def lock_step(base: str, actor: str, holder: str, timeouts: Timeouts, compose_project: str,
              proxy: Proxy | None) -> Step:  # fmt: skip
    """The first step of every plan: once it holds the lock, a rollout a killed deploy left
    unfinished is undone (runtime platform_canary_recover), whatever this plan's steps are."""
    return step(
        "lock",
        "Take the deploy lock",
        ("platform_lock_acquire", base, actor, holder, str(timeouts.lock_wait),
         str(timeouts.lock_expiry), compose_project, *proxy_args(proxy)),
        timeouts.lock_wait + 30,
        "abort",
    )  # fmt: skip


def precondition_step(base: str, current_release: str | None) -> Step:
    """Under the lock, the host must still be what the plan was made against."""
    return step("precondition", "Check the host is as planned",
                ("platform_expect_current", base, current_release or ""), 30, "abort")  # fmt: skip


def proxy_args(proxy: Proxy | None) -> tuple[str, str, str, str]:
    """PROXY_DIR NGINX_CONF PID_FILE DRAIN of the runtime's switch (empty: no proxy)."""
    if proxy is None:
        return ("", "", "", "0")
    return (proxy.dir, proxy.nginx_conf, proxy.pid_file, str(proxy.drain))


def proxy_preflight_step(proxy: Proxy) -> Step:
    """Before anything changes: nginx runs and its config passes `nginx -t`."""
    return step("proxy-preflight", "Check nginx runs and its config passes nginx -t",
                ("platform_proxy_preflight", proxy.nginx_conf, proxy.pid_file), 60,
                "abort")  # fmt: skip


def switch_timeout(timeouts: Timeouts, proxy: Proxy | None) -> int:
    """Services in place, then the routed ones beside the old, then the drain."""
    return 2 * timeouts.up + (proxy.drain if proxy else 0) + 60


def switch_step(base: str, release: str, compose_project: str, timeouts: Timeouts,
                title: str, proxy: Proxy | None) -> Step:  # fmt: skip
    return step(
        "switch",
        title,
        ("platform_switch", base, release, compose_project, str(timeouts.up),
         *proxy_args(proxy), "--", *compose(compose_project)),
        switch_timeout(timeouts, proxy),
        "rollback",
    )  # fmt: skip


def health_steps(routes: Sequence[Route], compose_project: str, timeouts: Timeouts,
                 prefix: str = "") -> list[Step]:  # fmt: skip
    return [health_step(n, r, compose_project, timeouts.health, prefix)
            for n, r in enumerate(routes, 1)]  # fmt: skip


def unlock_step(base: str) -> Step:
    return step("unlock", "Release the deploy lock", ("platform_lock_release", base), 30, "warn")


def check_release_step(id: str, title: str, base: str, release: str, compose_project: str,
                       timeouts: Timeouts, on_failure: OnFailure,
                       proxy: Proxy | None) -> Step:  # fmt: skip
    """The HTTP checks recorded with a release (`current` for the one current points at);
    through the proxy when there is one."""
    via = (proxy.dir, str(proxy.http_port), str(proxy.https_port)) if proxy else ()
    return step(id, title,
                ("platform_check_release", base, release, compose_project, str(timeouts.health),
                 *via),
                timeouts.health * 4 + 10, on_failure)  # fmt: skip


def undo_steps(base: str, release: str, compose_project: str, timeouts: Timeouts,
               title: str, proxy: Proxy | None) -> list[Step]:  # fmt: skip
    """After a failed switch: bring back the release `current` still points at (the same
    switch, so routed services come back blue/green too), and verify it with the health
    checks recorded with it."""
    restore = step(
        "rollback",
        title,
        ("platform_rollback", base, release, compose_project, str(timeouts.up),
         *proxy_args(proxy), "--", *compose(compose_project)),
        switch_timeout(timeouts, proxy),
        "abort",
    )  # fmt: skip
    verify = check_release_step("rollback-health", "HTTP health of the restored release", base,
                                "current", compose_project, timeouts, "abort",
                                proxy)  # fmt: skip
    return [restore, verify]
