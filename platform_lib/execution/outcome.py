"""Read the outcome record a plan's script ends with: the one place the client learns how a
deploy ended on the host (no log line is read for it)."""

from __future__ import annotations

from pydantic import ValidationError

from platform_lib.errors import (
    ApplyError,
    DeployAborted,
    DeployRolledBack,
    OutcomeUnknown,
    RollbackFailed,
)
from platform_lib.models.outcome import OUTCOME_MARKER, DeployOutcome
from platform_lib.models.plan import Plan


def parse_outcome(stdout: str) -> DeployOutcome:
    """The one record on a script's stdout; OutcomeUnknown if there is none, more than one,
    or one that does not validate against the model."""
    records = [line for line in stdout.splitlines() if line.startswith(OUTCOME_MARKER)]
    if not records:
        raise OutcomeUnknown("the host sent no outcome record")
    if len(records) > 1:
        raise OutcomeUnknown(f"the host sent {len(records)} outcome records, not one")
    try:
        return DeployOutcome.model_validate_json(records[0].removeprefix(OUTCOME_MARKER))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()
        )
        raise OutcomeUnknown(f"the host's outcome record is malformed ({problems})") from None


def outcome_of(plan: Plan, stdout: str, exit_code: int) -> DeployOutcome:
    """The outcome of `plan`'s script, checked to be that plan's."""
    try:
        outcome = parse_outcome(stdout)
    except OutcomeUnknown as exc:
        raise OutcomeUnknown(
            f"{plan.kind} of {plan.project}/{plan.environment}: {exc} (exit {exit_code}); what "
            "happened on the host is unknown: see `history` and `status`"
        ) from None
    if (outcome.plan, outcome.release, outcome.kind) != (plan.id, plan.release, plan.kind):
        raise OutcomeUnknown(
            f"{plan.kind} of {plan.project}/{plan.environment}: the host's outcome record is "
            f"for plan {outcome.plan[:12]} release {outcome.release}, not this plan"
        )
    return outcome


def raise_for_outcome(plan: Plan, outcome: DeployOutcome) -> None:
    """Nothing when deployed; else the error of that outcome (its exit code is the outcome's)."""
    what = f"{plan.kind} of {plan.project}/{plan.environment}"
    failed = f"failed at step {outcome.step!r}: {outcome.reason}"
    error: ApplyError
    if outcome.outcome == "deployed":
        return
    if outcome.outcome == "aborted":
        error = DeployAborted(f"{what} {failed}; nothing was changed", outcome)
    elif outcome.outcome == "rolled-back":
        error = DeployRolledBack(
            f"{what} {failed}; rolled back to release {outcome.current_release or 'none'}",
            outcome,
        )
    else:
        undo = (
            f"the rollback failed too at step {outcome.rollback_step!r}: {outcome.rollback_reason}"
            if outcome.rollback_step
            else "it stopped after the switch without rolling back"
        )
        error = RollbackFailed(
            f"{what} {failed}; {undo}. The host needs attention (see history)", outcome
        )
    raise error
