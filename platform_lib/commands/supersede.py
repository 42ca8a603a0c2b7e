"""`github superseded`: whether a newer run of the deploy workflow supersedes this run's
deploy of a tenant to an environment (`platform_lib.github.supersede` has the rule). The
production job asks it once approved, before anything deploys.

It never fails the job for GitHub's sake: when the runs cannot be listed, nothing is
superseded (a warning says why) and the deploy goes ahead, in its turn."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from platform_lib.commands import common
from platform_lib.errors import PlatformError
from platform_lib.github.client import GitHubClient
from platform_lib.github.naming import WORKFLOW_FILE
from platform_lib.github.settings import load_settings, resolve_repo
from platform_lib.github.supersede import Supersession, newer_runs, superseded_by
from platform_lib.report import notice_annotation, warning_annotation

TITLE = "superseded"


def _find(args: argparse.Namespace) -> Supersession | None:
    repo = resolve_repo(args.repo, load_settings(common.root(args)), os.environ)
    client = GitHubClient.from_environment(os.environ)
    runs = newer_runs(args.run, client.workflow_runs(repo, WORKFLOW_FILE, pages=1))
    jobs = {run.id: client.jobs(repo, run.id) for run in runs}
    return superseded_by(args.run, runs, jobs, args.project, args.env)


def cmd_superseded(args: argparse.Namespace) -> int:
    warning = None
    try:
        found = _find(args)
    except PlatformError as exc:  # GitHub's refusals, no token: not a reason to stop a deploy
        found, warning = None, f"cannot tell whether a newer run supersedes this one ({exc})"
    note = found.note(args.project, args.env) if found else ""
    if args.format == "json":
        print(json.dumps({
            "superseded_by": found.run_id if found else None,
            "run_url": found.run_url if found else None,
            "note": note or None,
            "warning": warning,
        }, sort_keys=True))  # fmt: skip
    elif warning:
        print(warning_annotation(warning, TITLE), flush=True)
    elif found:
        print(notice_annotation(note, TITLE), flush=True)
    if args.github_output:
        with Path(args.github_output).open("a", encoding="utf-8") as out:
            out.write(f"by={found.run_id if found else ''}\n")
            out.write(f"url={found.run_url if found else ''}\n")
    if args.summary and found:
        with Path(args.summary).open("a", encoding="utf-8") as out:
            out.write(f"### Superseded\n\n{note}\n")
    return 0


def register(gh: Any) -> None:
    p = gh.add_parser(
        "superseded",
        help="whether a newer deploy run supersedes this run's deploy of a tenant (exit 0)",
    )
    common.add_root(p)
    p.add_argument("--repo", metavar="OWNER/NAME", help="platform repository (as for trigger)")
    common.add_target(p, default_env="production")
    p.add_argument("--run", type=int, required=True, metavar="ID", help="this workflow run")
    p.add_argument("--format", choices=("json", "github"), default="json")
    p.add_argument(
        "--github-output", metavar="FILE", help="append by=<run id or empty> and url=<its URL>"
    )
    p.add_argument("--summary", metavar="FILE", help="append the note ($GITHUB_STEP_SUMMARY)")
    p.set_defaults(func=cmd_superseded)
