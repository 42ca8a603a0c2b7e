"""A deploy from a terminal (`execution.deploy.deploy`, what `deploy` runs) and the workflow's
path (actions/apply: `plan --from-host`, then `apply` of that plan) take the same decision for
the same facts. The facts are real: a platform checkout with git history, and `local` hosts
whose release records sit in a directory (platform_facts reads them as on a server)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from local_platform import D1, D2, WEB, LocalPlatform, git, load_action, make_local

from platform_lib.commands.config_index import tenant_config
from platform_lib.errors import NothingToDeploy, PlanError
from platform_lib.execution import deploy as execution
from platform_lib.execution.connect import Connections
from platform_lib.models.plan import Plan
from platform_lib.planning.builder import PlanRequest
from platform_lib.planning.promotion import Deploy, Refuse, Skip


@pytest.fixture
def local(tmp_path: Path) -> LocalPlatform:
    return make_local(tmp_path)


@pytest.fixture(scope="module")
def action() -> ModuleType:
    return load_action("platform_apply_paths")


def terminal(local: LocalPlatform, expected: dict[str, str] | None,
             monkeypatch: pytest.MonkeyPatch) -> Deploy | Refuse | Skip | Plan:  # fmt: skip
    """What `deploy --env production` does, up to the host: the plan it applies, or why not."""
    applied: list[Plan] = []
    monkeypatch.setattr(execution, "apply_plan", lambda plan, *_: applied.append(plan))
    config = tenant_config(local.root, "paiss")
    head = git(local.root, "rev-parse", "HEAD")
    request = PlanRequest(project="paiss", environment="production", now=datetime.now(UTC),
                          actor="alice", platform_sha=head)  # fmt: skip
    try:
        with Connections(None) as hosts:
            execution.deploy(config, request, hosts, {}, lambda _: None, root=local.root,
                             expected=expected)  # fmt: skip
    except NothingToDeploy as exc:
        return Skip(reason=str(exc))
    except PlanError as exc:
        return Refuse(reason=str(exc), remedy=exc.hint)
    (plan,) = applied
    return plan


def workflow(local: LocalPlatform, expected: dict[str, str] | None, action: ModuleType,
             tmp_path: Path) -> tuple[int, Any, Plan | None]:  # fmt: skip
    """The workflow's decision: actions/apply's own `plan --from-host` call."""
    inputs = action.Inputs(root=local.root, project="paiss", environment="production",
                           images="", expected=json.dumps(expected) if expected else "",
                           key_file="", actor="alice", outside_window="")  # fmt: skip
    plan_file, decision_file = tmp_path / "plan.json", tmp_path / "decision.json"
    done = action.gha.platform(inputs.plan_args({}, plan_file, decision_file),
                               action.child_env(os.environ))  # fmt: skip
    plan = Plan.model_validate_json(plan_file.read_text()) if done.returncode == 0 else None
    return done.returncode, action.read_decision(decision_file), plan


def changed_configs(local: LocalPlatform) -> None:
    env = local.root / "configs/paiss/.env.staging"
    env.write_text(env.read_text() + "GREETING=hello\n")
    local.commit("paiss: a greeting")


def unrelated_change(local: LocalPlatform) -> None:
    (local.root / "README.md").write_text("docs\n")
    local.commit("docs")


CASES = [
    # (case, staging's release made from: "head" / "base" / None, a change after it, expected)
    ("staging verified this commit", "head", None, None, "deploy"),
    ("staging runs nothing", None, None, None, "skip"),
    ("the configs changed since staging's release", "base", changed_configs, None, "refuse"),
    ("only files that affect no tenant changed", "base", unrelated_change, None, "deploy"),
    ("the expected digests are staging's", "head", None, {"web": D1}, "deploy"),
    ("staging no longer runs the expected digests", "head", None, {"web": D2}, "refuse"),
    ("staging's release was not made from a commit", "unknown", None, None, "refuse"),
]


@pytest.mark.parametrize(("case", "made_from", "change", "expected", "kind"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_terminal_and_workflow_take_the_same_decision(
    local: LocalPlatform, action: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    case: str, made_from: str | None, change: Any, expected: dict[str, str] | None, kind: str,
) -> None:  # fmt: skip
    base = git(local.root, "rev-parse", "HEAD")
    if change is not None:
        change(local)
    if made_from is not None:
        sha = {"head": git(local.root, "rev-parse", "HEAD"), "base": base}.get(made_from, made_from)
        local.release("staging", "20260101T000000Z-aaaaaaaa", sha, D1)

    code, decision, plan = workflow(local, expected, action, tmp_path)
    done = terminal(local, expected, monkeypatch)

    assert decision is not None and decision.decision == kind
    if isinstance(decision, Deploy):
        assert code == 0 and plan is not None and isinstance(done, Plan)
        assert done.images == plan.images == {"web": f"{WEB}@{D1}"}
        assert decision.source_release == "20260101T000000Z-aaaaaaaa"
    elif isinstance(decision, Skip):
        assert code == action.NOTHING_TO_DEPLOY == NothingToDeploy.exit_code
        assert isinstance(done, Skip) and decision.reason in done.reason
    else:
        assert code == 1 and isinstance(done, Refuse) and decision.reason in done.reason
    assert not (local.host / "projects/paiss/production").exists()  # nothing reached a host
