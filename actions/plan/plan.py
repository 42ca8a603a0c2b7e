"""What a run of the Deploy Project workflow deploys, worked out from the event that started it.

  repository_dispatch (type deploy)  an app repo's actions/deploy: one project, its new images
                                     by digest, staging then production
  push to the default branch         every tenant the whole pushed range affects
                                     (`changed --base before --head sha`), staging then
                                     production, each keeping the images it runs
  workflow_dispatch                  one project to one environment (staging or production),
                                     optional images (`python -m platform_lib github trigger`)

It validates every config first (`validate --format github`: annotations on the files), checks
a request's project and images against the configs, shows it all in the job summary (with a
staging plan preview when the images are known) and writes the step outputs the deploy jobs
use: `matrix` ({"include": [{"project": ..., "images": ..., "gates": [...]}]}), the same
tenants cut into `chunk_1..4` with their `max_parallel_1..4` (platform_lib/github/matrix.py),
`count`, `staging`, `production`, `actor` and `blocked` (tenants left out because their own
configs are invalid; a problem in a shared file deploys nobody). A push whose `before` is not
in the history (a force-push) or that created the branch deploys every tenant, with a notice.
A dispatch deploys only when its OIDC token passes `github
verify-request` (signed by the issuer, for this platform repository, issued to a run of the
tenant's app_repository at the payload's commit); its `actor` is the token's.

Reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_SHA, GITHUB_ACTOR and
PLATFORM_ROOT (default: the current directory); runs with the platform's venv python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gha
import yaml
from imagerefs import as_lines, parse_images, repository_of
from pydantic import ValidationError

from platform_lib.config.placement import placement_host
from platform_lib.github.gates import required_approvals
from platform_lib.github.matrix import CHUNK_SLOTS, Leg, TooManyTenants, chunks
from platform_lib.github.payload import DeployPayload
from platform_lib.github.settings import load_manifest, load_settings

PROJECT = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
ACTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
ENVIRONMENTS = ("staging", "production")


class RequestError(Exception):
    """A problem with what the event asks for; all of them are reported at once."""


@dataclass
class Request:
    trigger: str
    projects: list[str] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)
    environments: tuple[str, ...] = ("staging", "production")
    actor: str = ""
    origin: str = ""
    deleted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the summary must say about how the tenants were found (a force-push)."""


def normalize_actor(name: str, problems: list[str]) -> str:
    """A GitHub login as the platform records it (`renovate[bot]` -> `renovate-bot`)."""
    actor = re.sub(r"\[bot\]$", "-bot", name.strip())
    if not ACTOR.fullmatch(actor):
        problems.append(f"actor {name!r} is not a GitHub login")
        return "unknown"
    return actor


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def check_request(root: Path, request: Request) -> None:
    """The requested project exists, builds the given services, and the refs name its repos."""
    settings = read_yaml(root / "configs" / "platform.yml")
    registry = settings.get("registry") or {}
    for project in request.projects:
        manifest_path = root / "configs" / project / "project.yml"
        if not PROJECT.fullmatch(project):
            request.problems.append(f"project {project!r}: not a project name")
            continue
        if not manifest_path.is_file():
            known = sorted(p.parent.name for p in (root / "configs").glob("*/project.yml"))
            request.problems.append(
                f"unknown project {project!r} (projects: {', '.join(known) or 'none'})"
            )
            continue
        manifest = read_yaml(manifest_path)
        built = manifest.get("images") or {}
        for service, ref in request.images.items():
            if service not in built:
                request.problems.append(
                    f"{project} does not build {service!r} "
                    f"(built services: {', '.join(sorted(built)) or 'none'})"
                )
                continue
            expected = (
                f"{registry.get('host')}/{registry.get('namespace')}/"
                f"{built[service].get('repository')}"
            )
            given = repository_of(ref)
            if given and given != expected:
                request.problems.append(
                    f"image {service}={ref}: {project}/{service} deploys from {expected}"
                )


