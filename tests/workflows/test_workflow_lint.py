"""The workflows and actions pass the linters GitHub users rely on, with no finding and no
silent skip: actionlint (with shellcheck on every `run:`), zizmor's security audit (offline),
GitHub's published JSON Schemas, shellcheck on the actions' scripts. Plus the rules of this
repository that no linter knows: every `run:` step says `shell: bash` and takes its inputs from
`env:` (no `${{ }}` inside a script), actions download nothing, every job has a timeout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from workflows.actrun import REPO_ROOT, tool

from platform_lib.github.matrix import CHUNK_SLOTS
from platform_lib.github.naming import (
    TENANT_WORKFLOW_FILE,
    approval_environment,
    github_environment,
    parse_github_environment,
    parse_job_name,
)

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = [REPO_ROOT / "action.yml", *sorted((REPO_ROOT / "actions").glob("*/action.yml"))]
SCRIPTS = sorted((REPO_ROOT / "actions").glob("*/*.sh"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_files_exist() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"deploy-project.yml", "deploy-tenant.yml", "rollback-project.yml", "ci.yml"} <= names
    assert {p.parent.name for p in ACTIONS[1:]} == {"setup", "plan", "apply", "deploy"}


def test_actionlint_with_shellcheck_finds_nothing() -> None:
    shellcheck = tool("shellcheck")  # actionlint skips `run:` scripts silently without it
    done = run(tool("actionlint"), "-color=false", f"-shellcheck={shellcheck}",
               *map(str, WORKFLOWS))  # fmt: skip
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_zizmor_offline_finds_nothing() -> None:
    files = [str(p.relative_to(REPO_ROOT)) for p in (*WORKFLOWS, *ACTIONS)]
    done = run(tool("zizmor"), "--offline", "--no-progress", "--format", "plain", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout, done.stdout


def test_every_zizmor_ignore_says_why() -> None:
    for path in (*WORKFLOWS, *ACTIONS):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.search(r"#\s*zizmor:\s*ignore\[[^\]]+\](.*)$", line)
            if match:
                assert len(match[1].strip()) >= 20, f"{path.name}:{number}: give a reason"


@pytest.mark.parametrize(
    ("schema", "files"),
    [("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", ACTIONS)],
    ids=["workflows", "actions"],
)
def test_github_schemas_accept_them(schema: str, files: list[Path]) -> None:
    done = run(tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files))
    assert done.returncode == 0, done.stdout + done.stderr


def test_shellcheck_accepts_the_action_scripts() -> None:
    assert SCRIPTS
    done = run(tool("shellcheck"), "--severity=style", *map(str, SCRIPTS))
    assert done.returncode == 0, done.stdout + done.stderr


def steps_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"].get("steps") or [])
    return [step for job in document["jobs"].values() for step in job.get("steps") or []]


@pytest.mark.parametrize(
    "path", [*WORKFLOWS, *ACTIONS], ids=lambda p: str(p.relative_to(REPO_ROOT))
)
def test_run_steps_use_bash_and_take_inputs_from_env(path: Path) -> None:
    for step in steps_of(load(path)):
        if "run" in step:
            assert step.get("shell") == "bash", (
                f"{path.name}: {step['run'][:40]!r} needs shell: bash"
            )
            assert "${{" not in step["run"], (
                f"{path.name}: pass values through env:, not ${{{{ }}}}"
            )


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_actions_are_composite_and_download_nothing(path: Path) -> None:
    action = load(path)
    assert action["runs"]["using"] == "composite"
    assert all("uses" not in step for step in steps_of(action)), "no `uses:` in the actions"
    for name, spec in {**action.get("inputs", {}), **action.get("outputs", {})}.items():
        assert spec.get("description"), f"{path.name}: describe {name}"


def test_the_root_action_is_actions_deploy() -> None:
    root, deploy = load(REPO_ROOT / "action.yml"), load(REPO_ROOT / "actions/deploy/action.yml")
    assert root["inputs"] == deploy["inputs"]
    assert root["outputs"] == deploy["outputs"]
    here = "$GITHUB_ACTION_PATH/"
    moved = {
        f"{here}actions/deploy/": here,
        f"{here}actions/setup/": f"{here}../setup/",
        f"{here}actions/lib": f"{here}../lib",
    }
    rooted = []
    for step in root["runs"]["steps"]:
        script = step["run"]
        for old, new in moved.items():
            script = script.replace(old, new)
        rooted.append({**step, "run": script})
    assert rooted == deploy["runs"]["steps"]


WRITES = {
    **{("deploy-project.yml", f"tenants-{n}"): {"deployments"} for n in range(1, 5)},
    ("deploy-tenant.yml", "production"): {"deployments"},
    ("rollback-project.yml", "rollback"): {"deployments"},
}
"""The only write a job holds: Deployments, for the record of what an environment runs
(`github record-release`); the tenants' calls pass it on to deploy-tenant.yml's production."""


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_grant_little_and_time_out(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] in ({}, {"contents": "read"})
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions", {})
        written = {scope for scope, level in granted.items() if level == "write"}
        assert written == WRITES.get((path.name, name), set()), name
        assert set(granted.values()) <= {"read", "write"}
        if "uses" in job:  # a call: the called workflow's jobs time out (checked there)
            assert job["uses"].startswith("./.github/workflows/"), f"{name} calls its own"
            continue
        assert isinstance(job.get("timeout-minutes"), int), f"{name} needs timeout-minutes"
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert re.fullmatch(r"actions/checkout@[0-9a-f]{40}", step["uses"])
                assert step["with"]["persist-credentials"] is False


def test_deploy_project_shape() -> None:
    workflow = load(REPO_ROOT / ".github/workflows/deploy-project.yml")
    on = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert on["repository_dispatch"] == {"types": ["deploy"]}
    assert "configs/**" in on["push"]["paths"]
    assert set(on["workflow_dispatch"]["inputs"]) == {
        "project", "environment", "images", "outside_window"
    }  # fmt: skip
    jobs = workflow["jobs"]
    assert jobs["plan"]["steps"][0]["with"]["fetch-depth"] == 0
    # one matrix job per chunk slot of the plan (platform_lib.github.matrix), each calling the
    # per-tenant workflow with its chunk and its max-parallel
    calls = {name: job for name, job in jobs.items() if "uses" in job}
    assert sorted(calls) == [f"tenants-{i}" for i in range(1, CHUNK_SLOTS + 1)]
    for slot, job in enumerate(calls.values(), 1):
        assert job["uses"] == f"./.github/workflows/{TENANT_WORKFLOW_FILE}"
        assert job["name"] == "${{ matrix.project }}"  # GitHub: `<project> / deploy ...`
        assert job["if"] == f"needs.plan.outputs.chunk_{slot} != ''"
        strategy = job["strategy"]
        assert strategy["fail-fast"] is False
        assert f"needs.plan.outputs.chunk_{slot}" in strategy["matrix"]
        assert strategy["max-parallel"] == (
            f"${{{{ fromJSON(needs.plan.outputs.max_parallel_{slot}) }}}}"
        )
        assert job["secrets"] == "inherit"
        assert job["with"]["approval-gates"] == "${{ toJSON(matrix.gates) }}"
    assert "needs.plan.outputs.blocked" in jobs["blocked"]["if"]


def test_deploy_tenant_shape() -> None:
    """Each tenant's own staging -> gates -> production, in its own GitHub environments and
    its own queues (`queue: max`: GitHub's default single pending slot cancels requests)."""
    workflow = load(REPO_ROOT / ".github/workflows" / TENANT_WORKFLOW_FILE)
    assert set(workflow[True]) == {"workflow_call"}
    jobs = workflow["jobs"]
    for env in ("staging", "production"):
        job = jobs[env]
        assert job["name"] == f"deploy ${{{{ inputs.project }}}} to {env}"  # naming.job_name
        rendered = job["name"].replace("${{ inputs.project }}", "shop")
        assert parse_job_name(f"shop / {rendered}") == ("shop", env)
        name = job["environment"]["name"]
        assert name == f"${{{{ inputs.project }}}}-{env}" and "url" in job["environment"]
        for project in ("shop", "filter-ical"):
            rendered = name.replace("${{ inputs.project }}", project)
            assert rendered == github_environment(project, env)
            assert parse_github_environment(rendered) == (project, env)
    # staging: one at a time per tenant, every request kept, in order; production: no group
    # (an approval would hold it), a newer request supersedes instead
    assert jobs["staging"]["concurrency"] == {
        "group": "deploy-${{ inputs.project }}-staging", "cancel-in-progress": False,
        "queue": "max",
    }  # fmt: skip
    assert "concurrency" not in jobs["production"]
    # production waits for its own tenant's staging only, and not after it failed
    production = jobs["production"]
    assert production["needs"] == ["staging", "approve"]
    assert "!cancelled()" in production["if"]
    # never after its staging or an approval gate failed, timed out or was cancelled
    for job in (production, jobs["approve"]):
        assert "needs.staging.result == 'success'" in job["if"]
        assert "needs.staging.result != 'failure'" not in job["if"]
    assert "needs.approve.result == 'success'" in production["if"]
    gate = jobs["approve"]["environment"]["name"].replace("${{ inputs.project }}", "shop")
    assert gate.replace("${{ matrix.gate }}", "2") == approval_environment("shop", "production", 2)
    steps = {s.get("id") or s.get("name"): s for s in production["steps"]}
    order = list(steps)
    assert order.index("supersede") < order.index("check the approvals") < order.index("apply")
    for skipped in ("check the approvals", "apply"):  # nothing deploys once superseded
        assert steps[skipped]["if"] == "steps.supersede.outputs.by == ''"
    # a gated production checks its environments' protection before anything deploys, and
    # deploys exactly the digests its own staging verified in this run (when it deployed)
    assert order.index("supersede") < order.index("check the gate") < order.index("apply")
    check_gate = steps["check the gate"]
    assert check_gate["if"] == "steps.supersede.outputs.by == '' && inputs.approvals > 0"
    assert "continue-on-error" not in check_gate
    assert "github check-gate" in check_gate["run"]
    assert jobs["staging"]["outputs"]["digests"] == "${{ steps.apply.outputs.digests }}"
    assert "needs.staging.outputs.digests" in steps["apply"]["with"]["expected-digests"]
    # the reviewers' preview and the approval announcement: best effort, never failing staging
    staging = {s.get("name"): s for s in jobs["staging"]["steps"]}
    for best_effort in ("what production would get", "announce the production approval"):
        assert staging[best_effort]["continue-on-error"] is True
    preview = staging["what production would get"]
    assert "DEPLOY_SSH_KEY" not in str(preview)  # staging's job never reaches production
    assert "notify-approval" in staging["announce the production approval"]["run"]


def test_rollback_is_gated_like_a_deploy() -> None:
    workflow = load(REPO_ROOT / ".github/workflows/rollback-project.yml")
    assert set(workflow[True]["workflow_dispatch"]["inputs"]) == {
        "project", "environment", "release"
    }  # fmt: skip
    jobs = workflow["jobs"]
    job = jobs["rollback"]
    tenant = "${{ needs.plan.outputs.project }}-${{ needs.plan.outputs.environment }}"
    assert job["environment"]["name"] == tenant  # the deploy's own GitHub environment
    assert jobs["approve"]["environment"]["name"] == f"{tenant}-approval-${{{{ matrix.gate }}}}"
    assert job["needs"] == ["plan", "approve"]
    assert job["concurrency"]["group"] == f"deploy-{tenant}"  # the deploys' queue
    names = [s.get("name") for s in job["steps"]]
    assert names.index("check the approvals") < names.index("roll back")
    assert names.index("check the gate") < names.index("roll back")
