"""Apply a plan on its host: check it, gather its secrets, run its script, read its outcome."""

from __future__ import annotations

from collections.abc import Mapping

from platform_lib.config.credentials import tenant_secret_variable
from platform_lib.errors import PlatformError
from platform_lib.execution.outcome import outcome_of, raise_for_outcome
from platform_lib.models.outcome import DeployOutcome
from platform_lib.models.plan import Plan
from platform_lib.planning.canonical import with_id
from platform_lib.planning.render import render_script
from platform_lib.transport.base import LineSink, Redactor, Transport


def verify_plan(plan: Plan) -> None:
    """A plan file edited by hand (or truncated) no longer matches its id: refuse it."""
    if with_id(plan).id != plan.id:
        raise PlatformError(f"plan {plan.id[:12]} does not match its content: make a new plan")


def gather_secrets(plan: Plan, environ: Mapping[str, str]) -> dict[str, str]:
    """The values the host script gets, by the names it uses: the tenant's secrets, each read
    from `<PROJECT>__<NAME>` (two tenants' secrets of one name are two values), and the
    platform's credentials under their own names (used by the platform only)."""
    sources = {name: tenant_secret_variable(plan.project, name) for name in plan.secrets}
    clash = sorted(set(plan.secrets) & set(plan.credentials))
    if clash:
        raise PlatformError(f"the plan gives the platform's credentials to the tenant: {clash}")
    sources.update({name: name for name in plan.credentials})
    missing = sorted(variable for variable in sources.values() if variable not in environ)
    if missing:
        raise PlatformError(
            f"secrets not set in the deploy environment: {', '.join(missing)}; nothing was "
            "changed on the host (set them, e.g. as GitHub environment secrets)"
        )
    return {name: environ[variable] for name, variable in sources.items()}


def apply_plan(
    plan: Plan, transport: Transport, environ: Mapping[str, str], log: LineSink
) -> DeployOutcome:
    """Run the plan's script; its outcome record when it deployed, else the error of its
    outcome (exit codes: models/outcome.py). Secret values never leave in a line or a reason."""
    verify_plan(plan)
    secrets = gather_secrets(plan, environ)
    redact = Redactor(secrets)
    result = transport.run(render_script(plan), secrets, lambda line: log(redact(line)))
    outcome = outcome_of(plan, result.stdout, result.exit_code)
    outcome = outcome.model_copy(
        update={
            "reason": outcome.reason and redact(outcome.reason),
            "rollback_reason": outcome.rollback_reason and redact(outcome.rollback_reason),
        }
    )
    raise_for_outcome(plan, outcome)
    return outcome
