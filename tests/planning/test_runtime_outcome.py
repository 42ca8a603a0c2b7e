"""The outcome record of a plan's script (runtime outcome): every way a script ends sends
exactly one record the client's parser accepts, with the exit status of its outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
from runtime_harness import run_runtime

from platform_lib.execution.outcome import parse_outcome
from platform_lib.models.outcome import EXIT_CODES, OUTCOME_MARKER, DeployOutcome

ROLLBACK_OK = "platform_rollback_plan() { platform_step rollback Restore 30 abort -- true; }\n"
ROLLBACK_FAILS = (
    "platform_rollback_plan() {\n"
    "  platform_step rollback Restore 30 abort -- platform_die 'compose up failed'\n}\n"
)
STEPS = "platform_step lock Lock 30 abort -- true\n"
SCRIPTS = {
    "deployed": (ROLLBACK_OK + STEPS + "platform_step switch Switch 30 rollback -- true\n"
                 "platform_outcome deployed\n"),
    "aborted": ROLLBACK_OK + STEPS + "platform_step pull Pull 30 abort -- platform_die 'no tag'\n",
    "rolled-back": ROLLBACK_OK + STEPS + "platform_step switch Switch 30 rollback -- false\n",
    "rollback-failed": (ROLLBACK_FAILS + STEPS
                        + "platform_step health Health 30 rollback -- platform_die 'HTTP 502'\n"),
}  # fmt: skip


def finish(script: str, base: Path) -> tuple[DeployOutcome, int, str]:
    done = run_runtime(f"trap platform_on_exit EXIT\n{script}", base)
    return parse_outcome(done.stdout), done.returncode, done.stdout


@pytest.mark.parametrize("outcome", sorted(SCRIPTS))
def test_each_ending_sends_one_record_with_its_exit_status(outcome: str, tmp_path: Path) -> None:
    record, status, stdout = finish(SCRIPTS[outcome], tmp_path)

    assert record.outcome == outcome
    assert status == EXIT_CODES[outcome] == record.exit_code
    assert (record.version, record.kind, record.plan, record.release) == (1, "deploy", "plan", "r9")
    # stdout carries the record alone: what steps print there is progress (stderr).
    assert stdout.count("\n") == 1 and stdout.startswith(OUTCOME_MARKER)


def test_the_record_names_the_failing_step_and_its_reason(tmp_path: Path) -> None:
    aborted, _, _ = finish(SCRIPTS["aborted"], tmp_path)
    assert (aborted.step, aborted.reason, aborted.rollback_step) == ("pull", "no tag", None)

    rolled, _, _ = finish(SCRIPTS["rolled-back"], tmp_path)
    assert (rolled.step, rolled.reason) == ("switch", "exit 1")

    failed, _, _ = finish(SCRIPTS["rollback-failed"], tmp_path)
    assert (failed.step, failed.reason) == ("health", "HTTP 502")
    assert (failed.rollback_step, failed.rollback_reason) == ("rollback", "compose up failed")

    deployed, _, _ = finish(SCRIPTS["deployed"], tmp_path)
    assert (deployed.step, deployed.reason) == (None, None)


def test_a_timed_out_step_says_so(tmp_path: Path) -> None:
    record, status, _ = finish("platform_step pull Pull 1 abort -- sleep 5\n", tmp_path)
    assert (record.outcome, record.step, record.reason) == ("aborted", "pull", "timed out after 1s")
    assert status == 4


def test_step_output_on_stdout_does_not_reach_the_record_channel(tmp_path: Path) -> None:
    script = (
        "platform_step noisy Noisy 30 abort -- printf '%s\\n' "
        f"'{OUTCOME_MARKER}{{\"forged\":1}}'\nplatform_outcome deployed\n"
    )
    record, status, stdout = finish(script, tmp_path)
    assert (record.outcome, status) == ("deployed", 0)
    assert stdout.count(OUTCOME_MARKER) == 1


def test_release_ids_before_and_after(tmp_path: Path) -> None:
    (tmp_path / "releases" / "r1").mkdir(parents=True)
    (tmp_path / "current").symlink_to("releases/r1")
    script = (
        f"platform_step lock Lock 30 abort -- platform_lock_acquire {tmp_path} a r9 5 60\n"
        f"platform_step point Point 30 rollback -- platform_point_current {tmp_path} r9\n"
        "platform_outcome deployed\n"
    )
    (tmp_path / "releases" / "r9").mkdir()
    record, _, _ = finish(script, tmp_path)
    assert (record.previous_release, record.current_release) == ("r1", "r9")
    assert not (tmp_path / "lock").exists()


@pytest.mark.parametrize(
    ("after_switch", "outcome"), [(False, "aborted"), (True, "rollback-failed")]
)
def test_a_script_that_stops_outside_any_step(
    after_switch: bool, outcome: str, tmp_path: Path
) -> None:
    """`set -e` ends it between steps (or a signal does): before the switch nothing changed;
    after it, the host needs attention."""
    switch = "platform_step switch Switch 30 rollback -- true\n" if after_switch else ""
    record, status, _ = finish(f"{STEPS}{switch}false\nplatform_outcome deployed\n", tmp_path)
    assert (record.outcome, status) == (outcome, EXIT_CODES[outcome])
    assert record.reason == "the script stopped unexpectedly (exit 1)"


def test_a_script_that_never_reaches_its_end_did_not_deploy(tmp_path: Path) -> None:
    """A script cut short (its last line, `platform_outcome deployed`, never read) aborted."""
    record, status, _ = finish(STEPS, tmp_path)
    assert (record.outcome, status) == ("aborted", 4)


def test_text_from_the_host_is_escaped_into_valid_json(tmp_path: Path) -> None:
    nasty = 'quote " backslash \\\\ tab \t ctrl \x01 newline'
    script = f"platform_step pull Pull 30 abort -- platform_die $'{nasty}'\n"
    record, _, _ = finish(script, tmp_path)
    assert record.reason == nasty.replace("\\\\", "\\")
