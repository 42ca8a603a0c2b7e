"""Verifying a deploy request's GitHub Actions OIDC token. Pure: the issuer's keys (JWKS) and
the clock are arguments; fetching them is `oidc_http`'s.

An app repository's actions/deploy asks the runner for an OIDC token whose audience is the
platform repository (`deploy_audience`) and sends it in the dispatch payload. GitHub signs the
token (RS256) and names in it the repository and commit of the workflow run that asked, and
who started that run. The platform's plan job deploys only when

- the token is signed by a key of the issuer's JWKS (found by the header's `kid`),
- its issuer and audience are the expected ones, and the clock is within `nbf`..`exp`,
- its `repository` is the tenant's `app_repository` and its `sha` the payload's commit,

and then records the token's `actor`, never the payload's. A holder of a dispatch token
alone cannot deploy: only a workflow run of the tenant's own app repository can mint a token
that passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from platform_lib.errors import PlatformError

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
JWKS_PATH = "/.well-known/jwks"
ALGORITHM = "RS256"
"""What GitHub signs with; any other `alg` (`none`, `HS256`, ...) is refused."""
LEEWAY = timedelta(seconds=60)
"""Clock skew allowed between GitHub and the runner checking the token."""


class Refusal(StrEnum):
    """Why a deploy request's token was refused: the `reason` the CLI reports."""

    MISSING = "missing-token"
    MALFORMED = "malformed-token"
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"
    WRONG_ISSUER = "wrong-issuer"
    WRONG_AUDIENCE = "wrong-audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    WRONG_REPOSITORY = "wrong-repository"
    WRONG_SHA = "wrong-sha"
    NO_APP_REPOSITORY = "no-app-repository"


class TokenRefused(PlatformError):
    """The request is not what it claims to be; `reason` says which check failed."""

    def __init__(self, reason: Refusal, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Expected:
    """What a deploy request's token must say."""

    issuer: str
    audience: str
    repository: str
    """The tenant's `app_repository` (compared as GitHub does: case-insensitively)."""
    sha: str
    """The payload's commit."""


@dataclass(frozen=True)
class VerifiedRequest:
    """The claims of a token that passed, the ones the platform records or shows."""

    repository: str
    sha: str
    actor: str
    ref: str
    workflow_ref: str
    run_id: str
    event_name: str

    def as_dict(self) -> dict[str, str]:
        return {
            "repository": self.repository,
            "sha": self.sha,
            "actor": self.actor,
            "ref": self.ref,
            "workflow_ref": self.workflow_ref,
            "run_id": self.run_id,
            "event_name": self.event_name,
        }


GITHUB_SERVER = "https://github.com"


def deploy_audience(platform_repository: str, server_url: str = "") -> str:
    """The audience a deploy request's token is minted for: the platform repository's URL
    (`$GITHUB_SERVER_URL/<owner>/<name>`, github.com when unset), e.g.
    `https://github.com/example-org/multi-tenant-platform`."""
    return f"{(server_url or GITHUB_SERVER).rstrip('/')}/{platform_repository}"


def jwks_url(issuer: str) -> str:
    """Where an issuer publishes its keys (GitHub's: `<issuer>/.well-known/jwks`)."""
    return issuer.rstrip("/") + JWKS_PATH


def _signing_key(token: str, jwks: Mapping[str, Any]) -> Any:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise TokenRefused(Refusal.MALFORMED, "the OIDC token is not a JWT") from None
    if header.get("alg") != ALGORITHM:
        raise TokenRefused(
            Refusal.BAD_SIGNATURE,
            f"the OIDC token is signed with {header.get('alg')!r}, not {ALGORITHM}",
        )
    kid = header.get("kid")
    keys = [k for k in jwks.get("keys") or [] if isinstance(k, dict) and k.get("kid") == kid]
    if not kid or not keys:
        raise TokenRefused(
            Refusal.UNKNOWN_KEY,
            f"the OIDC token's key id {kid!r} is not among the issuer's published keys",
        )
    try:
        return jwt.PyJWK(keys[0], ALGORITHM).key
    except jwt.PyJWKError:
        raise TokenRefused(
            Refusal.UNKNOWN_KEY, f"the issuer's key {kid!r} is not an RSA signing key"
        ) from None


def _claims(token: str, key: Any) -> dict[str, Any]:
    """The payload, once the signature checks out; every claim is checked by the caller."""
    options: Any = {
        "verify_signature": True,
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
        "verify_aud": False,
        "verify_iss": False,
    }
    try:
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=[ALGORITHM], options=options)
    except jwt.InvalidSignatureError:
        raise TokenRefused(
            Refusal.BAD_SIGNATURE, "the OIDC token's signature does not verify"
        ) from None
    except jwt.InvalidTokenError:
        raise TokenRefused(Refusal.MALFORMED, "the OIDC token cannot be decoded") from None
    return claims


def _time(claims: Mapping[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TokenRefused(Refusal.MALFORMED, f"the OIDC token has no numeric {name!r} claim")
    return datetime.fromtimestamp(value, UTC)


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    return value if isinstance(value, str) else ""


def verify(
    token: str | None,
    jwks: Mapping[str, Any],
    now: datetime,
    expected: Expected,
    leeway: timedelta = LEEWAY,
) -> VerifiedRequest:
    """The verified claims of a deploy request's token, or `TokenRefused` with the reason."""
    if not token:
        raise TokenRefused(
            Refusal.MISSING,
            "the deploy request carries no OIDC token: the app's job needs `permissions: "
            "id-token: write` and the platform's actions/deploy",
        )
    claims = _claims(token, _signing_key(token, jwks))
    if claims.get("iss") != expected.issuer:
        raise TokenRefused(
            Refusal.WRONG_ISSUER,
            f"the OIDC token was issued by {claims.get('iss')!r}, not {expected.issuer!r}",
        )
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if expected.audience not in audiences:
        raise TokenRefused(
            Refusal.WRONG_AUDIENCE,
            f"the OIDC token is for {audience!r}, not for {expected.audience!r}",
        )
    expires, not_before = _time(claims, "exp"), _time(claims, "nbf")
    if now > expires + leeway:
        raise TokenRefused(
            Refusal.EXPIRED,
            f"the OIDC token expired at {expires:%Y-%m-%d %H:%M:%S} UTC: send the request again",
        )
    if now < not_before - leeway:
        raise TokenRefused(
            Refusal.NOT_YET_VALID,
            f"the OIDC token is not valid before {not_before:%Y-%m-%d %H:%M:%S} UTC",
        )
    repository = _text(claims, "repository")
    if repository.lower() != expected.repository.lower():
        raise TokenRefused(
            Refusal.WRONG_REPOSITORY,
            f"the OIDC token was issued to a run of {repository or 'no repository'}, not of "
            f"{expected.repository}, the tenant's app_repository",
        )
    sha = _text(claims, "sha")
    if sha != expected.sha:
        raise TokenRefused(
            Refusal.WRONG_SHA,
            f"the OIDC token was issued for commit {sha[:12] or 'none'}, not for the "
            f"request's {expected.sha[:12]}",
        )
    actor = _text(claims, "actor")
    if not actor:
        raise TokenRefused(Refusal.MALFORMED, "the OIDC token names no actor")
    return VerifiedRequest(
        repository=repository,
        sha=sha,
        actor=actor,
        ref=_text(claims, "ref"),
        workflow_ref=_text(claims, "workflow_ref"),
        run_id=_text(claims, "run_id"),
        event_name=_text(claims, "event_name"),
    )
