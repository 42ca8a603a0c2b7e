"""A plan's progress (runtime progress): kept in the host's log and relayed to the client;
when the client goes away (its ssh killed: the pipe of the script's stderr closes), the script
runs on to a safe end, finishing or rolling back, and says the client disconnected."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from runtime_harness import runtime_command

from platform_lib.execution.outcome import parse_outcome
from platform_lib.models.records import HistoryEvent

ROLLBACK = (
    "platform_rollback_plan() {\n"
    "  platform_step rollback Restore 30 abort -- echo restored\n"
    # as switch.sh records a rollback: an event of its own, written after the client went
    '  platform_step recorded Record 30 abort -- platform_history_append "$PLATFORM_BASE" \\\n'
    "    event rollback outcome restored release r8\n"
    "}\n"
)
START = "trap platform_on_exit EXIT\nplatform_progress_start\n"
# The client reads the first step's line, then goes away while the second step runs.
STEPS = (
    "platform_step one 'Step one' 30 abort -- true\n"
    "platform_step two 'Step two' 30 abort -- sleep 0.5\n"
    "platform_step three 'Step three' 30 abort -- echo from-a-command\n"
)
ENDINGS = {
    "deployed": ("platform_step record Record 30 abort -- platform_history_event deployed ''\n"
                 "platform_outcome deployed\n"),
    "rolled-back": "platform_step switch Switch 30 rollback -- false\n",
}  # fmt: skip


def start(script: str, base: Path) -> subprocess.Popen[str]:
    argv, env = runtime_command(ROLLBACK + START + script, base)
    return subprocess.Popen(
        argv, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_a_script_whose_client_goes_away_runs_to_a_safe_end(ending: str, tmp_path: Path) -> None:
    script = start(STEPS + ENDINGS[ending], tmp_path)
    assert script.stderr is not None and script.stdout is not None
    assert "Step one" in script.stderr.readline()
    script.stderr.close()  # the client is gone: writes to the script's stderr fail from now on

    stdout, _ = script.communicate(timeout=30)

    outcome = parse_outcome(stdout)
    assert (outcome.outcome, script.returncode) == (ending, outcome.exit_code)
    assert outcome.client_disconnected
    log = (tmp_path / "logs" / "r9.deploy.log").read_text()
    assert "from-a-command" in log and "ok: three" in log  # what ran after the client went
    if ending == "rolled-back":
        assert "restored" in log and "ok: rollback" in log
    events = [HistoryEvent.model_validate_json(line)
              for line in (tmp_path / "history.jsonl").read_text().splitlines()]  # fmt: skip
    expected = {"deployed": [("deploy", "deployed")],
                "rolled-back": [("deploy", "failed"), ("rollback", "restored")]}  # fmt: skip
    assert [(e.event, e.outcome) for e in events] == expected[ending]
    assert all(e.client_disconnected for e in events)


def test_a_client_that_stays_sees_what_the_log_keeps(tmp_path: Path) -> None:
    script = start(STEPS + ENDINGS["deployed"], tmp_path)
    stdout, stderr = script.communicate(timeout=30)

    outcome = parse_outcome(stdout)
    assert (outcome.outcome, outcome.client_disconnected) == ("deployed", False)
    assert stderr == (tmp_path / "logs" / "r9.deploy.log").read_text()
    assert "from-a-command" in stderr and "ok: record" in stderr.splitlines()[-1]
    event = HistoryEvent.model_validate_json((tmp_path / "history.jsonl").read_text())
    assert not event.client_disconnected


def test_logs_go_with_the_releases_older_than_them(tmp_path: Path) -> None:
    for release in ("20260102T000000Z-b", "20260103T000000Z-c"):
        (tmp_path / "releases" / release).mkdir(parents=True)
    logs = tmp_path / "logs"
    logs.mkdir()
    names = ["20260101T000000Z-a.deploy.log", "20260101T000000Z-a.deploy.log.client-gone",
             "20260102T000000Z-b.rollback.log", "20260104T000000Z-d.deploy.log"]  # fmt: skip
    for name in names:
        (logs / name).write_text("x\n")
    argv, env = runtime_command(f"platform_prune_logs {tmp_path}", tmp_path)
    subprocess.run(argv, env=env, check=True)
    assert sorted(p.name for p in logs.iterdir()) == names[2:]  # a failed newer one's stays
