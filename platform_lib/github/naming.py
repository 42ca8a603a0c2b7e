"""Names shared with the deploy workflow, and how to read them back from GitHub's answers.

GitHub's REST API returns neither a run's workflow_dispatch inputs nor its repository_dispatch
payload. What a waiting run would deploy is therefore read from names the workflow sets:

- the run title (`run-name:`), rendered by `render_title`:
      deploy <project>[ to <environment>][: <service>=<ref> ...][ (<source>)][ [request <id>]]
  `notify` sends the whole title as `client_payload.run_name`, ending in the request's own
  random id, so the sender finds exactly the run its request started (`run_for_request`)
  however many look alike; a workflow_dispatch run builds
  it from its inputs: `deploy <project> to <environment>: <images> (by <actor>)`;
- each deploy job's name: `deploy <project> to <environment>` (matrix jobs included), which
  says which projects a run's waiting environment gate would release, and how staging went;
- each deploy job's GitHub environment: `<project>-<environment>` (`github_environment`), one
  per tenant and platform environment, so an approval, its reviewers, its secrets and its URL
  belong to one tenant. Platform environment names have no dash, so the name splits back at
  its last dash (`parse_github_environment`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from platform_lib.config.images import parse_image
from platform_lib.models.names import ENV_NAME_PATTERN, PROJECT_NAME_PATTERN

WORKFLOW_FILE = "deploy-project.yml"
WORKFLOW_PATH = f".github/workflows/{WORKFLOW_FILE}"
TENANT_WORKFLOW_FILE = "deploy-tenant.yml"
"""The per-tenant workflow deploy-project.yml calls once per tenant: its jobs show as
`<project> / deploy <project> to <environment>`, which `parse_job_name` reads."""
ROLLBACK_WORKFLOW_FILE = "rollback-project.yml"
"""workflow_dispatch: project, environment, release; `github trigger --rollback`."""
EVENT_TYPE = "deploy"

_PROJECT = PROJECT_NAME_PATTERN
_ENV = ENV_NAME_PATTERN
_TITLE = re.compile(
    rf"^deploy (?P<project>{_PROJECT})(?: to (?P<env>{_ENV}))?"
    r"(?::(?P<images>[^()\[\]]*))?(?: \((?P<source>[^()]*)\))?"
    r"(?: \[request (?P<request>[0-9a-f]+)\])?\s*$"
)
_GITHUB_ENV = re.compile(
    rf"^(?P<project>{_PROJECT})-(?P<env>{_ENV})(?:-approval-(?P<gate>[1-9]))?$"
)
_JOB = re.compile(rf"(?:^|[\s/(])deploy (?P<project>{_PROJECT}) to (?P<env>{_ENV})(?:$|[\s)])")


@dataclass(frozen=True)
class RunTitle:
    project: str
    environment: str | None = None
    images: Mapping[str, str] = field(default_factory=dict)
    source: str | None = None
    request_id: str | None = None


def short_ref(ref: str) -> str:
    """The digest of a reference when it has one (what identifies the image), else the ref."""
    digest = parse_image(ref).digest
    return digest or ref


def render_title(
    project: str,
    images: Mapping[str, str],
    environment: str | None = None,
    source: str | None = None,
    request_id: str | None = None,
) -> str:
    text = f"deploy {project}" + (f" to {environment}" if environment else "")
    if images:
        text += ": " + " ".join(f"{s}={short_ref(r)}" for s, r in sorted(images.items()))
    text += f" ({source})" if source else ""
    return text + (f" [request {request_id}]" if request_id else "")


def parse_title(title: str) -> RunTitle | None:
    """The parts of a run title made by `render_title` (or the workflow); None for others,
    e.g. a push run titled with its commit message."""
    match = _TITLE.match(title.strip())
    if match is None:
        return None
    images: dict[str, str] = {}
    for token in (match["images"] or "").split():
        service, sep, ref = token.partition("=")
        if sep and service and ref:
            images[service] = ref
    return RunTitle(match["project"], match["env"], images, match["source"], match["request"])


def job_name(project: str, environment: str) -> str:
    return f"deploy {project} to {environment}"


def parse_job_name(name: str) -> tuple[str, str] | None:
    """(project, environment) of a deploy job, also inside a reusable workflow's
    `caller / callee` name; None for other jobs."""
    match = _JOB.search(name)
    return (match["project"], match["env"]) if match else None


def github_environment(project: str, environment: str) -> str:
    """The GitHub environment a tenant's deploy job to a platform environment runs in; the
    workflow spells the same name as `${{ matrix.project }}-<environment>`."""
    return f"{project}-{environment}"


def parse_github_environment(name: str) -> tuple[str, str] | None:
    """(project, platform environment) of a per-tenant GitHub environment, or of one of its
    approval gates; None for any other name, e.g. the shared `production` of a platform
    repository not yet moved."""
    match = _GITHUB_ENV.match(name)
    return (match["project"], match["env"]) if match else None


def approval_environment(project: str, environment: str, gate: int) -> str:
    """The GitHub environment of a deploy's `gate`-th extra approval (1-based): the deploy
    job's own environment is the last approval. A platform environment name starts with a
    letter, so `<project>-<env>-approval-<n>` never reads as a tenant's deploy environment."""
    return f"{github_environment(project, environment)}-approval-{gate}"


def approval_gate(name: str) -> int | None:
    """The gate number of an approval environment's name; None for any other name."""
    match = _GITHUB_ENV.match(name)
    return int(match["gate"]) if match and match["gate"] else None
