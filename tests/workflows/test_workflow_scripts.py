"""The actions' scripts on their own, without a runner: what actions/deploy accepts before it
sends anything, and what actions/plan makes of each kind of event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.platform_fixture import Platform, web_tenant
from e2e.servers import Servers
from github.oidc_issuer import LocalIssuer, new_key
from workflows import actrun

from platform_lib.github.payload import DeployPayload

DIGEST = "sha256:" + "1f" * 32
REF = f"ghcr.io/example-org/shop-web@{DIGEST}"
APP_SHA = "0123456789abcdef0123456789abcdef01234567"


def read_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it: NAME=VALUE lines and NAME<<DELIM blocks."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        name, sep, value = lines[i].partition("=")
        if "<<" in lines[i] and (not sep or "<<" in name):
            name, delimiter = lines[i].split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        outputs[name] = value
        i += 1
    return outputs


def check_inputs(tmp_path: Path, **inputs: str) -> tuple[int, str, dict[str, str]]:
    output = tmp_path / "output"
    output.write_text("")
    env = {
        "PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output),
        "GITHUB_SHA": APP_SHA, "GITHUB_REPOSITORY": "example-org/shop",
        "GITHUB_REPOSITORY_OWNER": "example-org", "GITHUB_ACTOR": "alice",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
        "PROJECT": "shop", "IMAGES": f"web={REF}\n", "TOKEN": "tok",
        **inputs,
    }  # fmt: skip
    done = subprocess.run(
        ["bash", str(actrun.REPO_ROOT / "actions/deploy/check-inputs.sh")],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, read_outputs(output)


def test_deploy_inputs_default_from_the_workflow(tmp_path: Path) -> None:
    code, log, outputs = check_inputs(tmp_path, IMAGES=f"web={REF}\nworker={DIGEST}\n")
    assert code == 0, log
    assert outputs == {
        "project": "shop", "platform-repo": "example-org/multi-tenant-platform",
        "app-sha": APP_SHA, "wait": "", "images": f"web={REF}\nworker={DIGEST}",
    }  # fmt: skip
    assert "::add-mask::tok" in log


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"IMAGES": "web=ghcr.io/example-org/shop-web:v1"}, "deploys are by digest"),
        ({"IMAGES": "web=ghcr.io/example-org/shop-web:latest"}, "deploys are by digest"),
        ({"IMAGES": f"web={REF} web={REF}"}, "given twice"),
        ({"IMAGES": REF}, "expected SERVICE=REGISTRY/REPOSITORY@sha256:DIGEST"),
        ({"IMAGES": f"Web={REF}"}, "not a compose service name"),
        ({"IMAGES": f"web={REF[:-1]}"}, "deploys are by digest"),
        ({"IMAGES": "  \n"}, "images is empty"),
        ({"PROJECT": "Shop"}, "is not a tenant name"),
        ({"PROJECT": ""}, "project is empty"),
        ({"TOKEN": ""}, "a repository's own GITHUB_TOKEN cannot dispatch"),
        ({"WAIT": "production"}, "use '' (do not wait) or 'staging'"),
        ({"APP_SHA": "abc123"}, "is not a full commit sha"),
        ({"PLATFORM_REPO": "not a repo"}, "is not OWNER/NAME"),
        ({"ACTIONS_ID_TOKEN_REQUEST_URL": ""}, "permissions: id-token: write"),
    ],
)
def test_deploy_inputs_are_refused_before_anything_is_sent(
    tmp_path: Path, inputs: dict[str, str], message: str
) -> None:
    code, log, outputs = check_inputs(tmp_path, **inputs)
    assert code == 1
    assert "::error title=deploy input::" in log and message in log, log
    assert outputs == {}


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    code, log, _ = check_inputs(tmp_path, PROJECT="Shop", IMAGES="web=v1", TOKEN="")
    assert code == 1
    assert log.count("::error title=deploy input::") == 3, log


def test_options_pass(tmp_path: Path) -> None:
    code, log, outputs = check_inputs(
        tmp_path, WAIT="staging", PLATFORM_REPO="other-org/platform",
        IMAGES=f"web={REF}, worker=127.0.0.1:5000/o/w:v2@{DIGEST}",
    )  # fmt: skip
    assert code == 0, log
    assert outputs["wait"] == "staging"
    assert outputs["images"].splitlines()[1] == f"worker=127.0.0.1:5000/o/w:v2@{DIGEST}"


# --- actions/plan ------------------------------------------------------------------------

HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF+gLvngRLbG+eanePzpuDk3OlMyAQiB4DBNop6GFIzx"
OFFLINE = Servers({"SSH_PORT": "2222", "REGISTRY": "127.0.0.1:5000", "SSH_HOST_KEY_PUB": HOST_KEY})
"""Settings for a platform that is only validated and planned, never deployed."""
WEB = f"127.0.0.1:5000/platform-tests/demo-web@{DIGEST}"


AUDIENCE = f"https://github.com/{actrun.PLATFORM_REPO}"


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    """GitHub's OIDC token service, played locally: app runs of example-org/shop at APP_SHA."""
    server = LocalIssuer("example-org/shop", APP_SHA, actor="dependabot[bot]").start()
    yield server
    server.stop()


