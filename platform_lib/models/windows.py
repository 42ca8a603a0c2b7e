"""Deployment windows: when an environment takes deploys (`windows:` of an environment in
configs/platform.yml, or of a tenant's manifest per environment). Evaluated by
`planning/windows.py` with the plan's clock."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from platform_lib.models.base import Model

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""In `date.weekday()` order."""

# A wall-clock time of day, `HH:MM`; an end may be `24:00` (the end of the day).
ClockTime = Annotated[str, StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
# A day of the year, `MM-DD` (every year), or one date, `YYYY-MM-DD`.
DaySpec = Annotated[str, StringConstraints(pattern=r"^([0-9]{4}-)?[0-9]{2}-[0-9]{2}$")]
_DAY = re.compile(r"^(?:(?P<year>[0-9]{4})-)?(?P<month>[0-9]{2})-(?P<day>[0-9]{2})$")


def minutes(clock: str) -> int:
    """Minutes after midnight of `HH:MM` (`24:00` is 1440)."""
    hours, _, mins = clock.partition(":")
    return int(hours) * 60 + int(mins)


def day_parts(spec: str) -> tuple[int | None, int, int]:
    """(year or None, month, day) of a `DaySpec`."""
    match = _DAY.fullmatch(spec)
    if match is None:
        raise ValueError(f"{spec!r}: expected MM-DD or YYYY-MM-DD")
    year = int(match["year"]) if match["year"] else None
    month, day = int(match["month"]), int(match["day"])
    date(year or 2000, month, day)  # 2000 is a leap year: 02-29 is a day of the year
    return year, month, day


class AllowWindow(Model):
    """A weekly window in which deploys are allowed, in the windows' time zone, by the wall
    clock (09:00 stays 09:00 across a change to or from daylight saving time)."""

    days: list[Weekday] = Field(min_length=1)
    """The days it is open, e.g. `[mon, tue, wed, thu, fri]`."""
    start: ClockTime
    """Opens at this time of day, `HH:MM`."""
    end: ClockTime
    """Closes at this time of day (not included), `HH:MM`, later than `start`; `24:00` is
    midnight at the end of the day. For a window past midnight, give two."""

    @model_validator(mode="after")
    def _start_before_end(self) -> AllowWindow:
        if minutes(self.start) >= minutes(self.end):
            raise ValueError(
                f"start {self.start} is not before end {self.end} "
                "(a window past midnight is two windows: ... to 24:00, then 00:00 to ...)"
            )
        return self


class DenyPeriod(Model):
    """Whole days on which no deploy is allowed (a freeze), whatever the allow windows say,
    from the start of `start` to the end of `end` in the windows' time zone."""

    start: DaySpec
    """First day, `MM-DD` (every year) or `YYYY-MM-DD` (once)."""
    end: DaySpec
    """Last day (included), in the same form as `start`. With `MM-DD`, an `end` before
    `start` crosses New Year: `12-23` to `01-02`."""
    reason: str = Field(default="", max_length=200)
    """Why, shown when a deploy is refused, e.g. `year-end freeze`."""

    @model_validator(mode="after")
    def _same_form(self) -> DenyPeriod:
        first, last = day_parts(self.start), day_parts(self.end)
        if (first[0] is None) != (last[0] is None):
            raise ValueError("start and end must both be MM-DD or both be YYYY-MM-DD")
        if first[0] is not None and first > last:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class DeployWindows(Model):
    """When deploys may start. Without `allow`, at any time outside the `deny` periods.
    A deploy outside them is refused before the host is touched (with when they next open);
    `deploy --outside-window REASON` overrides, recorded in the plan and the release.
    Rollbacks are never held back."""

    time_zone: str = Field(min_length=1, max_length=64)
    """IANA time zone the windows are in, e.g. `Europe/Berlin` or `UTC`."""
    allow: list[AllowWindow] = Field(default_factory=list)
    """Weekly windows in which deploys may start (default: any time)."""
    deny: list[DenyPeriod] = Field(default_factory=list)
    """Periods without deploys, e.g. `{start: "12-23", end: "01-02", reason: year-end freeze}`."""

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name, e.g. Europe/Berlin)"
            ) from None
        return value
