"""Errors a user can act on, each with a location and a hint.

    PlatformError            a problem the user can fix; the CLI prints it as one line, exit 1
    ├── ConfigError          the configuration is invalid; carries every Problem found
    ├── PlanError            a plan cannot be made from valid configs (no image, unknown env...)
    ├── ApplyError           a plan ran on its host and failed (its outcome record says how)
    │   ├── RollbackFailed   failed after the switch, and so did the rollback; exit 3
    │   ├── DeployAborted    failed before the switch: nothing changed; exit 4
    │   ├── DeployRolledBack failed after the switch, the previous release is back; exit 5
    │   └── OutcomeUnknown   the host sent no readable outcome record; exit 6
    ├── NothingToDeploy      the promotion policy found nothing to deploy (skipped); exit 7
    └── UsageError           the command line itself is wrong; exit 2

Anything that is not a PlatformError is a bug in the platform and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from platform_lib.models.outcome import DeployOutcome


@dataclass(frozen=True, order=True)
class Location:
    """Where a problem is: file (relative to the platform root), 1-based line/column, pointer."""

    file: str
    line: int | None = None
    column: int | None = None
    pointer: str = ""

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of validation. `rule` is a stable identifier tests and users can match on."""

    location: Location
    rule: str
    message: str
    hint: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "pointer": self.location.pointer,
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
        }


class PlatformError(Exception):
    """A problem the user can act on."""

    exit_code = 1


class ConfigError(PlatformError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(f"{len(self.problems)} configuration problem(s)")


class PlanError(PlatformError):
    def __init__(self, message: str, hint: str = "") -> None:
        self.hint = hint
        super().__init__(message + (f" ({hint})" if hint else ""))


class ApplyError(PlatformError):
    """A plan ran on its host and did not deploy; `outcome` is the host's record of it."""

    def __init__(self, message: str, outcome: DeployOutcome | None = None) -> None:
        self.outcome = outcome
        super().__init__(message)


class RollbackFailed(ApplyError):
    exit_code = 3


class DeployAborted(ApplyError):
    exit_code = 4


class DeployRolledBack(ApplyError):
    exit_code = 5


class OutcomeUnknown(ApplyError):
    exit_code = 6


class NothingToDeploy(PlatformError):
    """A deploy with nothing to deploy (nothing requested, nothing running or verified): no
    host was changed. CI reports it as skipped, not failed."""

    exit_code = 7


class UsageError(PlatformError):
    exit_code = 2


@dataclass
class ProblemList:
    """Collects problems while a validator walks the configs."""

    items: list[Problem] = field(default_factory=list)

    def add(self, location: Location, rule: str, message: str, hint: str = "") -> None:
        self.items.append(Problem(location, rule, message, hint))

    def extend(self, problems: list[Problem]) -> None:
        self.items.extend(problems)
