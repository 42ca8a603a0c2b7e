"""Deploy one tenant to one environment from a GitHub Actions job: a thin call of the CLI.

  1. `python -m platform_lib plan --from-host ... -o PLAN --decision DECISION`: the CLI reads
     the hosts and its promotion policy (platform_lib/planning/promotion.py, the one rule
     `deploy` and `promote` follow too) decides the images: deploy, refuse, or nothing to
     deploy (exit 7, reported as skipped). No secret is in its environment.
  2. The secrets that plan names, from PLATFORM_SECRETS (the tenant's GitHub environment as
     `toJSON(secrets)`, bare names): the registry token under its own name, each of the
     tenant's `secrets:` as `<PROJECT>__<NAME>` (filter-ical's POSTGRES_PASSWORD is
     FILTER_ICAL__POSTGRES_PASSWORD), the notification sinks' URLs and keys; each masked. A
     tenant secret named like a platform credential is refused: those never reach a tenant.
  3. `python -m platform_lib apply PLAN`: exactly that plan (refused if the target changed
     since), with only those secrets and a few plain variables in its environment.
  4. `status` (no secrets) for the outputs: deployed, release, images, digests, url.

Inputs come from the environment: PLATFORM_ROOT, PROJECT, ENVIRONMENT, IMAGES,
EXPECTED_DIGESTS, SSH_KEY_FILE, ACTOR, OUTSIDE_WINDOW, PLATFORM_SECRETS. Runs with the
platform's venv python, actions/lib on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gha
from imagerefs import as_lines, digest_of, parse_images
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from platform_lib.config.credentials import (
    is_reserved,
    platform_credentials,
    tenant_secret_variable,
)
from platform_lib.github.naming import github_environment
from platform_lib.github.settings import load_manifest, load_settings
from platform_lib.models.outcome import EXIT_CODES
from platform_lib.models.plan import Plan
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings
from platform_lib.notifications.sink_secrets import sink_secrets as picked_sink_secrets
from platform_lib.planning.promotion import Decision, Deploy, Refuse, Skip

LOG_TAIL = 200
NOTHING_TO_DEPLOY = 7
"""`plan --from-host`'s exit status when the policy finds nothing to deploy."""
PLAIN_VARIABLES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "RUNNER_TEMP",
    "DOCKER_HOST", "GITHUB_ACTOR", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_SERVER_URL",
    "GITHUB_SHA", "GITHUB_WORKSPACE", "PLATFORM_APP_COMMIT",
})  # fmt: skip
"""What the CLI's processes inherit from the step; nothing secret (no PLATFORM_SECRETS, no
ACTIONS_* runner tokens, no GITHUB_TOKEN)."""
OUTPUTS = ("deployed", "release", "images", "digests", "url")


class Refused(Exception):
    """This deploy must not happen; the message says why and what to do."""


@dataclass(frozen=True)
class Inputs:
    root: Path
    project: str
    environment: str
    images: str
    expected: str
    key_file: str
    actor: str
    outside_window: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Inputs:
        return cls(
            root=Path(environ.get("PLATFORM_ROOT") or ".").resolve(),
            project=environ.get("PROJECT", "").strip(),
            environment=environ.get("ENVIRONMENT", "").strip(),
            images=environ.get("IMAGES", ""),
            expected=environ.get("EXPECTED_DIGESTS", "").strip(),
            key_file=environ.get("SSH_KEY_FILE", ""),
            actor=environ.get("ACTOR", "").strip(),
            outside_window=environ.get("OUTSIDE_WINDOW", "").strip(),
        )

    def target(self) -> list[str]:
        identity = ["--identity", self.key_file] if self.key_file else []
        return ["--root", str(self.root), "--project", self.project, "--env", self.environment,
                *identity]  # fmt: skip

    def plan_args(self, requested: Mapping[str, str], plan: Path, decision: Path) -> list[str]:
        """`plan --from-host`: what the policy decides, as a plan file and a decision file."""
        args = ["plan", "--from-host", *self.target(), "--format", "json",
                "-o", str(plan), "--decision", str(decision)]  # fmt: skip
        args += [a for s, r in sorted(requested.items()) for a in ("--image", f"{s}={r}")]
        if self.expected:
            args += ["--expected-digests", self.expected]
        if self.actor:
            args += ["--actor", self.actor]
        if self.outside_window:
            args += ["--outside-window", self.outside_window]
        return args

    def apply_args(self, plan: Path) -> list[str]:
        identity = ["--identity", self.key_file] if self.key_file else []
        return [sys.executable, "-m", "platform_lib", "apply", str(plan),
                "--root", str(self.root), *identity]  # fmt: skip


