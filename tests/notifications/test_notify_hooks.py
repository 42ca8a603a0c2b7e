"""The commands' hook: which events a deploy, a rollback and a review announce, to which
sinks (the platform's always, the tenant's own under `<PROJECT>__NAME`), and that a broken
sink changes neither the command's result nor its exception. A fake `post` stands for the
network; the deploy itself is a fake `run` returning a plan or raising."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cases import KEY

from platform_lib.config.loader import PlatformConfig
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config, validate_sources
from platform_lib.errors import ApplyError, DeployRolledBack, PlanError
from platform_lib.models.outcome import DeployOutcome
from platform_lib.models.plan import Plan
from platform_lib.notifications import events, hooks
from platform_lib.planning.builder import PlanRequest, build_plan

REPO = Path(__file__).resolve().parents[2]
BASE = read_sources(REPO)
PLATFORM, PROJECT = "configs/platform.yml", "configs/paiss/project.yml"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SINKS = (
    "    notifications:\n"
    "      - {kind: slack, url_secret: PLATFORM_SLACK_URL}\n"
    "      - {kind: webhook, url_secret: PLATFORM_HOOK_URL, key_secret: PLATFORM_HOOK_KEY,\n"
    "         events: [deploy.failed, deploy.succeeded]}\n"
)
CLOSED = (  # 2026-12-02 is a Wednesday
    "    windows:\n      time_zone: UTC\n"
    "      allow: [{days: [mon], start: '09:00', end: '10:00'}]\n"
)
LIMITS = "notification_limits: {timeout: 0.2, retries: 2, budget: 1.0}\n"
TENANT_SINKS = (
    "\nnotifications:\n  staging:\n"
    "    - {kind: webhook, url_secret: TEAM_HOOK_URL, key_secret: TEAM_HOOK_KEY}\n"
)
ENVIRON = {
    "PLATFORM_SLACK_URL": "https://hooks.slack.example/T/B/secret",
    "PLATFORM_HOOK_URL": "https://platform.example/hook",
    "PLATFORM_HOOK_KEY": KEY,
    "PAISS__TEAM_HOOK_URL": "https://paiss.example/hook",
    "PAISS__TEAM_HOOK_KEY": "tenant-key-0000",
}


def tree(platform_extra: str = SINKS, tenant_extra: str = TENANT_SINKS) -> dict[str, str]:
    sources = dict(BASE)
    platform = BASE[PLATFORM].replace("  staging:\n", "  staging:\n" + platform_extra, 1)
    sources[PLATFORM] = platform + LIMITS
    sources[PROJECT] = BASE[PROJECT] + tenant_extra
    return sources


CONFIG = load_valid_config(tree())


class Recorder:
    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.status, self.delay = status, delay
        self.posts: list[tuple[str, dict[str, object], Mapping[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        self.posts.append((url, json.loads(body), headers))
        if self.delay:
            time.sleep(min(self.delay, timeout))
            raise TimeoutError
        return self.status

    def sent(self) -> list[tuple[str, str]]:
        """(url, event kind) of every post: Slack's kind is in its header block."""
        return [(url, str(body.get("kind") or body["text"])) for url, body, _ in self.posts]


def request(**fields: object) -> PlanRequest:
    base: dict[str, object] = {"project": "paiss", "environment": "staging", "now": NOW,
                               "actor": "alice", "platform_sha": "abc",
                               "images": {"web": "v1.2.3"}}  # fmt: skip
    return PlanRequest(**{**base, **fields})  # type: ignore[arg-type]


def plan_of(config: PlatformConfig, req: PlanRequest) -> Plan:
    return build_plan(config, req)


def run_deploy(post: Recorder, run: object, req: PlanRequest | None = None) -> Plan:
    req = req or request()
    subject = events.Subject(req.project, req.environment, req.actor)
    return hooks.notified(CONFIG, subject, run, images=req.images, at=req.now,  # type: ignore[arg-type]
                          outside_window=req.outside_window, environ=ENVIRON, log=print,
                          clock=lambda: NOW, post=post)  # fmt: skip


def test_a_deploy_announces_started_and_succeeded_to_every_sink_that_takes_them() -> None:
    post, plan = Recorder(), plan_of(CONFIG, request())
    assert run_deploy(post, lambda: plan) is plan
    kinds = [(url, body.get("kind")) for url, body, _ in post.posts]
    assert kinds == [
        (ENVIRON["PLATFORM_SLACK_URL"], None),
        ("https://paiss.example/hook", "deploy.started"),
        (ENVIRON["PLATFORM_SLACK_URL"], None),
        (ENVIRON["PLATFORM_HOOK_URL"], "deploy.succeeded"),
        ("https://paiss.example/hook", "deploy.succeeded"),
    ]
    done = post.posts[3][1]
    assert done["release"] == plan.release and done["images"] == plan.images
    assert done["project"] == "paiss" and done["actor"] == "alice"


def test_a_tenant_sink_is_signed_with_the_tenants_own_key() -> None:
    post = Recorder()
    run_deploy(post, lambda: plan_of(CONFIG, request()))
    url, _, headers = post.posts[-1]
    assert url == "https://paiss.example/hook"
    from platform_lib.notifications.signing import verify

    body = json.dumps(post.posts[-1][1], sort_keys=True, separators=(",", ":")).encode()
    stamp = headers["X-Platform-Timestamp"]
    assert verify("tenant-key-0000", stamp, headers["X-Platform-Signature"], body, int(stamp))


