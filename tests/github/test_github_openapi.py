"""The checker the fake GitHub relies on: it must be the pinned description, fail when it
cannot be fetched, and actually reject what GitHub would reject."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from github import canned, openapi
from github.fake_github import FakeGitHub, Reply


def test_the_pinned_description(spec: openapi.Spec) -> None:
    assert spec.version == openapi.VERSION == "23.0.2"


def test_a_failed_download_fails_the_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_OPENAPI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm here
    with pytest.raises(RuntimeError, match=r"npm pack @octokit/openapi@23\.0\.2 failed"):
        openapi.ensure_description()


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "problem"),
    [
        (
            "POST",
            "/repos/o/r/actions/runs/1/pending_deployments",
            {},
            {"environment_ids": [1], "state": "approved"},
            "request body at /: 'comment' is a required property",
        ),
        (
            "POST",
            "/repos/o/r/actions/runs/1/pending_deployments",
            {},
            {"environment_ids": [1], "state": "approve", "comment": "ok"},
            "request body at /state: 'approve' is not one of ['approved', 'rejected']",
        ),
        (
            "PUT",
            "/repos/o/r/environments/production",
            {},
            {"reviewers": [{"type": "User", "id": 1, "login": "x"}]},
            "request body at /reviewers/0: Additional properties are not allowed",
        ),
        (
            "POST",
            "/repos/o/r/dispatches",
            {},
            {"event_type": "deploy", "client_payload": {str(i): i for i in range(11)}},
            "request body at /client_payload: {",
        ),
        (
            "GET",
            "/repos/o/r/actions/runs/abc/jobs",
            {},
            None,
            "path run_id at /: 'abc' is not of type 'integer'",
        ),
        (
            "GET",
            "/repos/o/r/actions/workflows/deploy-project.yml/runs",
            {"state": ["waiting"]},
            None,
            "undocumented query parameter 'state'",
        ),
        ("GET", "/repo/o/r", {}, None, "GET /repo/o/r is no operation of GitHub's REST API"),
    ],
)
def test_requests_github_would_refuse(
    spec: openapi.Spec,
    method: str,
    path: str,
    query: dict[str, list[str]],
    body: object,
    problem: str,
) -> None:
    raw = b"" if body is None else json.dumps(body).encode()
    problems = spec.check_request(method, path, query, raw)
    assert any(problem in p for p in problems), problems


def test_canned_answers_must_have_githubs_shape(spec: openapi.Spec) -> None:
    fake = FakeGitHub(spec, canned.TOKEN)
    broken = canned.run(1, "deploy shop")
    del broken["head_sha"]
    try:
        with pytest.raises(AssertionError, match="'head_sha' is a required property"):
            fake.on("GET", "/repos/o/r/actions/runs/1", Reply(200, broken))
        with pytest.raises(AssertionError, match="documented without a body"):
            fake.on("POST", "/repos/o/r/dispatches", Reply(204, {"ok": True}))
    finally:
        fake.stop()


def test_the_server_checks_githubs_headers(spec: openapi.Spec) -> None:
    fake = FakeGitHub(spec, canned.TOKEN).start()
    try:
        fake.on("GET", "/repos/o/r", Reply(200, canned.repository()))
        answer = requests.get(f"{fake.url}/repos/o/r", timeout=5)
    finally:
        fake.stop()
    assert answer.status_code == 500
    assert fake.problems == [
        "GET /repos/o/r: header Accept is not the expected value",
        "GET /repos/o/r: header X-GitHub-Api-Version is not the expected value",
        "GET /repos/o/r: header Authorization is not the expected value",
    ]
