"""The Deploy Project workflow run by act against the real servers (sshd with a pinned host
key, dockerd, registry): an app repo's dispatch deploys staging, then production gets exactly
the digests staging verified (act has no approvals: the per-tenant workflow runs straight
through); a config push deploys every tenant its whole range changed, and one tenant's failed
staging holds back only that tenant's production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e.platform_fixture import http_get, web_tenant
from github import canned, openapi
from github.fake_github import FakeGitHub, Reply
from github.oidc_issuer import new_key
from workflows import actrun
from workflows.actrun import PlatformRepo

from platform_lib.github.payload import DeployPayload

pytestmark = [pytest.mark.e2e, pytest.mark.second_lane]

APP_SHA = "0123456789abcdef0123456789abcdef01234567"


def image(repo: PlatformRepo, version: str) -> str:
    env = repo.platform.servers.env
    return f"{env['REGISTRY']}/platform-tests/demo-web@{env[f'DEMO_WEB_{version.upper()}_DIGEST']}"


AUDIENCE = f"https://github.com/{actrun.PLATFORM_REPO}"


def dispatch_event(
    repo: PlatformRepo, project: str, images: dict[str, str], token: str | None = ""
) -> dict[str, Any]:
    """What actions/deploy sends from a run of example-org/<project> by bob at APP_SHA (the
    payload's actor says mallory: the token's is the one recorded); `token` replaces it."""
    if token == "":
        token = repo.issuer.mint(
            AUDIENCE, repository=f"example-org/{project}", sha=APP_SHA, actor="bob"
        )
    payload = DeployPayload.build(
        project=project, images=images, commit=APP_SHA, actor="mallory",
        app_repository=f"example-org/{project}", id_token=token,
    )  # fmt: skip
    return {
        "action": "deploy",
        "client_payload": payload.model_dump(mode="json"),
        "repository": {"full_name": actrun.PLATFORM_REPO, "default_branch": "main"},
    }


def push_event(before: str, after: str) -> dict[str, Any]:
    return {
        "ref": "refs/heads/main", "before": before, "after": after,
        "repository": {"full_name": actrun.PLATFORM_REPO, "default_branch": "main"},
    }  # fmt: skip


def add_tenant(repo: PlatformRepo, name: str, broken: bool = False) -> None:
    """A demo-web tenant; `broken` gives it a container healthcheck that always fails."""
    tenant = web_tenant()
    tenant["manifest"]["app_repository"] = f"example-org/{name}"
    if broken:
        tenant["compose"]["services"]["web"]["healthcheck"] = {
            "test": ["CMD", "false"], "interval": "1s", "timeout": "1s", "retries": 1,
        }  # fmt: skip
    repo.platform.add_tenant(name, tenant)


def services(repo: PlatformRepo, project: str, env: str) -> dict[str, str]:
    return dict(repo.platform.release_json(project, env)["digests"]["services"])


def errors(log: str) -> str:
    """The run's error annotations: why a job failed, for an assertion message."""
    return "\n".join(line for line in log.splitlines() if "::error" in line) or log[-6000:]


def assert_no_secret_leaked(repo: PlatformRepo, *logs: str) -> None:
    key = Path(repo.platform.servers.env["SSH_CLIENT_KEY"]).read_text().splitlines()[1]
    token = Path(repo.platform.servers.env["REGISTRY_PASSWORD_FILE"]).read_text().strip()
    for log in logs:
        assert key not in log and token not in log
    assert list(repo.act.cache.rglob("platform-ssh-key.*")) == []  # removed after every job


