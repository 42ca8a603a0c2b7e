"""Deploy requests are verified, not believed: the OIDC token a request carries is checked
against the keys a local issuer publishes over HTTP (its own RSA key, as GitHub's token
service has its own), by the pure verifier and through `github verify-request`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from github.harness import Cli
from github.oidc_issuer import REQUEST_TOKEN, LocalIssuer, new_key

from platform_lib.errors import UsageError
from platform_lib.github import oidc
from platform_lib.github.oidc_http import OidcUnavailable, fetch_id_token, fetch_jwks
from platform_lib.github.payload import DeployPayload

APP = "example-org/shop"
SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER_SHA = "89abcdef0123456789abcdef0123456789abcdef"
AUDIENCE = "https://github.com/example-org/platform"
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    server = LocalIssuer(APP, SHA, actor="alice").start()
    yield server
    server.stop()


def expected(issuer: LocalIssuer) -> oidc.Expected:
    return oidc.Expected(issuer=issuer.url, audience=AUDIENCE, repository=APP, sha=SHA)


def unsigned(issuer: LocalIssuer) -> str:
    """A token with the right claims and `alg: none`."""
    return jwt.encode(
        {"iss": issuer.url, "aud": AUDIENCE, "repository": APP, "sha": SHA, "actor": "alice"},
        None,
        algorithm="none",
        headers={"kid": "local-issuer-key-1"},
    )


# token maker -> the reason it is refused for
REFUSED: dict[str, tuple[Callable[[LocalIssuer], str | None], oidc.Refusal]] = {
    "missing": (lambda i: None, oidc.Refusal.MISSING),
    "not a jwt": (lambda i: "not-a-token", oidc.Refusal.MALFORMED),
    "forged signature": (
        lambda i: i.mint(AUDIENCE, now=NOW, key=new_key()),
        oidc.Refusal.BAD_SIGNATURE,
    ),
    "unsigned": (unsigned, oidc.Refusal.BAD_SIGNATURE),
    "wrong key id": (
        lambda i: i.mint(AUDIENCE, now=NOW, kid="elsewhere"),
        oidc.Refusal.UNKNOWN_KEY,
    ),
    "expired": (
        lambda i: i.mint(AUDIENCE, now=NOW - timedelta(hours=1)),
        oidc.Refusal.EXPIRED,
    ),
    "not yet valid": (
        lambda i: i.mint(AUDIENCE, now=NOW + timedelta(hours=1)),
        oidc.Refusal.NOT_YET_VALID,
    ),
    "wrong issuer": (
        lambda i: i.mint(AUDIENCE, now=NOW, iss="https://token.example.test"),
        oidc.Refusal.WRONG_ISSUER,
    ),
    "wrong audience": (
        lambda i: i.mint("https://github.com/example-org", now=NOW),
        oidc.Refusal.WRONG_AUDIENCE,
    ),
    "wrong repository": (
        lambda i: i.mint(AUDIENCE, now=NOW, repository="example-org/blog"),
        oidc.Refusal.WRONG_REPOSITORY,
    ),
    "wrong sha": (lambda i: i.mint(AUDIENCE, now=NOW, sha=OTHER_SHA), oidc.Refusal.WRONG_SHA),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_verifier_refuses_with_a_reason(issuer: LocalIssuer, case: str) -> None:
    make, reason = REFUSED[case]
    with pytest.raises(oidc.TokenRefused) as refused:
        oidc.verify(make(issuer), issuer.jwks(), NOW, expected(issuer))
    assert refused.value.reason is reason


def test_the_verifier_accepts_a_valid_token_and_returns_its_actor(issuer: LocalIssuer) -> None:
    token = issuer.mint(AUDIENCE, now=NOW, actor="octo-cat", repository="Example-Org/Shop")
    verified = oidc.verify(token, issuer.jwks(), NOW + timedelta(minutes=4), expected(issuer))
    assert (verified.repository, verified.sha, verified.actor) == (
        "Example-Org/Shop",
        SHA,
        "octo-cat",
    )


def test_the_clock_allows_a_minute_of_skew(issuer: LocalIssuer) -> None:
    token = issuer.mint(AUDIENCE, now=NOW, lifetime=timedelta(minutes=5))
    oidc.verify(token, issuer.jwks(), NOW + timedelta(minutes=5, seconds=59), expected(issuer))
    with pytest.raises(oidc.TokenRefused) as refused:
        oidc.verify(token, issuer.jwks(), NOW + timedelta(minutes=6, seconds=1), expected(issuer))
    assert refused.value.reason is oidc.Refusal.EXPIRED


def test_the_audience_is_the_platform_repository() -> None:
    assert oidc.deploy_audience("example-org/platform") == AUDIENCE
    assert (
        oidc.deploy_audience("o/p", "https://ghe.example.test/") == "https://ghe.example.test/o/p"
    )
    assert oidc.jwks_url(oidc.GITHUB_ISSUER) == (
        "https://token.actions.githubusercontent.com/.well-known/jwks"
    )


def test_the_keys_and_a_token_are_fetched_over_http(issuer: LocalIssuer) -> None:
    assert fetch_jwks(issuer.jwks_url) == issuer.jwks()
    environ = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": issuer.request_url,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
    }
    token = fetch_id_token(environ, AUDIENCE)
    verified = oidc.verify(token, fetch_jwks(issuer.jwks_url), datetime.now(UTC), expected(issuer))
    assert verified.actor == "alice"


def test_fetching_fails_in_one_typed_error(issuer: LocalIssuer) -> None:
    with pytest.raises(UsageError):  # not in a job with id-token: write
        fetch_id_token({}, AUDIENCE)
    wrong = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": issuer.request_url,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "wrong",
    }
    with pytest.raises(OidcUnavailable) as failed:
        fetch_id_token(wrong, AUDIENCE)
    assert "wrong" not in str(failed.value)
    with pytest.raises(OidcUnavailable):
        fetch_jwks(f"{issuer.url}/nowhere")


# --- github verify-request, as the plan job runs it ------------------------------------


@pytest.fixture
def platform(root: Path, issuer: LocalIssuer) -> Path:
    """The test platform repository, its GitHub settings pointing at the local issuer, with
    one tenant built by example-org/shop and one that names no app repository."""
    settings = (root / "configs/platform.yml").read_text(encoding="utf-8")
    settings += f"  oidc_issuer: {issuer.url}\n  oidc_jwks_url: {issuer.jwks_url}\n"
    (root / "configs/platform.yml").write_text(settings, encoding="utf-8")
    for name, manifest in (("shop", f"app_repository: {APP}\n"), ("loose", "description: x\n")):
        (root / "configs" / name).mkdir()
        (root / "configs" / name / "project.yml").write_text(manifest, encoding="utf-8")
    return root


def event_file(root: Path, token: str | None, project: str = "shop") -> str:
    payload = DeployPayload.build(
        project=project, images={"web": DIGEST}, commit=SHA, actor="mallory",
        app_repository=APP, id_token=token,
    )  # fmt: skip
    path = root / "event.json"
    path.write_text(json.dumps({"client_payload": payload.model_dump(mode="json")}))
    return str(path)


def verify_request(cli: Cli, event: str) -> tuple[int, dict[str, Any]]:
    result = cli("verify-request", "--event", event)
    return result.code, json.loads(result.out)


# minted now, so that only the named check fails against the real clock
TODAY: dict[str, tuple[Callable[[LocalIssuer], str | None], oidc.Refusal]] = {
    "missing": (lambda i: None, oidc.Refusal.MISSING),
    "forged signature": (lambda i: i.mint(AUDIENCE, key=new_key()), oidc.Refusal.BAD_SIGNATURE),
    "wrong key id": (lambda i: i.mint(AUDIENCE, kid="elsewhere"), oidc.Refusal.UNKNOWN_KEY),
    "expired": (
        lambda i: i.mint(AUDIENCE, now=datetime.now(UTC) - timedelta(hours=1)),
        oidc.Refusal.EXPIRED,
    ),
    "wrong issuer": (
        lambda i: i.mint(AUDIENCE, iss=oidc.GITHUB_ISSUER),  # the real one: not configured
        oidc.Refusal.WRONG_ISSUER,
    ),
    "wrong audience": (
        lambda i: i.mint("https://github.com/example-org"),
        oidc.Refusal.WRONG_AUDIENCE,
    ),
    "wrong repository": (
        lambda i: i.mint(AUDIENCE, repository="example-org/blog"),
        oidc.Refusal.WRONG_REPOSITORY,
    ),
    "wrong sha": (lambda i: i.mint(AUDIENCE, sha=OTHER_SHA), oidc.Refusal.WRONG_SHA),
}


@pytest.mark.parametrize("case", sorted(TODAY))
def test_verify_request_refuses_with_a_reason_and_exit_1(
    cli: Cli, platform: Path, issuer: LocalIssuer, case: str
) -> None:
    make, reason = TODAY[case]
    code, answer = verify_request(cli, event_file(platform, make(issuer)))
    assert (code, answer["verified"], answer["reason"]) == (1, False, reason.value)


def test_verify_request_accepts_and_reports_the_tokens_actor(
    cli: Cli, platform: Path, issuer: LocalIssuer
) -> None:
    token = issuer.mint(AUDIENCE)
    result = cli("verify-request", "--event", event_file(platform, token))
    assert result.code == 0
    answer = json.loads(result.out)
    assert (answer["verified"], answer["repository"], answer["sha"]) == (True, APP, SHA)
    assert answer["actor"] == "alice"  # the token's, not the payload's "mallory"
    assert token not in result.out + result.err


def test_a_tenant_without_app_repository_cannot_be_verified(
    cli: Cli, platform: Path, issuer: LocalIssuer
) -> None:
    code, answer = verify_request(cli, event_file(platform, issuer.mint(AUDIENCE), "loose"))
    assert (code, answer["reason"]) == (1, "no-app-repository")
