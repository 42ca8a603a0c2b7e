"""Deploy one tenant to one environment from a GitHub Actions job, over SSH, with the
environment's secrets; the platform's `deploy` does the work, this decides the images.

Which images:
  an environment without `deploy_after` (staging)
      the requested images; every built service not requested keeps the digest it runs now
      (a config change redeploys what runs). Nothing requested and nothing running yet: skipped.
  an environment with `deploy_after: S` (production)
      exactly the digests S runs, and only if S verified them for this configuration: S's
      current release was made from this commit, or from one whose configs for the tenant (and
      every shared file) are the same (`changed --base <its commit> --head <this commit>`), and
      it runs the requested digests, if any. S running nothing, with nothing requested: skipped.

Secrets: PLATFORM_SECRETS holds the secrets of the tenant's GitHub environment
(`<project>-<environment>`) as JSON (`toJSON(secrets)`), each under its bare name. Only the
names the plan needs are masked and passed to `deploy`, in its environment only: the registry
token under its own name, each of the tenant's `secrets:` as `<PROJECT>__<NAME>` (the project
upper-cased, dashes as underscores: filter-ical's POSTGRES_PASSWORD is
FILTER_ICAL__POSTGRES_PASSWORD), which is where the CLI reads a tenant's secrets. A tenant
secret named like a platform credential (DEPLOY_SSH_KEY, GITHUB_TOKEN, APP_DEPLOYMENTS_TOKEN,
the registry token) is refused: the platform's credentials never reach a tenant.

Inputs come from the environment: PLATFORM_ROOT, PROJECT, ENVIRONMENT, IMAGES, SSH_KEY_FILE,
ACTOR, PLATFORM_SECRETS, GITHUB_SHA. Step outputs: deployed, release, images, url. Runs with the
platform's venv python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import gha
import yaml
from imagerefs import as_lines, digest_of, parse_images

from platform_lib.config.credentials import (
    is_reserved,
    platform_credentials,
    tenant_secret_variable,
)
from platform_lib.github.naming import github_environment
from platform_lib.models.notifications import EVENT_KINDS
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings
from platform_lib.notifications.routing import targets

SHA = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")
LOG_TAIL = 200


class Refused(Exception):
    """This deploy must not happen; the message says why and what to do."""


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data if isinstance(data, dict) else {}


class Deployer:
    def __init__(self, root: Path, project: str, environment: str, key_file: str) -> None:
        self.root = root
        self.project = project
        self.environment = environment
        self.identity = ["--identity", key_file] if key_file else []
        # An emergency override of the deployment windows, for the plan and the deploy alike.
        reason = os.environ.get("OUTSIDE_WINDOW", "").strip()
        self.outside_window = ["--outside-window", reason] if reason else []

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return gha.platform([*args, "--root", str(self.root)])

    def status(self, environment: str) -> dict[str, Any]:
        """The tenant's row of `status --format json` for an environment (reads its host)."""
        done = self.cli(
            "status", "--project", self.project, "--env", environment, "--format", "json",
            *self.identity,
        )  # fmt: skip
        if done.returncode != 0:
            raise Refused(
                f"cannot read {self.project}/{environment} on its host: {done.stderr.strip()}"
            )
        rows = json.loads(done.stdout)
        if len(rows) != 1:
            raise Refused(f"status of {self.project}/{environment} returned {len(rows)} rows")
        return dict(rows[0])

    def keep_running(self, requested: dict[str, str], built: list[str]) -> dict[str, str] | None:
        """Requested images, the rest as they run now; None when there is nothing to deploy."""
        images = dict(requested)
        missing = [service for service in built if service not in images]
        if missing:
            current = self.status(self.environment)
            running = current.get("images") or {}
            for service in missing:
                if digest_of(str(running.get(service, ""))):
                    images[service] = digest_of(running[service])
            still = [service for service in built if service not in images]
            if still and not requested and not current.get("release"):
                return None
            if still:
                raise Refused(
                    f"no image for {', '.join(still)}: {self.environment} does not run "
                    f"{'it' if len(still) == 1 else 'them'} yet and the request names none"
                )
        return images

    def promoted(self, source: str, requested: dict[str, str], sha: str) -> dict[str, str] | None:
        """The digests `source` verified for this configuration (see the module docstring)."""
        state = self.status(source)
        release = state.get("release")
        if not release:
            if requested:
                raise Refused(
                    f"{source} runs nothing for {self.project}: the requested images were never "
                    f"verified there (did this run's {source} deploy fail?)"
                )
            return None
        where = f"{source} release {release}"
        made_from = state.get("platform_sha")
        if made_from is None:
            raise Refused(
                "`python -m platform_lib status --format json` does not report platform_sha, "
                f"so the commit {where} was made from cannot be checked; update platform_lib"
            )
        made_from = str(made_from)
        if made_from != sha:
            if not SHA.fullmatch(made_from):
                raise Refused(
                    f"{where} was made from {made_from!r}, not from a commit of this "
                    f"repository (a workstation deploy?): deploy {source} from CI first"
                )
            done = self.cli("changed", "--base", made_from, "--head", sha, "--format", "json")
            if done.returncode != 0:
                raise Refused(
                    f"cannot compare the configs of {where} ({made_from[:12]}) with this commit: "
                    f"{done.stderr.strip()}"
                )
            if self.project in json.loads(done.stdout)["changed"]:
                raise Refused(
                    f"{where} runs the configs of {made_from[:12]}; {self.project}'s configs "
                    f"changed since, and {source} has not verified them (did this run's "
                    f"{source} deploy fail?)"
                )
        verified = {s: digest_of(str(r)) for s, r in (state.get("images") or {}).items()}
        for service, ref in sorted(requested.items()):
            if verified.get(service) != digest_of(ref):
                raise Refused(
                    f"{where} runs {service} {verified.get(service) or 'not at all'}, not the "
                    f"requested {digest_of(ref)}: {source} has not verified it (did this run's "
                    f"{source} deploy fail?)"
                )
        gha.notice(
            f"promoting the digests {where} verified (made from {made_from[:12]})",
            title=f"{self.project}: {source} → {self.environment}",
        )
        return verified

    def deploy(self, images: dict[str, str], actor: str, env: dict[str, str]) -> tuple[int, str]:
        args = [
            sys.executable, "-m", "platform_lib", "deploy", "--root", str(self.root),
            "--project", self.project, "--env", self.environment, *self.identity,
        ]  # fmt: skip
        for service, ref in sorted(images.items()):
            args += ["--image", f"{service}={ref}"]
        if actor:
            args += ["--actor", actor]
        args += self.outside_window
        # the host's output and the tenant's container logs, with workflow commands stopped
        code, lines = gha.stream(args, env, keep=LOG_TAIL)
        return code, "\n".join(lines)


