"""The outcome record: the one line a plan's script on the host ends with, saying how the
deploy (or rollback) ended. Written by the runtime's JSON writer (runtime outcome), read by
`execution.outcome.parse_outcome` only."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

OUTCOME_MARKER = "PLATFORM-OUTCOME "
"""Prefix of the record's line on the script's stdout (the rest of the line is its JSON)."""

OutcomeName = Literal["deployed", "aborted", "rolled-back", "rollback-failed"]

EXIT_CODES: dict[str, int] = {
    "deployed": 0,
    "rollback-failed": 3,
    "aborted": 4,
    "rolled-back": 5,
}
"""The exit status of the host script, and of `deploy`, `rollback` and `apply`, per outcome."""

OUTCOME_UNKNOWN = 6
"""Exit status of `deploy`, `rollback` and `apply` when the host sent no readable record (the
connection dropped, the script was killed): what happened is unknown; `history` and `status`
tell."""


class DeployOutcome(BaseModel):
    """How a plan's script on the host ended."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    version: Literal[1]
    kind: Literal["deploy", "rollback"]
    """The plan's kind."""
    outcome: OutcomeName
    """`deployed`: the plan's release is current and passed its checks; `aborted`: it failed
    before the switch, nothing changed; `rolled-back`: it failed after the switch and the
    release that was current runs again, verified; `rollback-failed`: that failed too, the host
    needs attention."""
    plan: str
    """The plan's id."""
    release: str
    """The release the plan deploys (or, for a rollback, switches back to)."""
    previous_release: str | None
    """The release `current` pointed at when the script took the lock."""
    current_release: str | None
    """The release `current` points at as the script ends."""
    step: str | None
    """The step that failed (none when deployed)."""
    reason: str | None
    """Why it failed, as the host saw it (the step's error, `exit N`, `timed out after Ns`)."""
    rollback_step: str | None
    """The step of the rollback that failed (rollback-failed only)."""
    rollback_reason: str | None
    client_disconnected: bool = False
    """The script's client went away before it ended (a write of progress to it failed): the
    script ran on to its end regardless; its progress is in `logs/` on the host."""

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]
