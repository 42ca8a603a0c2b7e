"""What can go wrong talking to GitHub, each as one line a person can act on.

    PlatformError (platform_lib.errors)
    └── GitHubError              any failed GitHub call; the CLI prints it as one line, exit 1
        ├── TokenMissing         no token in GH_TOKEN, GITHUB_TOKEN or `gh auth token`
        ├── Unauthorized         401: the token is wrong or expired
        ├── Forbidden            403: the token lacks a permission
        │   └── RateLimited      403/429 with retry-after or an exhausted rate limit
        ├── NotFound             404: no such repository, workflow, environment (or not visible)
        ├── Unprocessable        422: GitHub understood the request and refused it
        ├── ApprovalRefused      approving/rejecting needs a required reviewer's own user token
        ├── PayloadInvalid       a dispatch payload over GitHub's limits, found before sending
        └── FollowFailed         the run a dispatch started failed, or never showed up

No message ever contains the token: the client redacts it from anything GitHub echoes back.
"""

from __future__ import annotations

from platform_lib.errors import PlatformError


class GitHubError(PlatformError):
    """A GitHub call failed; `status` is the HTTP status when there was an answer."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class TokenMissing(GitHubError):
    pass


class Unauthorized(GitHubError):
    pass


class Forbidden(GitHubError):
    pass


class RateLimited(Forbidden):
    pass


class NotFound(GitHubError):
    pass


class Unprocessable(GitHubError):
    pass


class ApprovalRefused(GitHubError):
    pass


class PayloadInvalid(GitHubError):
    pass


class FollowFailed(GitHubError):
    pass
