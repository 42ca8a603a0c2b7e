"""github: the platform repository on GitHub, one command whose subcommands live in modules of
their own, registered here in the order `--help` lists them: sending and following deploy
requests (`github_dispatch`), deploys waiting for approval (`github_approvals`), the tenants'
environments (`github_environments`), then app deployments, supersession, release records
and the workflow's gate checks."""

from __future__ import annotations

from typing import Any

from platform_lib.commands import (
    app_deployment,
    github_approvals,
    github_dispatch,
    github_environments,
    github_gate,
    release_record,
    supersede,
)


def register(sub: Any) -> None:
    top = sub.add_parser(
        "github", help="notify, trigger, approve deploys on GitHub; set up environments"
    )
    gh = top.add_subparsers(dest="github_command", required=True, metavar="SUBCOMMAND")

    github_dispatch.register(gh)
    github_approvals.register(gh)
    github_environments.register(gh)
    app_deployment.register(gh)
    supersede.register(gh)
    release_record.register(gh)
    github_gate.register(gh)