def verify(event_path: str, root: Path, request: Request) -> dict[str, Any] | None:
    """`github verify-request`: the request's OIDC token checked against the issuer's keys;
    its claims when it passes, else None with the reason among the problems."""
    done = gha.platform(["github", "verify-request", "--root", str(root), "--event", event_path])
    try:
        answer = json.loads(done.stdout)
    except json.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        request.problems.append(f"cannot verify the deploy request: {done.stderr.strip()}")
        return None
    if done.returncode != 0 or answer.get("verified") is not True:
        request.problems.append(
            f"deploy request refused ({answer.get('reason')}): {answer.get('message')}"
        )
        return None
    return answer


def dispatch_request(event: dict[str, Any], event_path: str, root: Path) -> Request:
    """An app repo's deploy request: `client_payload` is platform_lib's DeployPayload (the
    model `github notify` sends), read back with the same model. Its OIDC token must prove
    that a workflow run of the tenant's app_repository sent it for the payload's commit; the
    deploy is recorded as the token's actor, never the payload's."""
    request = Request(trigger="repository_dispatch")
    try:
        payload = DeployPayload.model_validate(event.get("client_payload"))
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            where = ".".join(str(p) for p in error["loc"]) or "client_payload"
            message = str(error["msg"]).removeprefix("Value error, ")
            request.problems.append(f"client_payload {where}: {message}")
        return request
    if payload.id_token:
        gha.mask(payload.id_token)
    request.projects = [payload.project]
    request.images = dict(payload.images)
    request.origin = f"{payload.app_repository}@{payload.commit[:12]}, unverified"
    request.actor = "unknown"
    manifest = read_yaml(root / "configs" / payload.project / "project.yml")
    allowed = str(manifest.get("app_repository") or "")
    if allowed and payload.app_repository.lower() != allowed.lower():
        request.problems.append(
            f"{payload.project} takes images from {allowed} only, not from {payload.app_repository}"
        )
    if not manifest:
        return request  # check_request names the unknown project
    verified = verify(event_path, root, request)
    if verified is not None:
        request.actor = normalize_actor(str(verified.get("actor") or ""), request.problems)
        request.origin = (
            f"{verified.get('repository')}@{str(verified.get('sha'))[:12]}, verified: "
            f"{verified.get('workflow_ref') or 'a workflow run'}"
        )
    return request


def manual_request(event: dict[str, Any]) -> Request:
    """A person's workflow_dispatch (or `python -m platform_lib github trigger`): one project
    to one environment. Staging may be given tags; production only takes digests, and only
    ones staging verified (actions/apply checks)."""
    inputs = event.get("inputs") or {}
    request = Request(trigger="workflow_dispatch")
    project = str(inputs.get("project") or "").strip()
    if not project:
        request.problems.append("the project input is empty")
    request.projects = [project] if project else []
    environment = str(inputs.get("environment") or "").strip()
    if environment not in ENVIRONMENTS:
        request.problems.append(
            f"environment {environment!r}: choose one of {', '.join(ENVIRONMENTS)}"
        )
    request.environments = (environment,) if environment in ENVIRONMENTS else ()
    request.images = parse_images(
        inputs.get("images"), request.problems, tags=environment == "staging"
    )
    request.actor = normalize_actor(os.environ.get("GITHUB_ACTOR", ""), request.problems)
    request.origin = "a manual run"
    return request


def push_request(event: dict[str, Any], root: Path) -> Request:
    request = Request(trigger="push")
    base = str(event.get("before") or "")
    head = os.environ.get("GITHUB_SHA") or str(event.get("after") or "")
    request.actor = normalize_actor(os.environ.get("GITHUB_ACTOR", ""), request.problems)
    request.origin = f"push {base[:12]}..{head[:12]}"
    if not base or not head:
        request.problems.append("the push event names no before/after commits")
        return request
    if set(base) == {"0"} or not has_commit(root, base):
        # A force-push rewrote the branch (its old tip is not in the new history), or the
        # branch was created: no range says what changed, so every tenant is deployed.
        why = (
            "the push created the branch"
            if set(base) == {"0"}
            else f"the push's `before` commit {base[:12]} is not in this checkout's history "
            "(a force-push rewrote the branch)"
        )
        request.projects = every_tenant(root)
        request.notes.append(f"{why}: what changed is unknown, so every tenant is deployed")
        gha.notice(request.notes[-1], title="every tenant")
        return request
    done = gha.platform(["changed", "--root", str(root), "--base", base, "--head", head])
    if done.returncode != 0:
        request.problems.append(f"changed --base {base} --head {head}: {done.stderr.strip()}")
        return request
    changes = json.loads(done.stdout)
    request.projects = list(changes["changed"])
    request.deleted = list(changes["deleted"])
    return request