def test_dispatch_deploys_staging_then_production_exactly_what_staging_verified(
    platform_repo: PlatformRepo,
) -> None:
    repo, platform = platform_repo, platform_repo.platform
    add_tenant(repo, "wf-shop")
    head = repo.commit("wf-shop")
    platform.deploy("wf-shop", "staging", image="v1")
    platform.deploy("wf-shop", "production", image=None)  # promotes staging's v1
    assert http_get(platform.port("wf-shop", "production")) == "v1"
    event = dispatch_event(repo, "wf-shop", {"web": image(repo, "v2")})

    run = repo.act.run("repository_dispatch", event, "tenants-1")

    assert run.returncode == 0, errors(run.log)
    # staging ran v1 before the run: production's v2 is what this run's staging verified
    assert "promoting the digests staging release" in run.log
    assert services(repo, "wf-shop", "staging") == {"web": image(repo, "v2")}
    assert http_get(platform.port("wf-shop", "production")) == "v2"
    assert services(repo, "wf-shop", "production") == services(repo, "wf-shop", "staging")
    for env in ("staging", "production"):
        record = platform.release_json("wf-shop", env)
        assert (record["actor"], record["platform_sha"]) == ("bob", head)
    assert_no_secret_leaked(repo, run.log)


def test_config_push_deploys_the_whole_range_and_a_failed_staging_holds_back_only_its_tenant(
    platform_repo: PlatformRepo,
) -> None:
    repo, platform = platform_repo, platform_repo.platform
    for name in ("wf-good", "wf-bad", "wf-idle"):
        add_tenant(repo, name)
    before = repo.commit("three tenants")
    for name in ("wf-good", "wf-bad", "wf-idle"):
        platform.deploy(name, "staging", image="v1")
    idle_release = platform.current("wf-idle")
    bad_release = platform.current("wf-bad")
    # two commits: HEAD~1..HEAD alone would miss wf-good
    env_file = repo.repo / "configs/wf-good/.env.staging"
    env_file.write_text(env_file.read_text() + "GREETING=hello\n")
    repo.commit("wf-good: greeting")
    add_tenant(repo, "wf-bad", broken=True)  # its staging deploy will fail and roll back
    after = repo.commit("wf-bad: a healthcheck that fails")

    run = repo.act.run("push", push_event(before, after), "tenants-1")

    assert run.returncode != 0, "wf-bad's staging failed, so the run fails"
    assert "deploy wf-idle to" not in run.log  # untouched tenants are not deployed
    assert platform.current("wf-idle") == idle_release
    # wf-good: staging redeployed its running digest with the new config, production followed
    assert platform.current("wf-good", "production") is not None, errors(run.log)
    assert platform.release_json("wf-good", "staging")["platform_sha"] == after
    assert services(repo, "wf-good", "staging") == {"web": image(repo, "v1")}
    assert platform.release_json("wf-good", "production")["platform_sha"] == after
    assert services(repo, "wf-good", "production") == {"web": image(repo, "v1")}
    assert http_get(platform.port("wf-good", "production")) == "v1"
    # wf-bad: staging rolled back, and its production refused to promote
    assert [(e["event"], e["outcome"]) for e in platform.history("wf-bad")][-2:] == [
        ("deploy", "failed"),
        ("rollback", "restored"),
    ]
    assert platform.current("wf-bad") == bad_release
    assert platform.current("wf-bad", "production") is None
    # its production job never started: it waits for wf-bad's own staging, which failed
    assert not [line for line in run.log.splitlines() if "deploy wf-bad to production]" in line
                and "⭐ Run" in line]  # fmt: skip
    assert_no_secret_leaked(repo, run.log)


@pytest.mark.parametrize(
    ("case", "reason"),
    [("forged", "bad-signature"), ("other app", "wrong-repository"), ("none", "missing-token")],
)
def test_a_dispatch_whose_token_does_not_verify_deploys_nothing(
    platform_repo: PlatformRepo, case: str, reason: str
) -> None:
    repo, platform = platform_repo, platform_repo.platform
    add_tenant(repo, "wf-shop")
    repo.commit("wf-shop")
    token = {
        "forged": repo.issuer.mint(
            AUDIENCE, key=new_key(), repository="example-org/wf-shop", sha=APP_SHA
        ),
        "other app": repo.issuer.mint(AUDIENCE, repository="example-org/wf-blog", sha=APP_SHA),
        "none": None,
    }[case]
    event = dispatch_event(repo, "wf-shop", {"web": image(repo, "v2")}, token=token)

    run = repo.act.run("repository_dispatch", event, "plan")

    assert run.returncode != 0
    assert f"deploy request refused ({reason})" in run.log, errors(run.log)
    assert platform.current("wf-shop") is None  # nothing deployed
    if token is not None:
        assert token not in run.log


