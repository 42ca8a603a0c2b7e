"""Run a command handler against recording hosts (transport/recording.py): what it sent to
which host, in which order, and its exit code as the CLI maps it. Answers are scripted per
operation name (argv[0]), a plan's script as `<plan>` (`outcome` answers it with the record
of the plan it carries); an operation without an answer fails the test."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from platform_lib.cli import build_parser
from platform_lib.errors import PlatformError
from platform_lib.execution.connect import Connections
from platform_lib.models.host_state import HostState
from platform_lib.models.outcome import EXIT_CODES, OUTCOME_MARKER, OutcomeName
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordedRun, RecordingHosts, Reply

REPO = Path(__file__).resolve().parent.parent
BASE = "/srv/platform/projects"
"""The deploy root of the repository's configs/platform.yml, and its projects' folder."""
STAGING, PRODUCTION = "staging-1", "prod-1"
"""The repository's hosts: one per environment."""

Answer = RunResult | Callable[[RecordedRun], RunResult]


def answering(answers: Mapping[str, Answer]) -> RecordingHosts:
    """Hosts answering each operation by its runtime function's name."""

    def reply(run: RecordedRun) -> Reply:
        name = run.operation[0] if run.operation else "<plan>"
        if name not in answers:
            raise AssertionError(f"{run.host} was sent {name}, which this test does not expect")
        answer = answers[name]
        return (answer(run) if callable(answer) else answer), ()

    return RecordingHosts(reply)


def ok(stdout: str = "") -> RunResult:
    return RunResult(0, stdout)


def facts(**fields: Any) -> RunResult:
    """A `platform_facts` answer: the HostState of those fields (checked by the model)."""
    return ok(HostState.model_validate(fields).model_dump_json())


def run(hosts: RecordingHosts, *argv: str, root: Path = REPO) -> int:
    """The command's exit code, as `cli.main` maps it; its connections through `hosts`."""
    args = build_parser(argv[0]).parse_args([*argv, "--root", str(root)])
    try:
        code: int = args.func(args, connect=partial(Connections, opener=hosts.open))
    except PlatformError as exc:
        code = exc.exit_code
    assert all(t.closed for t in hosts.transports.values()), "a connection was left open"
    return code


def checkout(tmp_path: Path) -> tuple[Path, str]:
    """A platform checkout of the repository's configs with one commit, and that commit (what
    a command there takes as its platform sha: clean, so configs are comparable by git)."""
    root = tmp_path / "checkout"
    shutil.copytree(REPO / "configs", root / "configs")
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "c"],
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    return root, head


@dataclass(frozen=True)
class SentPlan:
    """What a plan's script carries, as its renderer writes it: its header, its variables and
    the images its digest step resolves."""

    id: str
    kind: str
    release: str
    images: dict[str, str]


def sent_plan(run: RecordedRun) -> SentPlan:
    header = re.search(r"^# Deploy plan ([0-9a-f]{64})$", run.script, re.MULTILINE)
    assert header, f"{run.host} was sent a script that is no plan"
    variables = dict(
        shlex.split(line)[0].split("=", 1)
        for line in run.script.splitlines()
        if line.startswith(("PLATFORM_KIND=", "PLATFORM_RELEASE="))
    )
    images: dict[str, str] = {}
    for line in run.script.splitlines():
        words = shlex.split(line) if "-- platform_resolve_digests " in line else []
        if words:
            pairs = words[words.index("platform_resolve_digests") + 3 :]
            images = dict(pair.split("=", 1) for pair in pairs if pair != "</dev/null")
    return SentPlan(header[1], variables["PLATFORM_KIND"], variables["PLATFORM_RELEASE"], images)


def outcome(
    name: OutcomeName = "deployed", previous: str | None = None, step: str = "switch"
) -> Callable[[RecordedRun], RunResult]:
    """A plan's answer: the outcome record `name` of the plan the script carries, with the exit
    code the runtime gives it (`previous`: the release current before it)."""

    def answer(run: RecordedRun) -> RunResult:
        plan = sent_plan(run)
        current = {"deployed": plan.release, "aborted": previous, "rolled-back": previous}
        record = {"version": 1, "kind": plan.kind, "outcome": name, "plan": plan.id,
                  "release": plan.release, "previous_release": previous,
                  "current_release": current.get(name, plan.release), "step": None,
                  "reason": None, "rollback_step": None, "rollback_reason": None}  # fmt: skip
        if name != "deployed":
            record |= {"step": step, "reason": "exit 1"}
        if name == "rollback-failed":
            record |= {"rollback_step": "switch", "rollback_reason": "exit 1"}
        return RunResult(EXIT_CODES[name], OUTCOME_MARKER + json.dumps(record) + "\n")

    return answer


def plans(hosts: RecordingHosts) -> list[tuple[str, SentPlan]]:
    """(host, plan) of every plan's script sent, in order."""
    return [(run.host, sent_plan(run)) for run in hosts.runs if not run.operation]