class StatusRow(BaseModel):
    """The part of a `status --format json` row this action reports."""

    model_config = ConfigDict(extra="ignore")

    release: str | None = None
    images: dict[str, str] = Field(default_factory=dict)
    health: str = "unknown"


def child_env(
    environ: Mapping[str, str], secrets: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a CLI process: the plain variables, `LC_*`, and `secrets` only."""
    env = {k: v for k, v in environ.items() if k in PLAIN_VARIABLES or k.startswith("LC_")}
    env.update(secrets or {})
    return env


def available_secrets(environ: Mapping[str, str]) -> dict[str, Any]:
    try:
        available = json.loads(environ.get("PLATFORM_SECRETS") or "{}")
    except json.JSONDecodeError:
        raise Refused("PLATFORM_SECRETS is not JSON: pass ${{ toJSON(secrets) }}") from None
    if not isinstance(available, dict):
        raise Refused("PLATFORM_SECRETS is not a JSON object: pass ${{ toJSON(secrets) }}")
    return available


def secrets_for(
    tenant_secrets: Sequence[str],
    credentials: Sequence[str],
    project: str,
    platform_secrets: Sequence[str],
    where: str,
) -> dict[str, str]:
    """The deploy's secret variables, from the tenant's GitHub environment (bare names): each
    tenant secret as `<PROJECT>__<NAME>` (the CLI's one source of it), each platform credential
    the plan uses under its own name. A tenant secret named like a credential is refused here
    too (validation and the plan refuse it first)."""
    available = available_secrets(os.environ)
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


def sink_secrets(
    settings: PlatformSettings, manifest: ProjectManifest | None, project: str, environment: str
) -> dict[str, str]:
    """The notification sinks' URLs and keys for this tenant and environment, from the
    environment's secrets: the platform's under their own names, the tenant's own as
    `<PROJECT>__<NAME>` (notifications/routing.py reads them so). A missing one is left out:
    a sink never fails a deploy (the CLI says in its log which sinks it could not reach)."""
    try:
        available = available_secrets(os.environ)
    except Refused:
        return {}
    chosen = picked_sink_secrets(settings, manifest, project, environment, available)
    for value in chosen.values():
        gha.mask(value)
    return chosen


def read_decision(path: Path) -> Deploy | Refuse | Skip | None:
    try:
        return TypeAdapter(Decision).validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


def last_error(text: str) -> str:
    errors = [line for line in text.splitlines() if line.startswith("error: ")]
    return errors[-1].removeprefix("error: ") if errors else ""


def outcome_name(code: int) -> str:
    names = {number: name for name, number in EXIT_CODES.items()}
    return names.get(code, f"exit {code}")


def digests_of(images: Mapping[str, str]) -> dict[str, str]:
    return {service: digest_of(ref) for service, ref in sorted(images.items()) if digest_of(ref)}


def deploy(inputs: Inputs, plan_file: Path, env: Mapping[str, str]) -> tuple[int, str]:
    """`apply PLAN`, its output streamed to the log with workflow commands stopped."""
    code, lines = gha.stream(inputs.apply_args(plan_file), env, keep=LOG_TAIL)
    return code, "\n".join(lines)


def finish(outputs: Mapping[str, str], summary: Sequence[str]) -> None:
    for name in OUTPUTS:
        gha.set_output(name, outputs.get(name, "{}" if name == "digests" else ""))
    gha.add_summary("\n".join(summary))


def run(inputs: Inputs, workdir: Path) -> int:
    title = f"{inputs.environment}: {inputs.project}"
    summary = [f"## {inputs.environment}: `{inputs.project}`", ""]
    outputs = {"deployed": "false"}
    problems: list[str] = []
    requested = parse_images(inputs.images, problems, tags=True)
    if not inputs.project or not inputs.environment:
        problems.append("the project and environment inputs are required")
    if problems:
        for problem in problems:
            gha.error(problem, title=title)
        finish(outputs, [*summary, *(f"- **problem**: {p}" for p in problems)])
        return 1

    plan_file, decision_file = workdir / "plan.json", workdir / "decision.json"
    done = gha.platform(
        inputs.plan_args(requested, plan_file, decision_file), child_env(os.environ)
    )
    decision = read_decision(decision_file)
    if done.returncode == NOTHING_TO_DEPLOY or isinstance(decision, Skip):
        why = decision.reason if isinstance(decision, Skip) else last_error(done.stderr)
        gha.notice(f"nothing to deploy: {why}", title=title)
        finish(outputs, [*summary, f"Skipped: nothing to deploy ({why})."])
        return 0
    try:
        if done.returncode != 0:
            if isinstance(decision, Refuse):
                raise Refused(f"{decision.reason} ({decision.remedy}); nothing was deployed")
            raise Refused(f"the plan fails: {last_error(done.stderr) or done.stderr.strip()}")
        plan = Plan.model_validate_json(plan_file.read_text(encoding="utf-8"))
        settings = load_settings(inputs.root)  # valid: the plan was made from it
        if settings is None:
            raise Refused("configs/platform.yml is missing; nothing was deployed")
        manifest = load_manifest(inputs.root, inputs.project)
        secrets = secrets_for(
            list(plan.secrets), list(plan.credentials), inputs.project,
            sorted(platform_credentials(settings)),
            github_environment(inputs.project, inputs.environment),
        )  # fmt: skip
        secrets.update(sink_secrets(settings, manifest, inputs.project, inputs.environment))
    except Refused as exc:
        gha.error(str(exc), title=title)
        finish(outputs, [*summary, f"**Not deployed**: {exc}"])
        return 1
    if isinstance(decision, Deploy) and decision.note:
        gha.notice(decision.note, title=f"{inputs.project}: promotion to {inputs.environment}")

    outputs["url"] = f"https://{plan.domains[0]}" if plan.domains else ""
    gha.group(f"deploy {inputs.project} to {inputs.environment}")
    code, log = deploy(inputs, plan_file, child_env(os.environ, secrets))
    gha.end_group()
    log_block = gha.details("deploy log", gha.code_block(log))
    if code != 0:
        reason = last_error(log) or outcome_name(code)
        gha.error(f"deploy failed ({outcome_name(code)}): {reason}", title=title)
        finish(outputs, [*summary, f"**Deploy failed**: {reason}", "", log_block])
        return 1

    after = status(inputs, title)
    running = after.images or dict(plan.images)
    built = {s: ref for s, ref in running.items() if s in plan.images}  # expected-digests' keys
    outputs.update(deployed="true", release=after.release or plan.release,
                   images=as_lines(running), digests=json.dumps(digests_of(built)))  # fmt: skip
    rows = [
        "| | |",
        "|---|---|",
        f"| release | `{outputs['release']}` |",
        *(f"| {s} | `{r}` |" for s, r in sorted(running.items())),
        f"| url | {outputs['url'] or 'not routed'} |",
        f"| health | {after.health} |",
    ]
    if isinstance(decision, Deploy) and decision.source_release:
        rows.append(f"| promoted from | release {decision.source_release} |")
    finish(outputs, [*summary, *rows, "", log_block])
    return 0


def status(inputs: Inputs, title: str) -> StatusRow:
    """What the environment runs after the deploy (read back from its host)."""
    done = gha.platform(["status", *inputs.target(), "--format", "json"], child_env(os.environ))
    try:
        rows = TypeAdapter(list[StatusRow]).validate_json(done.stdout)
    except ValidationError:
        rows = []
    if done.returncode != 0 or len(rows) != 1:
        gha.warning(f"deployed, but the result cannot be read back: {done.stderr.strip()}",
                    title=title)  # fmt: skip
        return StatusRow()
    return rows[0]


def main() -> int:
    inputs = Inputs.from_environ(os.environ)
    workdir = Path(tempfile.mkdtemp(prefix="platform-apply-", dir=os.environ.get("RUNNER_TEMP")))
    try:
        return run(inputs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