def test_a_dispatch_shows_its_deploys_in_the_app_repository(
    platform_repo: PlatformRepo, github_spec: openapi.Spec
) -> None:
    """Plan queues a Deployment of the app commit per environment in the tenant's app
    repository, the staging job moves its own to in_progress, then success with the tenant's
    URL: every request checked by the OpenAPI-checked fake GitHub.

    In the same run, the approval's preview: production runs v1, made from commit `base`, as
    the workflow recorded it on GitHub; the request for v2 comes after a change of
    production's env file, so the staging job compares with that record (web v1 -> v2, the
    env file, one key added), and production, once deployed, records its new release: a
    Deployment of the run's commit in the platform repository, with its digests."""
    repo, platform = platform_repo, platform_repo.platform
    add_tenant(repo, "wf-app")
    base = repo.commit("wf-app")
    platform.deploy("wf-app", "staging", image="v1")
    platform.deploy("wf-app", "production", image=None)
    running = platform.current("wf-app", "production")
    env_file = repo.repo / "configs/wf-app/.env.production"
    env_file.write_text(env_file.read_text() + "FEATURE_FLAG=on\n")
    head = repo.commit("wf-app: a production setting")
    with repo.act.secret_file.open("a", encoding="utf-8") as secrets:
        secrets.write(f"APP_DEPLOYMENTS_TOKEN={canned.TOKEN}\nGITHUB_TOKEN={canned.TOKEN}\n")
    fake = FakeGitHub(github_spec, canned.TOKEN).start()
    api = f"/repos/{actrun.PLATFORM_REPO}"
    records = f"{api}/deployments"
    recorded = {"version": 1, "project": "wf-app", "environment": "production",
                "release": running, "platform_sha": base, "images": {"web": image(repo, "v1")},
                "run_id": 900}  # fmt: skip
    listed = canned.listed_deployment(50, base, "wf-app-production", recorded)
    fake.on("GET", records, Reply(200, [listed]))
    fake.on("GET", api, Reply(200, canned.repository()))
    # the run that made the record: the Deploy Project workflow on main, at `base`
    recording_run = canned.run(900, "deploy wf-app", status="completed", conclusion="success")
    recording_run.update(head_sha=base, head_branch="main")
    fake.on("GET", f"{api}/actions/runs/900", Reply(200, recording_run))
    fake.on("POST", records, Reply(201, canned.deployment(51, head, "wf-app-production")))
    fake.on("POST", f"{records}/51/statuses", Reply(201, canned.deployment_status(1, "success")))
    fake.on("GET", f"{api}/actions/workflows/deploy-project.yml/runs", Reply(200, canned.runs()))
    deployments = "/repos/example-org/wf-app/deployments"
    fake.on("POST", deployments, Reply(201, canned.deployment(11, APP_SHA, "wf-app-staging")),
            Reply(201, canned.deployment(12, APP_SHA, "wf-app-production")))  # fmt: skip
    for deployment_id in (11, 12):
        answer = canned.deployment_status(deployment_id * 10, "queued")
        fake.on("POST", f"{deployments}/{deployment_id}/statuses", Reply(201, answer))
    event = dispatch_event(repo, "wf-app", {"web": image(repo, "v2")})
    try:
        staging = repo.act.run(
            "repository_dispatch", event, "tenants-1", env={"GITHUB_API_URL": fake.url}
        )
    finally:
        fake.stop()

    assert staging.returncode == 0, errors(staging.log)
    assert not fake.problems, fake.problems
    assert http_get(platform.port("wf-app", "staging")) == "v2"
    assert [line for line in fake.lines if "/wf-app/" in line] == [
        f"POST {deployments}", f"POST {deployments}/11/statuses",
        f"POST {deployments}", f"POST {deployments}/12/statuses",
        f"POST {deployments}/11/statuses", f"POST {deployments}/11/statuses",
        f"POST {deployments}/12/statuses", f"POST {deployments}/12/statuses",
    ]  # fmt: skip
    made = fake.bodies("POST", deployments)
    assert [(d["ref"], d["environment"]) for d in made] == [
        (APP_SHA, "wf-app-staging"), (APP_SHA, "wf-app-production"),
    ]  # fmt: skip
    queued, started, done = fake.bodies("POST", f"{deployments}/11/statuses")
    states = [queued["state"], started["state"], done["state"]]
    assert states == ["queued", "in_progress", "success"]
    assert str(done["environment_url"]).startswith("https://")
    assert "environment_url" not in queued and "environment_url" not in started
    log_url = f"https://github.com/{actrun.PLATFORM_REPO}/actions/runs/"
    assert all(str(s["log_url"]).startswith(log_url) and s["auto_inactive"] is True
               for s in (queued, started, done))  # fmt: skip
    assert "wf-app-staging in example-org/wf-app at 0123456789ab: success" in staging.log
    # the approval's preview, then production's record of what it runs now
    assert (
        f"wf-app production against its recorded release {running} ({base[:12]}): "
        "1 image(s), 1 config file(s), 1 env key(s) change"
    ) in staging.log
    assert http_get(platform.port("wf-app", "production")) == "v2"
    (record,) = fake.bodies("POST", records)
    assert (record["ref"], record["task"], record["environment"]) == (
        head, "platform:release", "wf-app-production",
    )  # fmt: skip
    assert record["payload"]["release"] == platform.current("wf-app", "production")
    assert record["payload"]["images"] == {"web": image(repo, "v2")}
    assert record["payload"]["platform_sha"] == head
    assert isinstance(record["payload"]["run_id"], int) and record["payload"]["run_id"] > 0
    assert canned.TOKEN not in staging.log


