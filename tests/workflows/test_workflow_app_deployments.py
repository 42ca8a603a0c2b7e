"""The Deploy Project workflow's app-deployment steps: where they are, and that none can fail a
deploy. Each step's own `run:` script is run with bash, as the runner would, against the
OpenAPI-checked fake GitHub refusing every call, and without a token: exit 0 every time."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from github import canned, openapi
from github.fake_github import FakeGitHub, Reply
from workflows.actrun import REPO_ROOT

from platform_lib.github.payload import DeployPayload

WORKFLOW = REPO_ROOT / ".github/workflows/deploy-project.yml"
TENANT_WORKFLOW = REPO_ROOT / ".github/workflows/deploy-tenant.yml"
COMMAND = re.compile(r'^"\$PLATFORM_PYTHON" -m platform_lib github app-deployment ')
DISPATCH_ONLY = "github.event_name == 'repository_dispatch'"
TOKEN_ENV = "${{ secrets.APP_DEPLOYMENTS_TOKEN }}"
SHA = "0123456789abcdef0123456789abcdef01234567"
IDS = '{"production":12,"staging":11}'
# What the runner would put in each step's env; an expression not listed fails the test.
EXPRESSIONS = {
    TOKEN_ENV: canned.TOKEN,
    "${{ steps.setup.outputs.python }}": sys.executable,
    "${{ fromJSON(steps.plan.outputs.projects)[0] }}": "shop",
    "${{ inputs.project }}": "shop",
    "${{ inputs.app-deployments }}": IDS,
    "${{ steps.app-deployment.outputs.deployment_ids || inputs.app-deployments }}": IDS,
    "${{ job.status }}": "failure",
    "${{ steps.apply.outputs.deployed }}": "",
    "${{ steps.apply.outputs.url }}": "",
    "${{ steps.supersede.outputs.url }}": "",
}


def workflow(path: Path = WORKFLOW) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def tenant_jobs() -> dict[str, Any]:
    """The deploy jobs: deploy-tenant.yml's, which deploy-project.yml calls per tenant."""
    jobs = workflow(TENANT_WORKFLOW)["jobs"]
    assert isinstance(jobs, dict)
    return jobs


