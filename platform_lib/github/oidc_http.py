"""The network edge of OIDC: the issuer's published keys (for the platform's plan job) and a
token from the Actions runner (for an app repository's actions/deploy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from platform_lib.errors import PlatformError, UsageError

TIMEOUT = 30.0
REQUEST_URL = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"  # noqa: S105 the variable's name


class OidcUnavailable(PlatformError):
    """The keys or the token could not be fetched."""


def fetch_jwks(url: str, session: requests.Session | None = None) -> dict[str, Any]:
    """`GET <issuer>/.well-known/jwks`: the issuer's public signing keys."""
    http = session or requests.Session()
    try:
        answer = http.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        answer.raise_for_status()
        keys: Any = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise OidcUnavailable(f"cannot read the OIDC issuer's keys at {url}: {exc}") from None
    if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
        raise OidcUnavailable(f"{url} is not a JSON Web Key Set")
    return keys


def fetch_id_token(
    environ: Mapping[str, str], audience: str, session: requests.Session | None = None
) -> str:
    """An OIDC token for `audience` from the runner of this job (it needs `permissions:
    id-token: write`, which sets ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN)."""
    url, bearer = environ.get(REQUEST_URL), environ.get(REQUEST_TOKEN)
    if not url or not bearer:
        raise UsageError(
            f"no OIDC token to prove where this request comes from ({REQUEST_URL} is unset): "
            "run it in a GitHub Actions job with `permissions: id-token: write`"
        )
    separator = "&" if "?" in url else "?"
    http = session or requests.Session()
    try:
        answer = http.get(
            f"{url}{separator}audience={quote(audience, safe='')}",
            timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {bearer}", "Accept": "application/json"},
        )
        answer.raise_for_status()
        value: Any = answer.json().get("value")
    except (requests.RequestException, ValueError, AttributeError) as exc:
        # the exception names the URL, never the bearer token
        raise OidcUnavailable(f"the runner gave no OIDC token: {type(exc).__name__}") from None
    if not isinstance(value, str) or not value:
        raise OidcUnavailable("the runner's answer holds no OIDC token")
    return value