def test_a_whole_push_run_deploys_the_valid_tenants_and_fails_naming_the_invalid_one(
    platform_repo: PlatformRepo,
) -> None:
    """Every job of the workflow, as GitHub would run them: the plan leaves the tenant with
    invalid configs out, the others deploy (one at a time: the host allows 1), the unused
    matrices are skipped, and the `blocked` job fails the run with the tenant's problem."""
    repo, platform = platform_repo, platform_repo.platform
    settings = yaml.safe_load((repo.repo / "configs/platform.yml").read_text())
    for environment in settings["environments"].values():
        environment["hosts"]["e2e"]["max_parallel_deploys"] = 1
    for name in ("wf-one", "wf-two", "wf-broken"):
        add_tenant(repo, name)
    before = repo.commit("three tenants")
    for name in ("wf-one", "wf-two", "wf-broken"):  # a push keeps the digests each runs
        platform.deploy(name, "staging", image="v1")
    broken_release = platform.current("wf-broken")
    platform.write_settings(settings)  # a shared change: every tenant
    env_file = repo.repo / "configs/wf-broken/.env.staging"
    env_file.write_text(env_file.read_text() + "DB_PASSWORD=hunter2\n")
    after = repo.commit("one deploy at a time; a secret in wf-broken's git")

    run = repo.act.run("push", push_event(before, after), None)

    assert run.returncode != 0, "the blocked job fails the run"
    for name in ("wf-one", "wf-two"):
        for env in ("staging", "production"):
            assert platform.release_json(name, env)["platform_sha"] == after, errors(run.log)
    # max-parallel 1: wf-one's whole leg (staging, then its production), then wf-two's
    finished = [platform.release_json(name, env)["deployed_at"]
                for name in ("wf-one", "wf-two") for env in ("staging", "production")]  # fmt: skip
    assert finished == sorted(finished) and len(set(finished)) == 4, finished
    assert platform.current("wf-broken") == broken_release
    assert platform.current("wf-broken", "production") is None
    assert "wf-broken is not deployed, its configs are invalid" in errors(run.log)
    assert_no_secret_leaked(repo, run.log)