def secrets_for(
    tenant_secrets: list[str],
    credentials: list[str],
    project: str,
    platform_secrets: list[str],
    where: str,
) -> dict[str, str]:
    """The deploy's secret variables, from the tenant's GitHub environment (bare names): each
    tenant secret as `<PROJECT>__<NAME>` (the CLI's one source of it), each platform credential
    the plan uses under its own name. A tenant secret named like a credential is refused here
    too (validation and the plan refuse it first)."""
    try:
        available = json.loads(os.environ.get("PLATFORM_SECRETS") or "{}")
    except json.JSONDecodeError:
        raise Refused("PLATFORM_SECRETS is not JSON: pass ${{ toJSON(secrets) }}") from None
    if not isinstance(available, dict):
        raise Refused("PLATFORM_SECRETS is not a JSON object: pass ${{ toJSON(secrets) }}")
    reserved = ["PLATFORM_SECRETS", *platform_secrets, *credentials]
    clash = sorted(n for n in tenant_secrets if is_reserved(n, reserved))
    if clash:
        raise Refused(
            f"configs/{project}/project.yml: {', '.join(clash)}: the platform's own "
            "credentials are never given to a tenant; rename them; nothing was deployed"
        )
    sources = {tenant_secret_variable(project, name): name for name in tenant_secrets}
    sources.update({name: name for name in credentials})
    missing = sorted({source for source in sources.values() if not available.get(source)})
    if missing:
        raise Refused(
            f"secrets not set: {', '.join(missing)}; add them as secrets of the GitHub "
            f"environment {where!r} (Settings → Environments), nothing was deployed"
        )
    chosen = {variable: str(available[source]) for variable, source in sources.items()}
    for value in chosen.values():
        gha.mask(value)
    return chosen


def sink_secrets(settings: Any, manifest: Any, project: str, environment: str) -> dict[str, str]:
    """The notification sinks' URLs and keys for this tenant and environment, from the
    environment's secrets: the platform's under their own names, the tenant's own as
    `<PROJECT>__<NAME>` (notifications/routing.py reads them so). A missing one is left out:
    a sink never fails a deploy (the CLI says in its log which sinks it could not reach)."""
    try:
        available = json.loads(os.environ.get("PLATFORM_SECRETS") or "{}")
        config = PlatformSettings.model_validate(settings)
        own = ProjectManifest.model_validate(manifest or {})
    except ValueError:
        return {}
    if not isinstance(available, dict):
        return {}
    chosen: dict[str, str] = {}
    for kind in EVENT_KINDS:
        for target in targets(config, own, project, environment, kind):
            for variable in (target.url_variable, target.key_variable):
                if variable is None:
                    continue
                prefix = tenant_secret_variable(project, "")
                name = variable.removeprefix(prefix) if target.owner == "tenant" else variable
                value = available.get(name)
                if value:
                    chosen[variable] = str(value)
    for value in chosen.values():
        gha.mask(value)
    return chosen


