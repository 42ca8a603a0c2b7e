"""The client against a real local HTTP server playing GitHub: errors as one line, bounded
rate-limit retries, payload limits before sending, and a token that never shows."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import canned
from github.canned import TOKEN
from github.fake_github import FakeGitHub, Reply
from pydantic import SecretStr

from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.errors import (
    Forbidden,
    GitHubError,
    NotFound,
    PayloadInvalid,
    RateLimited,
    TokenMissing,
    Unauthorized,
    Unprocessable,
)
from platform_lib.github.token import find_token
from platform_lib.github.transport import Transport

REPO = Repo("example-org", "platform")
NOW = 1_800_000_000.0


class Clock:
    """A clock that only moves when the client sleeps, recording each sleep."""

    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(github: FakeGitHub, clock: Clock) -> GitHubClient:
    transport = Transport(SecretStr(TOKEN), github.url, max_wait=10, sleep=clock.sleep, clock=clock)
    return GitHubClient(transport)


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def assert_secret(exc: BaseException) -> None:
    for link in chain(exc):
        assert TOKEN not in str(link) and TOKEN not in repr(link)


def test_answers_become_models(github: FakeGitHub, client: GitHubClient) -> None:
    github.on("GET", "/repos/example-org/platform", Reply(200, canned.repository("trunk")))
    assert client.repository(REPO).default_branch == "trunk"
    assert github.lines == ["GET /repos/example-org/platform"]


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (
            Reply(401, canned.error("Bad credentials", 401)),
            Unauthorized,
            "GET /repos/example-org/platform: GitHub rejected the token (401 Bad credentials); "
            "set GH_TOKEN to a valid token or run `gh auth login`",
        ),
        (
            Reply(
                403,
                canned.error("Resource not accessible by personal access token", 403),
                {"x-accepted-github-permissions": "metadata=read"},
            ),
            Forbidden,
            "GET /repos/example-org/platform: forbidden (403 Resource not accessible by "
            "personal access token); the token needs metadata=read",
        ),
        (
            Reply(404, canned.error("Not Found", 404)),
            NotFound,
            "GET /repos/example-org/platform: not found (404); it does not exist, or the token "
            "cannot see it (check --repo and the token's repository access)",
        ),
        (
            Reply(
                422,
                {
                    "message": "Validation Failed",
                    "documentation_url": "https://docs.github.com/rest",
                    "errors": [{"resource": "Repository", "field": "name", "code": "invalid"}],
                },
            ),
            Unprocessable,
            "GET /repos/example-org/platform: GitHub refused the request (422 Validation Failed; "
            "Repository name invalid)",
        ),
    ],
    ids=["401", "403", "404", "422"],
)
def test_errors_are_one_line(
    github: FakeGitHub, client: GitHubClient, reply: Reply, error: type[GitHubError], message: str
) -> None:
    github.on("GET", "/repos/example-org/platform", reply)
    with pytest.raises(error) as caught:
        client.repository(REPO)
    assert str(caught.value) == message
    assert caught.value.status == reply.status
    assert caught.value.__suppress_context__ or caught.value.__context__ is None
    assert len(github.seen) == 1  # no retry without a rate limit


def test_what_github_echoes_is_redacted(github: FakeGitHub, client: GitHubClient) -> None:
    echo = {"message": f"Bad token {TOKEN}", "documentation_url": "https://docs.github.com/rest"}
    github.on("POST", "/repos/example-org/platform/dispatches", Reply(422, echo))
    with pytest.raises(Unprocessable) as caught:
        client.dispatch(REPO, "deploy", {"project": "shop"})
    assert str(caught.value) == (
        "POST /repos/example-org/platform/dispatches: GitHub refused the request "
        "(422 Bad token ***)"
    )
    assert_secret(caught.value)


def test_the_token_never_shows(client: GitHubClient) -> None:
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(client.transport.session.auth)
    assert repr(find_token({"GH_TOKEN": TOKEN})) == "SecretStr('**********')"


RATE_LIMITED = canned.error("API rate limit exceeded for user ID 1.", 403)


def test_retry_after_is_honoured(github: FakeGitHub, client: GitHubClient, clock: Clock) -> None:
    github.on(
        "GET",
        "/repos/example-org/platform",
        Reply(429, RATE_LIMITED, {"retry-after": "3"}),
        Reply(200, canned.repository()),
    )
    assert client.repository(REPO).full_name == "example-org/platform"
    assert clock.sleeps == [3.0]
    assert len(github.seen) == 2


def test_an_exhausted_rate_limit_waits_for_its_reset(
    github: FakeGitHub, client: GitHubClient, clock: Clock
) -> None:
    limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 7)}
    github.on(
        "GET",
        "/repos/example-org/platform",
        Reply(403, RATE_LIMITED, limited),
        Reply(200, canned.repository()),
    )
    client.repository(REPO)
    assert clock.sleeps == [7.0]


def test_retries_are_bounded(github: FakeGitHub, client: GitHubClient, clock: Clock) -> None:
    github.on("GET", "/repos/example-org/platform", Reply(403, RATE_LIMITED, {"retry-after": "2"}))
    with pytest.raises(RateLimited) as caught:
        client.repository(REPO)
    assert len(github.seen) == 3
    assert clock.sleeps == [2.0, 2.0]
    assert str(caught.value) == (
        "GET /repos/example-org/platform: rate limited by GitHub (403 API rate limit exceeded "
        "for user ID 1.); try again after 08:00:06 UTC (in 2 s)"
    )


def test_a_long_wait_fails_at_once(github: FakeGitHub, client: GitHubClient, clock: Clock) -> None:
    limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 3600)}
    github.on("GET", "/repos/example-org/platform", Reply(403, RATE_LIMITED, limited))
    with pytest.raises(RateLimited, match=r"try again after 09:00:00 UTC \(in 3600 s\)$"):
        client.repository(REPO)
    assert (len(github.seen), clock.sleeps) == (1, [])


def test_real_sleeping_is_short_and_bounded(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the environment, as the CLI builds it: a real 1 s wait, then success."""
    monkeypatch.setenv("PLATFORM_GITHUB_MAX_WAIT", "1")
    github.on(
        "GET",
        "/repos/example-org/platform",
        Reply(429, RATE_LIMITED, {"retry-after": "1"}),
        Reply(200, canned.repository()),
    )
    assert GitHubClient.from_environment(os.environ).repository(REPO).default_branch == "main"
    assert len(github.seen) == 2


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({f"key{i}": i for i in range(11)}, "client_payload has 11 top-level keys"),
        ({"blob": "x" * 65_536}, "client_payload is 65547 bytes; GitHub needs it under 65536"),
    ],
    ids=["11-keys", "over-64KB"],
)
def test_payload_limits_are_checked_before_sending(
    github: FakeGitHub, client: GitHubClient, payload: dict[str, object], message: str
) -> None:
    with pytest.raises(PayloadInvalid, match=message):
        client.dispatch(REPO, "deploy", payload)
    assert github.seen == []