def test_a_newer_request_supersedes_this_runs_production_and_the_app_repo_hears_it(
    platform_repo: PlatformRepo, github_spec: openapi.Spec
) -> None:
    """Run 1 deploys wf-late's staging; by the time its production job starts (approved
    late), GitHub lists a newer run whose staging of wf-late succeeded and whose production
    waits. Production deploys nothing, its summary names the newer run, and the app
    repository's production deployment ends `inactive`, superseded by it."""
    repo, platform = platform_repo, platform_repo.platform
    add_tenant(repo, "wf-late")
    repo.commit("wf-late")
    platform.deploy("wf-late", "staging", image="v1")
    platform.deploy("wf-late", "production", image=None)
    production_release = platform.current("wf-late", "production")
    with repo.act.secret_file.open("a", encoding="utf-8") as secrets:
        secrets.write(f"APP_DEPLOYMENTS_TOKEN={canned.TOKEN}\nGITHUB_TOKEN={canned.TOKEN}\n")
    fake = FakeGitHub(github_spec, canned.TOKEN).start()
    platform_api = f"/repos/{actrun.PLATFORM_REPO}/actions"
    newer = 10**9  # after any run act makes
    newer_title = "deploy wf-late: web=sha256:" + "cd" * 32 + " (example-org/wf-late@89abcde)"
    fake.on(
        "GET",
        f"{platform_api}/workflows/deploy-project.yml/runs",
        Reply(200, canned.runs(canned.run(newer, newer_title, status="in_progress"))),
    )
    fake.on("GET", f"{platform_api}/runs/{newer}/jobs", Reply(200, canned.jobs(
        canned.job(1, newer, "wf-late / deploy wf-late to staging", "completed", "success"),
        canned.job(2, newer, "wf-late / deploy wf-late to production", "waiting", None),
    )))  # fmt: skip
    # the approval's preview finds no record of what production runs
    fake.on("GET", f"/repos/{actrun.PLATFORM_REPO}", Reply(200, canned.repository()))
    fake.on("GET", f"/repos/{actrun.PLATFORM_REPO}/deployments", Reply(200, []))
    deployments = "/repos/example-org/wf-late/deployments"
    fake.on("POST", deployments, Reply(201, canned.deployment(11, APP_SHA, "wf-late-staging")),
            Reply(201, canned.deployment(12, APP_SHA, "wf-late-production")))  # fmt: skip
    for deployment_id in (11, 12):
        answer = canned.deployment_status(deployment_id * 10, "queued")
        fake.on("POST", f"{deployments}/{deployment_id}/statuses", Reply(201, answer))
    event = dispatch_event(repo, "wf-late", {"web": image(repo, "v2")})
    try:
        run = repo.act.run(
            "repository_dispatch", event, "tenants-1", env={"GITHUB_API_URL": fake.url}
        )
    finally:
        fake.stop()

    assert run.returncode == 0, errors(run.log)
    assert not fake.problems, fake.problems
    assert services(repo, "wf-late", "staging") == {"web": image(repo, "v2")}  # staging: ours
    assert platform.current("wf-late", "production") == production_release  # nothing deployed
    *_, ended = fake.bodies("POST", f"{deployments}/12/statuses")
    newer_url = f"https://github.com/{canned.REPO}/actions/runs/{newer}"
    assert (ended["state"], ended["description"]) == ("inactive", f"superseded by {newer_url}")
    assert canned.TOKEN not in run.log