@pytest.fixture
def repo(tmp_path: Path, issuer: LocalIssuer) -> Platform:
    """A platform repository (configs only, in git) with two tenants, nothing deployed; it
    trusts the local issuer's OIDC tokens."""
    root = tmp_path / "repo"
    root.mkdir()
    actrun.init_repository(root)
    platform = Platform(OFFLINE, root, tmp_path / "host")
    platform.write_settings(platform.settings(github=github_settings(issuer)))
    for name in ("shop", "blog"):
        tenant = web_tenant()
        tenant["manifest"]["app_repository"] = f"example-org/{name}"
        platform.add_tenant(name, tenant)
    actrun.commit_all(root, "two tenants")
    return platform


def plan(
    platform: Platform, tmp_path: Path, event_name: str, event: dict[str, Any], sha: str = ""
) -> tuple[int, str, dict[str, str]]:
    (tmp_path / "event.json").write_text(json.dumps(event))
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.write_text("")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PLATFORM_"))},
        "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_SHA": sha or actrun.git(platform.root, "rev-parse", "HEAD"),
        "GITHUB_ACTOR": "carol", "PLATFORM_ROOT": str(platform.root),
        "PYTHONPATH": str(actrun.REPO_ROOT / "actions/lib"),
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(actrun.REPO_ROOT / "actions/plan/plan.py")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    log = done.stdout + done.stderr + summary.read_text()
    return done.returncode, log, read_outputs(output)


def github_settings(issuer: LocalIssuer) -> dict[str, str]:
    return {
        "repository": actrun.PLATFORM_REPO,
        "oidc_issuer": issuer.url,
        "oidc_jwks_url": issuer.jwks_url,
    }


def dispatch(
    project: str, images: dict[str, str], app: str = "", token: str | None = None
) -> dict[str, Any]:
    payload = DeployPayload.build(
        project=project, images=images, commit=APP_SHA, actor="dependabot[bot]",
        app_repository=app or f"example-org/{project}", id_token=token,
    )  # fmt: skip
    return {"action": "deploy", "client_payload": payload.model_dump(mode="json")}


def test_a_dispatch_deploys_its_project_to_staging_then_production(
    repo: Platform, tmp_path: Path, issuer: LocalIssuer
) -> None:
    token = issuer.mint(AUDIENCE)
    event = dispatch("shop", {"web": WEB}, token=token)
    code, log, out = plan(repo, tmp_path, "repository_dispatch", event)
    assert code == 0, log
    assert json.loads(out["matrix"]) == {
        "include": [{"project": "shop", "images": f"web={WEB}", "gates": [], "approvals": 0}]
    }
    assert out["chunk_1"] == out["matrix"] and out["max_parallel_1"] == "1"
    assert [out[f"chunk_{i}"] for i in (2, 3, 4)] == ["", "", ""]
    assert (out["count"], out["staging"], out["production"]) == ("1", "true", "true")
    assert out["actor"] == "dependabot-bot"
    assert "staging plan preview of shop" in log and "Plan " in log
    assert f"::add-mask::{token}" in log  # masked before anything could print it


def test_the_actor_recorded_is_the_tokens_not_the_payloads(
    repo: Platform, tmp_path: Path, issuer: LocalIssuer
) -> None:
    event = dispatch("shop", {"web": WEB}, token=issuer.mint(AUDIENCE, actor="carol-dev"))
    code, log, out = plan(repo, tmp_path, "repository_dispatch", event)
    assert code == 0, log
    assert out["actor"] == "carol-dev"  # the payload says dependabot[bot]


