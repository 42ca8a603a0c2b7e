"""HTTP to GitHub's REST API: headers, bounded retries on rate limits, one-line errors.

Only this module touches `requests`. A rate-limited call is retried (at most `attempts` tries)
when GitHub says how long to wait: `retry-after`, else `x-ratelimit-reset` when
`x-ratelimit-remaining` is 0. A wait longer than `max_wait` fails at once with the time to
come back, instead of hanging a terminal or a CI job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from pydantic import SecretStr

from platform_lib import __version__
from platform_lib.github.errors import (
    Forbidden,
    GitHubError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unprocessable,
)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
REDACTED = "***"


class BearerAuth(requests.auth.AuthBase):
    """Adds the token to each request. Set as `session.auth`, which also keeps requests from
    replacing it with ~/.netrc credentials; requests drops it on redirects to another host."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        return request

    def __repr__(self) -> str:
        return f"BearerAuth({self._token!r})"


def rate_limit_wait(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """Seconds GitHub asks us to wait before retrying, or None if this is no rate limit."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    reset = headers.get("x-ratelimit-reset", "").strip()
    if headers.get("x-ratelimit-remaining", "").strip() == "0" and reset.isdigit():
        return max(0.0, float(reset) - now)
    return None


def _github_message(response: requests.Response) -> str:
    """GitHub's own words: `message`, plus the `errors` of a 422, on one line."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if not isinstance(body, dict):
        return response.reason or ""
    parts = [str(body.get("message") or response.reason or "")]
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            detail = error.get("message") or " ".join(
                str(error[k]) for k in ("resource", "field", "code") if error.get(k)
            )
            parts.append(str(detail))
        else:
            parts.append(str(error))
    return "; ".join(" ".join(p.split()) for p in parts if p)


def error_for(
    method: str, path: str, response: requests.Response, redact: Callable[[str], str]
) -> GitHubError:
    """One line for a failed call; whatever GitHub said passes through `redact` first."""
    status = response.status_code
    said = redact(_github_message(response))
    where = f"{method} {path}"
    if status == 401:
        return Unauthorized(
            f"{where}: GitHub rejected the token (401 {said}); set GH_TOKEN to a valid token "
            "or run `gh auth login`",
            status,
        )
    if status == 403:
        needs = response.headers.get("x-accepted-github-permissions")
        hint = f"the token needs {needs}" if needs else "the token lacks a permission for this"
        return Forbidden(f"{where}: forbidden (403 {said}); {hint}", status)
    if status == 404:
        return NotFound(
            f"{where}: not found (404); it does not exist, or the token cannot see it "
            "(check --repo and the token's repository access)",
            status,
        )
    if status == 422:
        return Unprocessable(f"{where}: GitHub refused the request (422 {said})", status)
    return GitHubError(f"{where}: GitHub answered {status} {said}".rstrip(), status)


class Transport:
    """Sends one REST call and returns the decoded JSON (None for an empty answer)."""

    def __init__(
        self,
        token: SecretStr,
        base_url: str = DEFAULT_API_URL,
        *,
        session: requests.Session | None = None,
        attempts: int = 3,
        max_wait: float = 60.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.session = session or requests.Session()
        self.session.auth = BearerAuth(token)
        self.session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"platform-lib/{__version__}",
            }
        )
        self.attempts = max(1, attempts)
        self.max_wait = max_wait
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r}, token={self._token!r})"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> Any:
        for attempt in range(1, self.attempts + 1):
            response = self._send(method, path, params, body)
            wait = rate_limit_wait(response.status_code, response.headers, self._clock())
            if wait is None:
                break
            if attempt == self.attempts or wait > self.max_wait:
                until = datetime.fromtimestamp(self._clock() + wait, UTC)
                raise RateLimited(
                    f"{method} {path}: rate limited by GitHub ({response.status_code} "
                    f"{self.redact(_github_message(response))}); try again after "
                    f"{until:%H:%M:%S} UTC (in {wait:.0f} s)",
                    response.status_code,
                )
            self._sleep(wait)
        if response.status_code >= 400:
            raise error_for(method, path, response, self.redact)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise GitHubError(
                f"{method} {path}: GitHub answered {response.status_code} with no JSON",
                response.status_code,
            ) from None

    def _send(
        self, method: str, path: str, params: Mapping[str, str | int] | None, body: Any
    ) -> requests.Response:
        try:
            return self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=body,
                timeout=self.timeout,
                allow_redirects=True,
            )
        except requests.RequestException as exc:
            # The exception text names the URL, never the headers; still one line.
            raise GitHubError(
                f"{method} {path}: cannot reach {self.base_url} ({type(exc).__name__})"
            ) from None

    def redact(self, text: str) -> str:
        secret = self._token.get_secret_value()
        return text.replace(secret, REDACTED) if secret else text
