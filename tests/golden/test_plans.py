"""Golden plans: one folder per case under `plans/`, holding `request.json` and the expected
`plan.json`, `script.sh` and `summary.txt` (or `error.txt` when no plan can be made), and
optionally its own `platform.yml` in place of the repository's, and its own `project.yml` in
place of the requested tenant's. In `script.sh` the host
runtime, identical in every script, stands as one marker line.

Regenerate after an intended change: `UPDATE_GOLDEN=1 pytest tests/golden`, then review
`git diff tests/golden`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from golden.golden_files import assert_golden

from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config
from platform_lib.errors import PlanError
from platform_lib.models.plan import ServerFacts
from platform_lib.planning.builder import PlanRequest, build_plan
from platform_lib.planning.canonical import plan_json
from platform_lib.planning.render import render_script, runtime
from platform_lib.planning.summary import render_summary

RUNTIME_MARKER = "# <platform_lib/planning/runtime/*.sh are inlined here>\n"
CASES = sorted((Path(__file__).parent / "plans").glob("*/request.json"))


def _request(case: Path) -> PlanRequest:
    data = json.loads(case.read_text(encoding="utf-8"))
    facts = data.get("facts")
    return PlanRequest(
        project=data["project"],
        environment=data["environment"],
        now=datetime.fromisoformat(data["at"]),
        actor=data["actor"],
        platform_sha=data["platform_sha"],
        images=data.get("images", {}),
        facts=ServerFacts.model_validate(facts) if facts is not None else None,
        outside_window=data.get("outside_window"),
    )


def case_sources(repo_root: Path, folder: Path) -> dict[str, str]:
    """The repository's configs, with the case's own `platform.yml` when it has one (e.g.
    production with deployment windows) and its own `project.yml` (e.g. with a rollout)."""
    sources = read_sources(repo_root)
    own = folder / "platform.yml"
    if own.is_file():
        sources["configs/platform.yml"] = own.read_text(encoding="utf-8")
    manifest = folder / "project.yml"
    if manifest.is_file():
        project = json.loads((folder / "request.json").read_text(encoding="utf-8"))["project"]
        sources[f"configs/{project}/project.yml"] = manifest.read_text(encoding="utf-8")
    return sources


def test_there_is_a_case_per_tenant_and_environment(repo_root: Path) -> None:
    config = load_valid_config(read_sources(repo_root))
    wanted = {f"{t}-{e}" for t in config.tenants for e in config.environments_of(config.tenants[t])}
    assert wanted <= {c.parent.name for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.parent.name for c in CASES])
def test_plan_matches_golden(case: Path, repo_root: Path) -> None:
    folder = case.parent
    config = load_valid_config(case_sources(repo_root, folder))
    try:
        plan = build_plan(config, _request(case))
    except PlanError as exc:
        assert_golden(folder / "error.txt", f"{exc}\n")
        return
    assert not (folder / "error.txt").exists(), "a plan was made where an error was expected"
    assert_golden(folder / "plan.json", plan_json(plan))
    script = render_script(plan)
    # The host runtime is the same in every script; the goldens show what is plan-specific.
    assert script.count(runtime()) == 1
    assert_golden(folder / "script.sh", script.replace(runtime(), RUNTIME_MARKER))
    assert_golden(folder / "summary.txt", render_summary(plan))
    # The proxy's files, as files: reviewable, and loaded by the real nginx (test_proxy_nginx).
    for planned in plan.files:
        name = planned.path.rsplit("/", 1)[1]
        if name.startswith("nginx"):
            assert_golden(folder / "nginx" / name, planned.content)