def test_a_failed_deploy_is_announced_and_its_error_passed_on_unchanged() -> None:
    post, error = Recorder(), ApplyError("deploy of paiss/staging failed at step 'up'")

    def run() -> Plan:
        raise error

    with pytest.raises(ApplyError) as raised:
        run_deploy(post, run)
    assert raised.value is error
    failed = [body for _, body, _ in post.posts if body.get("kind") == "deploy.failed"]
    assert [f["detail"] for f in failed] == [str(error), str(error)]


def test_a_bugs_message_is_not_sent_only_its_type() -> None:
    post = Recorder()

    def run() -> Plan:
        raise RuntimeError("value=hunter2")

    with pytest.raises(RuntimeError):
        run_deploy(post, run)
    assert all("hunter2" not in json.dumps(body) for _, body, _ in post.posts)


@pytest.mark.parametrize("broken", [Recorder(status=500), Recorder(delay=5)])
def test_a_broken_sink_changes_neither_the_result_nor_much_the_time(broken: Recorder) -> None:
    plan = plan_of(CONFIG, request())
    started = time.monotonic()
    assert run_deploy(broken, lambda: plan) is plan
    # Two events, each within the budget of the limits; a hung sink spends its per-request
    # timeout per attempt, not more.
    assert time.monotonic() - started < 2 * CONFIG.settings.notification_limits.budget + 1


def test_an_override_is_announced_when_the_windows_are_closed() -> None:
    config = load_valid_config(tree(SINKS + CLOSED, TENANT_SINKS))
    req = request(outside_window="payment outage", now=datetime(2026, 12, 2, 12, tzinfo=UTC))
    post = Recorder()
    subject = events.Subject(req.project, req.environment, req.actor)
    hooks.notified(config, subject, lambda: build_plan(config, req), images=req.images,
                   at=req.now, outside_window=req.outside_window, environ=ENVIRON, log=print,
                   clock=lambda: NOW, post=post)  # fmt: skip
    override = [b for _, b, _ in post.posts if b.get("kind") == "deploy.window_override"]
    assert [o["window_override"]["reason"] for o in override] == ["payment outage"]


def test_a_deploy_refused_by_its_closed_windows_announces_nothing() -> None:
    config = load_valid_config(tree(SINKS + CLOSED, TENANT_SINKS))
    req, post = request(now=datetime(2026, 12, 2, 12, tzinfo=UTC)), Recorder()
    subject = events.Subject(req.project, req.environment, req.actor)
    with pytest.raises(PlanError):
        hooks.notified(config, subject, lambda: build_plan(config, req), images=req.images,
                       at=req.now, environ=ENVIRON, log=print, post=post)  # fmt: skip
    assert post.posts == []


def test_a_rollback_announces_rolled_back() -> None:
    post = Recorder()
    plan = plan_of(CONFIG, request()).model_copy(update={"kind": "rollback"})
    subject = events.Subject("paiss", "staging", "alice")
    hooks.notified(CONFIG, subject, lambda: plan, environ=ENVIRON, log=print, post=post)
    assert [b.get("kind") for _, b, _ in post.posts] == [None, "deploy.rolled_back"]


@pytest.mark.parametrize(
    ("state", "counted", "kind"),
    [("approved", None, "approval.approved"), ("approved", (1, 2), "approval.waiting"),
     ("approved", (2, 2), "approval.approved"), ("rejected", None, "approval.rejected")],
)  # fmt: skip
def test_a_review_is_announced(state: str, counted: tuple[int, int] | None, kind: str) -> None:
    post = Recorder()
    review = events.Review("staging", "dave", state, "https://ci/runs/7", {"web": "v2"},
                           "looks good", counted)  # fmt: skip
    manifest = CONFIG.tenants["paiss"].manifest
    hooks.notify_review(CONFIG.settings, {"paiss": manifest}, review, print, ENVIRON, post=post)
    hook = [b for url, b, _ in post.posts if url == "https://paiss.example/hook"]
    assert [h["kind"] for h in hook] == [kind] and hook[0]["run_url"] == "https://ci/runs/7"
    assert hook[0]["approvals"] == (
        None if counted is None else dict(zip(("given", "needed"), counted, strict=True))
    )


def test_a_tenant_cannot_take_the_platforms_sink_variables() -> None:
    sources = tree(SINKS, "\nsecrets: [PLATFORM_HOOK_KEY]\n"
                   "notifications:\n  staging:\n"
                   "    - {kind: slack, url_secret: PLATFORM_SLACK_URL}\n")  # fmt: skip
    problems = validate_sources(sources)[1]
    found = sorted((p.rule, p.location.pointer) for p in problems)
    assert [f for f in found if f[0] == "project.platform-secret"] == [
        ("project.platform-secret", "/notifications/staging/0/url_secret"),
        ("project.platform-secret", "/secrets/0"),
    ]


def test_a_deploy_the_host_rolled_back_by_itself_is_announced_as_rolled_back() -> None:
    outcome = DeployOutcome.model_validate(
        {"version": 1, "kind": "deploy", "outcome": "rolled-back", "plan": "p", "release": "r2",
         "previous_release": "r1", "current_release": "r1", "step": "health",
         "reason": "route 1 answered 502", "rollback_step": None, "rollback_reason": None}
    )  # fmt: skip
    post = Recorder()
    error = DeployRolledBack("deploy of paiss/staging failed at step 'health'", outcome)

    def run() -> Plan:
        raise error

    with pytest.raises(DeployRolledBack):
        run_deploy(post, run)
    kinds = [body.get("kind") for _, body, _ in post.posts]
    assert "deploy.rolled_back" in kinds and "deploy.failed" not in kinds