def has_commit(root: Path, sha: str) -> bool:
    done = subprocess.run(
        ["git", "-C", str(root), "cat-file", "-e", f"{sha}^{{commit}}"],
        capture_output=True, check=False,
    )  # fmt: skip
    return done.returncode == 0


def every_tenant(root: Path) -> list[str]:
    return sorted(
        p.parent.name
        for p in (root / "configs").glob("*/project.yml")
        if PROJECT.fullmatch(p.parent.name)
    )


def invalid_tenants(root: Path) -> tuple[dict[str, list[str]], list[str]]:
    """`validate --format json` by tenant: project -> its problems, and the problems of
    shared files (configs/platform.yml and the like), which block every tenant."""
    done = gha.platform(["validate", "--root", str(root), "--format", "json"])
    try:
        problems = json.loads(done.stdout)["problems"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return {}, [f"validate failed: {done.stderr.strip()}"]
    tenants: dict[str, list[str]] = {}
    shared: list[str] = []
    for problem in problems:
        where = str(problem.get("file") or "")
        text = (
            f"{where}:{problem.get('line') or 1}: {problem.get('message')} ({problem.get('rule')})"
        )
        parts = where.split("/")
        if len(parts) >= 3 and parts[0] == "configs" and PROJECT.fullmatch(parts[1]):
            tenants.setdefault(parts[1], []).append(text)
        else:
            shared.append(text)
    return tenants, shared


def legs(root: Path, request: Request, projects: list[str], images: str) -> list[Leg]:
    """One leg per tenant: its production approval gates and the hosts it deploys to."""
    settings = load_settings(root)
    found = []
    for project in projects:
        manifest = load_manifest(root, project)
        hosts: list[str] = []
        if settings is not None and manifest is not None:
            hosts = [
                placement_host(settings, manifest, env)
                for env in request.environments
                if env in settings.environments
            ]
        needed = 0
        if (
            settings is not None
            and manifest is not None
            and "production" in request.environments
            and "production" in settings.environments
        ):
            needed = required_approvals(settings, manifest, "production")
        gates = tuple(range(1, needed))  # the deploy job's own environment is the last gate
        found.append(Leg(project, images, gates, tuple(hosts), needed))
    return found


def host_limits(root: Path) -> dict[str, int]:
    """Each host's max_parallel_deploys; a host named in two environments takes the lower."""
    settings = load_settings(root)
    limits: dict[str, int] = {}
    for environment in settings.environments.values() if settings else ():
        for name, host in environment.hosts.items():
            limits[name] = min(
                limits.get(name, host.max_parallel_deploys), host.max_parallel_deploys
            )
    return limits


def preview(root: Path, project: str, images: dict[str, str], actor: str) -> str | None:
    """The staging plan as text, when every built service has an image (else None)."""
    manifest = read_yaml(root / "configs" / project / "project.yml")
    if set(manifest.get("images") or {}) - set(images):
        return None
    args = ["plan", "--root", str(root), "--project", project, "--env", "staging"]
    args += [a for service, ref in sorted(images.items()) for a in ("--image", f"{service}={ref}")]
    done = gha.platform([*args, "--actor", actor, "--format", "text"])
    if done.returncode != 0:
        raise RequestError(f"the staging plan of {project} fails: {done.stderr.strip()}")
    return done.stdout


def main() -> int:
    root = Path(os.environ.get("PLATFORM_ROOT") or ".").resolve()
    event_name = os.environ.get("GITHUB_EVENT_NAME", "")
    event = json.loads(Path(os.environ["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))

    gha.group("validate every config")
    validation = gha.platform(["validate", "--root", str(root), "--format", "github"])
    sys.stdout.write(validation.stdout)
    gha.end_group()
    blocked, shared = invalid_tenants(root) if validation.returncode != 0 else ({}, [])
    if validation.returncode != 0 and not blocked and not shared:
        shared = ["validate failed without naming a file"]
    valid = not shared  # a shared file's problem blocks every tenant, a tenant's only itself

    if event_name == "repository_dispatch":
        request = dispatch_request(event, os.environ["GITHUB_EVENT_PATH"], root)
    elif event_name == "workflow_dispatch":
        request = manual_request(event)
    elif event_name == "push":
        request = push_request(event, root)
    else:
        request = Request(trigger=event_name, problems=[f"{event_name} events deploy nothing"])
    check_request(root, request)
    held = [p for p in request.projects if p in blocked]
    wanted = [p for p in request.projects if p not in blocked]
    if request.projects and not wanted:
        request.problems.append(f"configs of {', '.join(held)} are invalid: nothing is deployed")

    previews: dict[str, str] = {}
    if valid and not request.problems and request.images and "staging" in request.environments:
        try:
            for project in wanted:
                text = preview(root, project, request.images, request.actor)
                if text is not None:
                    previews[project] = text
        except RequestError as exc:
            request.problems.append(str(exc))

    images_text = as_lines(request.images)
    parts = []
    if valid and not request.problems:
        try:
            parts = chunks(legs(root, request, wanted, images_text), host_limits(root))
        except TooManyTenants as exc:
            request.problems.append(str(exc))
    ok = valid and not request.problems
    projects = [leg.project for part in parts for leg in part.legs] if ok else []
    everything = {"include": [leg.entry() for part in parts for leg in part.legs]}
    gha.set_output("matrix", json.dumps(everything, separators=(",", ":")))
    for slot in range(1, CHUNK_SLOTS + 1):
        part = parts[slot - 1] if ok and slot <= len(parts) else None
        matrix = json.dumps(part.matrix(), separators=(",", ":")) if part else ""
        gha.set_output(f"chunk_{slot}", matrix)
        gha.set_output(f"max_parallel_{slot}", str(part.max_parallel if part else 1))
    gha.set_output("count", str(len(projects)))
    gha.set_output("projects", json.dumps(projects))
    gha.set_output("staging", str(bool(projects) and "staging" in request.environments).lower())
    gha.set_output(
        "production", str(bool(projects) and "production" in request.environments).lower()
    )
    gha.set_output("actor", request.actor)
    held_out = [{"project": p, "problems": blocked[p]} for p in held] if ok else []
    gha.set_output("blocked", json.dumps(held_out, separators=(",", ":")))

    where = " → ".join(request.environments) or "nothing"
    lines = [
        "## Deploy request",
        "",
        "| | |",
        "|---|---|",
        f"| trigger | `{request.trigger}` ({request.origin}) by `{request.actor}` |",
        f"| tenants | {', '.join(f'`{p}`' for p in request.projects) or 'none affected'} |",
        f"| environments | {where} (production waits for approval) |",
        "| images | "
        + ("<br>".join(f"`{s}` = `{r}`" for s, r in sorted(request.images.items())) or "")
        + ("" if request.images else "unchanged: each environment keeps the digests it runs")
        + " |",
        f"| configs | {'valid' if valid else '**invalid**: see the annotations'} |",
    ]
    for note in request.notes:
        lines.append(f"| **note** | {note} |")
    for part_no, part in enumerate(parts, 1):
        lines.append(
            f"| matrix {part_no} | {len(part.legs)} tenants, at most {part.max_parallel} at once |"
        )
    for project in held:
        errors = "<br>".join(blocked[project])
        lines.append(f"| **not deployed** | `{project}`: its configs are invalid: {errors} |")
        gha.error(
            f"{project} is not deployed, its configs are invalid: " + "; ".join(blocked[project]),
            title="tenant blocked",
        )
    for name in request.deleted:
        lines.append(f"| removed | `{name}`: not deployed; its releases stay on the hosts |")
        gha.notice(
            f"{name} was removed from configs/: nothing is deployed for it and its releases stay "
            "on the hosts until they are torn down deliberately",
            title="tenant removed",
        )
    lines += [f"| **problem** | {problem} |" for problem in shared]
    for problem in request.problems:
        gha.error(problem, title="deploy request")
        lines.append(f"| **problem** | {problem} |")
    for project, text in previews.items():
        lines += ["", gha.details(f"staging plan preview of {project}", gha.code_block(text))]
    if ok and not projects:
        lines += ["", "Nothing to deploy: no tenant is affected."]
    gha.add_summary("\n".join(lines))
    if not valid:
        gha.error("shared configs are invalid: nothing is deployed", title="validate")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