def test_a_gated_production_carries_its_approvals_and_gates_in_the_matrix(
    repo: Platform, tmp_path: Path, issuer: LocalIssuer
) -> None:
    """`approvals: 3`: two extra gate environments before the deploy job's own, and the
    count the production job checks the gate for (0 above: not gated, nothing to check)."""
    github = github_settings(issuer) | {"production_reviewers": ["ann", "bob", "cy"]}
    settings = repo.settings(github=github)
    settings["environments"]["production"] |= {"requires_approval": True, "approvals": 3}
    repo.write_settings(settings)
    actrun.commit_all(repo.root, "production needs three approvals")
    event = dispatch("shop", {"web": WEB}, token=issuer.mint(AUDIENCE))
    code, log, out = plan(repo, tmp_path, "repository_dispatch", event)
    assert code == 0, log
    assert json.loads(out["matrix"])["include"] == [
        {"project": "shop", "images": f"web={WEB}", "gates": [1, 2], "approvals": 3}
    ]


def test_an_older_actions_payload_deploys_the_same(
    repo: Platform, tmp_path: Path, issuer: LocalIssuer
) -> None:
    """What actions/deploy sent before `payload_version` existed (an app still on an older
    `@v1`): planned exactly like the current payload."""
    current = dispatch("shop", {"web": WEB}, token=issuer.mint(AUDIENCE))
    assert current["client_payload"]["payload_version"] == 2
    older = {k: v for k, v in current["client_payload"].items() if k != "payload_version"}
    outputs = []
    for n, event in enumerate((current, {"action": "deploy", "client_payload": older})):
        (tmp_path / str(n)).mkdir()
        code, log, out = plan(repo, tmp_path / str(n), "repository_dispatch", event)
        assert code == 0, log
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[1]["matrix"]) == {
        "include": [{"project": "shop", "images": f"web={WEB}", "gates": [], "approvals": 0}]
    }


def test_a_payload_version_this_platform_does_not_read_deploys_nothing(
    repo: Platform, tmp_path: Path, issuer: LocalIssuer
) -> None:
    event = dispatch("shop", {"web": WEB}, token=issuer.mint(AUDIENCE))
    event["client_payload"]["payload_version"] = 3
    code, log, out = plan(repo, tmp_path, "repository_dispatch", event)
    assert code == 1
    assert "payload_version 3: this platform reads versions 1, 2" in log, log
    assert (out["count"], out["staging"], out["production"]) == ("0", "false", "false")


# each kind of bad token, and the reason `github verify-request` refuses it for
BAD_TOKENS: dict[str, tuple[Callable[[LocalIssuer], str | None], str]] = {
    "missing": (lambda i: None, "missing-token"),
    "forged signature": (lambda i: i.mint(AUDIENCE, key=new_key()), "bad-signature"),
    "wrong key id": (lambda i: i.mint(AUDIENCE, kid="another-key"), "unknown-key"),
    "expired": (
        lambda i: i.mint(AUDIENCE, now=datetime.now(UTC) - timedelta(hours=2)),
        "expired",
    ),
    "not yet valid": (
        lambda i: i.mint(AUDIENCE, now=datetime.now(UTC) + timedelta(hours=2)),
        "not-yet-valid",
    ),
    "wrong issuer": (
        lambda i: i.mint(AUDIENCE, iss="https://token.actions.githubusercontent.com"),
        "wrong-issuer",
    ),
    "wrong audience": (lambda i: i.mint("https://github.com/example-org"), "wrong-audience"),
    "wrong repository": (
        lambda i: i.mint(AUDIENCE, repository="example-org/blog"),
        "wrong-repository",
    ),
    "wrong sha": (lambda i: i.mint(AUDIENCE, sha="f" * 40), "wrong-sha"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_dispatch_whose_token_does_not_verify_deploys_nothing(
    repo: Platform, tmp_path: Path, issuer: LocalIssuer, case: str
) -> None:
    make, reason = BAD_TOKENS[case]
    event = dispatch("shop", {"web": WEB}, token=make(issuer))
    code, log, out = plan(repo, tmp_path, "repository_dispatch", event)
    assert code == 1
    assert f"deploy request refused ({reason})" in log, log
    assert (out["count"], out["staging"], out["production"]) == ("0", "false", "false")


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (dispatch("shop", {"web": WEB}, app="example-org/blog"),
         "shop takes images from example-org/shop only, not from example-org/blog"),
        (dispatch("nope", {"web": WEB}), "unknown project 'nope'"),
        (dispatch("shop", {"api": WEB}), "shop does not build 'api'"),
        (dispatch("shop", {"web": f"ghcr.io/elsewhere/web@{DIGEST}"}),
         "shop/web deploys from 127.0.0.1:5000/platform-tests/demo-web"),
        ({"action": "deploy", "client_payload": {"project": "shop", "images": {"web": "v1"}}},
         "is not pinned by digest"),
        ({"action": "deploy",
          "client_payload": {**dispatch("shop", {"web": WEB})["client_payload"],
                             "run_name": "deploy blog"}},
         "run_name does not describe this payload"),
    ],
)  # fmt: skip
def test_a_bad_dispatch_deploys_nothing(
    repo: Platform, tmp_path: Path, event: dict[str, Any], message: str, issuer: LocalIssuer
) -> None:
    code, log, out = plan(repo, tmp_path, "repository_dispatch", event)
    assert code == 1
    assert message in log, log
    assert (out["count"], out["staging"], out["production"]) == ("0", "false", "false")