def finish(outputs: dict[str, str], summary: list[str]) -> None:
    for name in ("deployed", "release", "images", "url"):
        gha.set_output(name, outputs.get(name, ""))
    gha.add_summary("\n".join(summary))


def main() -> int:
    root = Path(os.environ.get("PLATFORM_ROOT") or ".").resolve()
    project = os.environ.get("PROJECT", "").strip()
    environment = os.environ.get("ENVIRONMENT", "").strip()
    sha = os.environ.get("GITHUB_SHA", "")
    actor = os.environ.get("ACTOR", "").strip()
    title = f"{environment}: {project}"
    summary = [f"## {environment}: `{project}`", ""]
    outputs = {"deployed": "false"}

    settings = read_yaml(root / "configs" / "platform.yml")
    environments = settings.get("environments") or {}
    manifest = read_yaml(root / "configs" / project / "project.yml")
    problems: list[str] = []
    source = (environments.get(environment) or {}).get("deploy_after")
    # tags only where the platform resolves them (an environment that promotes takes digests)
    requested = parse_images(os.environ.get("IMAGES", ""), problems, tags=not source)
    if environment not in environments:
        problems.append(f"no environment {environment!r} in configs/platform.yml")
    if not manifest:
        problems.append(f"no tenant {project!r} (configs/{project}/project.yml)")
    if problems:
        for problem in problems:
            gha.error(problem, title=title)
        finish(outputs, [*summary, *(f"- **problem**: {p}" for p in problems)])
        return 1
    if environment not in (manifest.get("environments") or list(environments)):
        gha.notice(f"{project} does not deploy to {environment}", title=title)
        finish(outputs, [*summary, f"Skipped: {project} does not deploy to {environment}."])
        return 0

    deployer = Deployer(root, project, environment, os.environ.get("SSH_KEY_FILE", ""))
    built = sorted(manifest.get("images") or {})
    try:
        images = (
            deployer.promoted(str(source), requested, sha)
            if source
            else deployer.keep_running(requested, built)
        )
        if images is None:
            why = (
                f"{source} has not deployed {project} yet"
                if source
                else f"no image requested and {environment} runs nothing yet"
            )
            gha.notice(f"nothing to deploy: {why}", title=title)
            finish(outputs, [*summary, f"Skipped: nothing to deploy ({why})."])
            return 0
        plan_args = ["plan", "--project", project, "--env", environment, "--format", "json"]
        plan_args += [a for s, r in sorted(images.items()) for a in ("--image", f"{s}={r}")]
        plan_args += deployer.outside_window
        done = deployer.cli(*plan_args)
        if done.returncode != 0:
            raise Refused(f"the plan fails: {done.stderr.strip()}")
        plan = json.loads(done.stdout)
        secrets = secrets_for(
            [str(name) for name in plan.get("secrets") or []],
            [str(name) for name in plan.get("credentials") or []],
            project,
            sorted(platform_credentials(PlatformSettings.model_validate(settings))),
            github_environment(project, environment),
        )
    except Refused as exc:
        gha.error(str(exc), title=title)
        finish(outputs, [*summary, f"**Not deployed**: {exc}"])
        return 1

    domains = list(plan.get("domains") or [])
    outputs["url"] = f"https://{domains[0]}" if domains else ""
    child_env = {k: v for k, v in os.environ.items() if k != "PLATFORM_SECRETS"}
    child_env.pop("PLATFORM_SSH_KEY", None)
    child_env.update(secrets)
    child_env.update(sink_secrets(settings, manifest, project, environment))
    gha.group(f"deploy {project} to {environment}")
    code, log = deployer.deploy(images, actor, child_env)
    gha.end_group()
    log_block = gha.details("deploy log", gha.code_block(log))
    if code != 0:
        reasons = [line for line in log.splitlines() if line.startswith("error: ")]
        reason = reasons[-1].removeprefix("error: ") if reasons else f"exit {code}"
        gha.error(f"deploy failed: {reason}", title=title)
        finish(outputs, [*summary, f"**Deploy failed**: {reason}", "", log_block])
        return 1

    try:
        after = deployer.status(environment)
    except Refused as exc:
        gha.warning(f"deployed, but the result cannot be read back: {exc}", title=title)
        after = {}
    deployed = {s: str(r) for s, r in (after.get("images") or {}).items()}
    outputs.update(
        deployed="true", release=str(after.get("release") or ""), images=as_lines(deployed)
    )
    rows = [
        "| | |",
        "|---|---|",
        f"| release | `{outputs['release']}` |",
        *(f"| {s} | `{r}` |" for s, r in sorted(deployed.items())),
        f"| url | {outputs['url'] or 'not routed'} |",
        f"| health | {after.get('health', 'unknown')} |",
    ]
    if source:
        rows.append(f"| promoted from | {source} |")
    finish(outputs, [*summary, *rows, "", log_block])
    return 0


if __name__ == "__main__":
    sys.exit(main())