def app_steps(job: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    steps = job.get("steps") or []  # a job calling deploy-tenant.yml has none of its own
    return [(i, s) for i, s in enumerate(steps) if COMMAND.match(str(s.get("run", "")))]


def index(job: dict[str, Any], step_id: str) -> int:
    return next(i for i, s in enumerate(job["steps"]) if s.get("id") == step_id)


def argv(step: dict[str, Any]) -> str:
    return " ".join(str(step["run"]).split())


def every_app_step() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in {**workflow()["jobs"], **tenant_jobs()}.items():
        for _, step in app_steps(job):
            yield name, step


def test_plan_queues_a_deployment_per_environment() -> None:
    plan = workflow()["jobs"]["plan"]
    [(at, step)] = app_steps(plan)
    assert at > index(plan, "plan")  # after the request is verified
    assert "--state queued" in argv(step) and "--env staging --env production" in argv(step)
    assert '--github-output "$GITHUB_OUTPUT"' in argv(step)
    assert plan["outputs"]["app_deployments"] == (
        f"${{{{ steps.{step['id']}.outputs.deployment_ids }}}}"
    )
    calls = [job for job in workflow()["jobs"].values() if "uses" in job]
    assert calls and all(
        job["with"]["app-deployments"] == "${{ needs.plan.outputs.app_deployments }}"
        for job in calls
    )  # every tenant's deploy jobs get the plan's deployment ids


@pytest.mark.parametrize("env", ["staging", "production"])
def test_a_deploy_job_starts_then_ends_its_deployment(env: str) -> None:
    job = tenant_jobs()[env]
    [(start_at, start), (end_at, end)] = app_steps(job)
    apply_at = index(job, "apply")
    assert start_at < apply_at < end_at
    if env == "production":  # in progress once approved, so a refused approval check fails it
        names = [s.get("name") for s in job["steps"]]
        assert start_at < names.index("check the approvals")
    assert f"--env {env} --state in_progress" in argv(start)
    assert start["env"]["DEPLOYMENT_IDS"] == "${{ inputs.app-deployments }}"
    assert f"--env {env} --job-status" in argv(end)
    assert str(end["if"]).startswith("always() && ")  # a failed or cancelled deploy too
    assert end["env"]["JOB_STATUS"] == "${{ job.status }}"
    assert end["env"]["ENVIRONMENT_URL"] == "${{ steps.apply.outputs.url }}"
    assert end["env"]["DEPLOYED"] == "${{ steps.apply.outputs.deployed }}"
    assert f"steps.{start['id']}.outputs.deployment_ids" in end["env"]["DEPLOYMENT_IDS"]


def test_no_app_deployment_step_can_fail_its_job() -> None:
    found = list(every_app_step())
    assert [name for name, _ in found] == ["plan", "staging", "staging", "production", "production"]
    for name, step in found:
        assert step["continue-on-error"] is True, name
        assert DISPATCH_ONLY in str(step["if"]), name  # push and manual runs: none
        assert step["env"]["APP_DEPLOYMENTS_TOKEN"] == TOKEN_ENV, name
        assert "--format github" in argv(step), name  # problems as warning annotations


@pytest.fixture
def platform_root(tmp_path: Path) -> Path:
    root = tmp_path / "platform"
    (root / "configs" / "shop").mkdir(parents=True)
    (root / "configs" / "platform.yml").write_text(canned.SETTINGS, encoding="utf-8")
    (root / "configs" / "shop" / "project.yml").write_text(
        "app_repository: example-org/shop\n", encoding="utf-8"
    )
    payload = DeployPayload.build(
        project="shop",
        images={"web": "sha256:" + "ab" * 32},
        commit=SHA,
        actor="alice",
        app_repository="example-org/shop",
    )
    event = {"action": "deploy", "client_payload": payload.model_dump(mode="json")}
    (tmp_path / "event.json").write_text(json.dumps(event), encoding="utf-8")
    return root


def run_step(
    step: dict[str, Any], root: Path, api_url: str, token: bool
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    for name, value in step["env"].items():
        assert value in EXPRESSIONS, f"what would the runner give {name}: {value}?"
        env[name] = EXPRESSIONS[value]
    if not token:
        env["APP_DEPLOYMENTS_TOKEN"] = ""
    env |= {
        "GITHUB_EVENT_PATH": str(root.parent / "event.json"),
        "GITHUB_OUTPUT": str(root.parent / "output"),
        "GITHUB_API_URL": api_url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "example-org/platform",
        "GITHUB_RUN_ID": "2",
        "PLATFORM_GITHUB_MAX_WAIT": "1",
    }
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


@pytest.mark.parametrize("token", [True, False], ids=["refused", "no-token"])
def test_each_step_exits_0_whatever_github_answers(
    github_spec: openapi.Spec, platform_root: Path, token: bool
) -> None:
    fake = FakeGitHub(github_spec, canned.TOKEN).start()
    refused = canned.error("Resource not accessible by personal access token", 403)
    fake.on("POST", "/repos/example-org/shop/deployments", Reply(403, refused))
    for deployment_id in (11, 12):
        path = f"/repos/example-org/shop/deployments/{deployment_id}/statuses"
        fake.on("POST", path, Reply(422, canned.error("Validation Failed", 422)))
    try:
        for name, step in every_app_step():
            done = run_step(step, platform_root, fake.url, token)
            assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"
            warnings = [line for line in done.stdout.splitlines() if line.startswith("::warning ")]
            # with a token, the plan job's two creations are refused one by one
            assert len(warnings) == (2 if token and name == "plan" else 1), name
    finally:
        fake.stop()
    assert not fake.problems, fake.problems
    deployments = "POST /repos/example-org/shop/deployments"
    expected = [deployments] * 2 + [f"{deployments}/{i}/statuses" for i in (11, 11, 12, 12)]
    assert fake.lines == (expected if token else [])