def test_a_push_deploys_every_tenant_the_whole_range_changed(
    repo: Platform, tmp_path: Path
) -> None:
    base = actrun.git(repo.root, "rev-parse", "HEAD")
    (repo.root / "configs/shop/.env.staging").write_text("WEB_PORT=18080\nGREETING=hi\n")
    actrun.commit_all(repo.root, "shop: greeting")
    (repo.root / "README.md").write_text("not a config\n")
    head = actrun.commit_all(repo.root, "docs")  # HEAD~1..HEAD alone would miss shop
    code, log, out = plan(repo, tmp_path, "push", {"before": base, "after": head}, sha=head)
    assert code == 0, log
    assert [(e["project"], e["images"]) for e in json.loads(out["matrix"])["include"]] == [
        ("shop", "")
    ]
    assert out["actor"] == "carol"


def test_a_push_to_the_shared_settings_deploys_every_tenant(repo: Platform, tmp_path: Path) -> None:
    base = actrun.git(repo.root, "rev-parse", "HEAD")
    settings = repo.settings(github={"repository": actrun.PLATFORM_REPO})
    settings["releases"] = {"keep": 4}
    repo.write_settings(settings)
    head = actrun.commit_all(repo.root, "keep 4 releases")
    code, log, out = plan(repo, tmp_path, "push", {"before": base, "after": head}, sha=head)
    assert code == 0, log
    assert [e["project"] for e in json.loads(out["matrix"])["include"]] == ["blog", "shop"]


def test_a_push_of_invalid_configs_deploys_nothing(repo: Platform, tmp_path: Path) -> None:
    base = actrun.git(repo.root, "rev-parse", "HEAD")
    (repo.root / "configs/shop/.env.staging").write_text("WEB_PORT=18080\nDB_PASSWORD=hunter2\n")
    head = actrun.commit_all(repo.root, "a secret in git")
    code, log, out = plan(repo, tmp_path, "push", {"before": base, "after": head}, sha=head)
    assert code == 1
    assert "::error file=" in log and "env.literal-secret" in log, log
    assert out["count"] == "0"


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"project": "shop", "environment": "staging", "images": "web=v2"},
         ("web=v2", "true", "false")),
        ({"project": "shop", "environment": "production", "images": ""}, ("", "false", "true")),
    ],
)  # fmt: skip
def test_a_manual_run_deploys_one_environment(
    repo: Platform, tmp_path: Path, inputs: dict[str, str], expected: tuple[str, str, str]
) -> None:
    code, log, out = plan(repo, tmp_path, "workflow_dispatch", {"inputs": inputs})
    assert code == 0, log
    [entry] = json.loads(out["matrix"])["include"]
    assert (entry["images"], out["staging"], out["production"]) == expected


def test_production_by_hand_takes_digests_only(repo: Platform, tmp_path: Path) -> None:
    inputs = {"project": "shop", "environment": "production", "images": "web=v2"}
    code, log, _ = plan(repo, tmp_path, "workflow_dispatch", {"inputs": inputs})
    assert code == 1 and "deploys are by digest" in log, log


def test_a_push_with_an_invalid_tenant_deploys_the_others(repo: Platform, tmp_path: Path) -> None:
    base = actrun.git(repo.root, "rev-parse", "HEAD")
    settings = repo.settings(github={"repository": actrun.PLATFORM_REPO})
    settings["releases"] = {"keep": 4}  # every tenant is affected
    repo.write_settings(settings)
    (repo.root / "configs/shop/.env.staging").write_text("WEB_PORT=18080\nDB_PASSWORD=hunter2\n")
    head = actrun.commit_all(repo.root, "keep 4 releases; a secret in shop's git")
    code, log, out = plan(repo, tmp_path, "push", {"before": base, "after": head}, sha=head)
    assert code == 0, log  # blog deploys
    assert [e["project"] for e in json.loads(out["matrix"])["include"]] == ["blog"]
    [blocked] = json.loads(out["blocked"])
    assert blocked["project"] == "shop"
    assert any("configs/shop/.env.staging:2:" in p and "env.literal-secret" in p
               for p in blocked["problems"]), blocked  # fmt: skip
    assert "::error file=" in log  # the whole repository's validation, as annotations