def test_an_answer_without_the_fields_used_is_an_error(
    github: FakeGitHub, client: GitHubClient
) -> None:
    gate = canned.pending(7, "production")
    del gate["environment"]["id"]  # optional in GitHub's description, needed to approve
    github.on(
        "GET", "/repos/example-org/platform/actions/runs/1/pending_deployments", Reply(200, [gate])
    )
    with pytest.raises(GitHubError) as caught:
        client.pending_deployments(REPO, 1)
    assert str(caught.value) == (
        "GET /repos/example-org/platform/actions/runs/1/pending_deployments: unexpected answer "
        "from GitHub (0.environment.id: Field required)"
    )


def test_an_unreachable_api_is_one_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GitHubClient(Transport(SecretStr(TOKEN), f"http://127.0.0.1:{port}", timeout=2))
    with pytest.raises(GitHubError) as caught:
        client.repository(REPO)
    assert str(caught.value) == (
        f"GET /repos/example-org/platform: cannot reach http://127.0.0.1:{port} (ConnectionError)"
    )
    assert_secret(caught.value)


def test_token_from_the_github_cli(
    github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh = tmp_path / "bin" / "gh"
    gh.parent.mkdir()
    gh.write_text(f'#!/bin/sh\n[ "$1 $2" = "auth token" ] && echo {TOKEN}\n', encoding="utf-8")
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    monkeypatch.delenv("GH_TOKEN")
    monkeypatch.setenv("PATH", f"{gh.parent}{os.pathsep}{os.environ['PATH']}")
    github.on("GET", "/repos/example-org/platform", Reply(200, canned.repository()))
    GitHubClient.from_environment(os.environ).repository(REPO)  # the server checks the header


def test_no_token_anywhere() -> None:
    with pytest.raises(
        TokenMissing, match=r"^no GitHub token: set GH_TOKEN \(or GITHUB_TOKEN\), or log in"
    ):
        find_token({"GITHUB_TOKEN": " "}, which=lambda name: None)


def test_gh_token_wins_over_github_token() -> None:
    assert find_token({"GH_TOKEN": "a", "GITHUB_TOKEN": "b"}).get_secret_value() == "a"
    assert find_token({"GITHUB_TOKEN": "b"}).get_secret_value() == "b"
