"""Builders of plan steps: each returns argv tuples calling the host runtime (runtime.sh) or
docker; nothing here runs anything."""

from __future__ import annotations

from platform_lib.models.plan import OnFailure, Step
from platform_lib.models.project import Backup, Route


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