def test_invalid_shared_settings_deploy_nobody(repo: Platform, tmp_path: Path) -> None:
    base = actrun.git(repo.root, "rev-parse", "HEAD")
    settings = repo.settings(github={"repository": actrun.PLATFORM_REPO})
    settings["releases"] = {"keep": "many"}
    repo.write_settings(settings)
    head = actrun.commit_all(repo.root, "a bad setting")
    code, log, out = plan(repo, tmp_path, "push", {"before": base, "after": head}, sha=head)
    assert code == 1
    assert (out["count"], out["chunk_1"], out["blocked"]) == ("0", "", "[]")
    assert "configs/platform.yml" in log


@pytest.mark.parametrize("before", ["force-pushed", "0" * 40], ids=["force-push", "new-branch"])
def test_a_push_without_a_known_start_deploys_every_tenant_and_says_why(
    repo: Platform, tmp_path: Path, before: str
) -> None:
    if before == "force-pushed":  # a commit the new history does not hold
        actrun.commit_all(repo.root, "soon rewritten")
        before = actrun.git(repo.root, "rev-parse", "HEAD")
        actrun.git(repo.root, "reset", "-q", "--hard", "HEAD~1")
        actrun.git(repo.root, "reflog", "expire", "--expire=now", "--all")
        actrun.git(repo.root, "gc", "-q", "--prune=now")
    head = actrun.commit_all(repo.root, "rewritten")
    code, log, out = plan(repo, tmp_path, "push", {"before": before, "after": head}, sha=head)
    assert code == 0, log
    assert [e["project"] for e in json.loads(out["matrix"])["include"]] == ["blog", "shop"]
    assert "every tenant is deployed" in log and "::notice title=every tenant::" in log
    assert "fetch-depth" not in log


def test_600_tenants_plan_into_three_matrices_within_each_hosts_limit(
    tmp_path: Path, issuer: LocalIssuer
) -> None:
    """A change to the platform settings redeploys every tenant: 400 tenants whose staging is
    on `e2e` and 200 on `small` (max 2 at once), production all on `e2e` (max 6 as a staging
    host, 9 as a production host)."""
    root = tmp_path / "repo"
    root.mkdir()
    actrun.init_repository(root)
    platform = Platform(OFFLINE, root, tmp_path / "host")
    settings = platform.settings(github=github_settings(issuer))
    staging_host = settings["environments"]["staging"]["hosts"]["e2e"]
    settings["environments"]["staging"]["hosts"] = {
        "e2e": {**staging_host, "max_parallel_deploys": 6},
        "small": {**staging_host, "max_parallel_deploys": 2},
    }
    settings["environments"]["production"]["hosts"]["e2e"]["max_parallel_deploys"] = 9
    platform.write_settings(settings)
    for i in range(600):
        tenant = web_tenant()
        # ports of their own (free_port could hand out one twice; a host port taken twice is
        # a validation problem that would block both)
        platform.ports[(f"t{i:03d}", "staging")] = 20000 + 2 * i
        platform.ports[(f"t{i:03d}", "production")] = 20001 + 2 * i
        if i >= 400:
            tenant["manifest"]["placement"] = {"staging": "small"}
        platform.add_tenant(f"t{i:03d}", tenant)
    base = actrun.commit_all(root, "600 tenants")
    settings["releases"] = {"keep": 4}
    platform.write_settings(settings)
    head = actrun.commit_all(root, "keep 4 releases")

    code, log, out = plan(platform, tmp_path, "push", {"before": base, "after": head}, sha=head)

    assert code == 0, log[-3000:]
    parts = [json.loads(out[f"chunk_{i}"])["include"] for i in (1, 2, 3)]
    assert out["chunk_4"] == "" and out["count"] == "600"
    assert [len(p) for p in parts] == [256, 256, 88]
    assert sorted(e["project"] for p in parts for e in p) == [f"t{i:03d}" for i in range(600)]
    assert {e["project"] for e in parts[2]} <= {f"t{i:03d}" for i in range(400, 600)}
    # e2e, named in both environments, is one host at its lower setting (6), shared out among
    # the three matrices holding its tenants (2 each); small's 2 among the last two (1 each)
    assert [out[f"max_parallel_{i}"] for i in (1, 2, 3, 4)] == ["2", "1", "1", "1"]
    assert json.loads(out["matrix"])["include"] == [e for p in parts for e in p]
