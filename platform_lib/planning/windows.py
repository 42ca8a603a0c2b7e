"""Whether a deploy may start now, and when the windows next open. Pure: the clock is an
argument; the time zone rules are the IANA database's (the standard library's zoneinfo).

Semantics (README "Deployment windows"):
- an allow window is weekly and by the wall clock of the windows' time zone: `09:00`-`17:00`
  is 09:00 to 17:00 local time on each of its days, summer and winter. On the day of a change
  the local hours skipped do not exist (a window of 02:00-04:00 on the spring change is one
  hour long and opens at 03:00) and the hour repeated in autumn counts twice;
- a deny period is whole local days, `start` to `end` included, and wins over allow windows;
- no allow windows: open at any time outside the deny periods.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from platform_lib.errors import PlanError
from platform_lib.models.plan import WindowOverride
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings
from platform_lib.models.windows import (
    WEEKDAYS,
    AllowWindow,
    DenyPeriod,
    DeployWindows,
    day_parts,
    minutes,
)

HORIZON_DAYS = 800
"""How far ahead `next_opening` looks (longer than any yearly deny period plus a year)."""


@dataclass(frozen=True)
class WindowState:
    """What the windows say at one instant."""

    open: bool
    closed_by: str = ""
    """Why not, for people: the deny period (with its reason) or `outside the allow windows`."""
    next_open: datetime | None = None
    """When a closed window next opens (in UTC: a local time repeated in autumn would not
    compare equal to itself in another zone); None when open, or when it never opens again
    within `HORIZON_DAYS`."""
    time_zone: str = "UTC"
    """The windows' time zone, to show `next_open` in."""


def _denied(period: DenyPeriod, day: date) -> bool:
    (year, month, mday), (last_year, last_month, last_mday) = (
        day_parts(period.start),
        day_parts(period.end),
    )
    if year is not None and last_year is not None:
        return date(year, month, mday) <= day <= date(last_year, last_month, last_mday)
    here = (day.month, day.day)
    start, end = (month, mday), (last_month, last_mday)
    if start <= end:
        return start <= here <= end
    return here >= start or here <= end  # crosses New Year


def deny_period(windows: DeployWindows, day: date) -> DenyPeriod | None:
    return next((p for p in windows.deny if _denied(p, day)), None)


def _in_window(window: AllowWindow, local: datetime) -> bool:
    now = local.hour * 60 + local.minute
    return WEEKDAYS[local.weekday()] in window.days and minutes(window.start) <= now < minutes(
        window.end
    )


def describe_deny(period: DenyPeriod) -> str:
    text = f"deny period {period.start} to {period.end}"
    return text + (f" ({period.reason})" if period.reason else "")


def describe_allow(windows: DeployWindows) -> str:
    """`mon,tue 09:00-17:00; sat 10:00-12:00 Europe/Berlin`."""
    parts = [f"{','.join(w.days)} {w.start}-{w.end}" for w in windows.allow]
    return f"{'; '.join(parts) or 'any time'} {windows.time_zone}"


def to_instant(day: date, clock: str, zone: zoneinfo.ZoneInfo) -> datetime:
    """The first instant (in UTC) at which the wall clock in `zone` shows `clock` (or later) on
    `day`: the earlier of a repeated local time, the end of the gap for a skipped one."""
    if clock == "24:00":
        day, clock = day + timedelta(days=1), "00:00"
    naive = datetime.combine(day, time(minutes(clock) // 60, minutes(clock) % 60))
    candidates = [naive.replace(tzinfo=zone, fold=fold) for fold in (0, 1)]
    real = [
        c for c in candidates if c.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
    ]
    if real:
        return min(c.astimezone(UTC) for c in real)
    # Skipped by a change to summer time: the gap ends at the transition, between the two
    # readings, on a whole minute.
    moment = min(c.astimezone(UTC) for c in candidates)
    while moment.astimezone(zone).replace(tzinfo=None) < naive:
        moment += timedelta(minutes=1)
    return moment


def window_state(windows: DeployWindows, now: datetime) -> WindowState:
    """Open or closed at `now` (an aware datetime), and if closed, until when."""
    if now.tzinfo is None:
        raise ValueError("the clock needs a time zone")
    zone = zoneinfo.ZoneInfo(windows.time_zone)
    local = now.astimezone(zone)
    denied = deny_period(windows, local.date())
    if denied is None and (not windows.allow or any(_in_window(w, local) for w in windows.allow)):
        return WindowState(open=True)
    why = (
        describe_deny(denied)
        if denied
        else f"outside the allow windows ({describe_allow(windows)})"
    )
    return WindowState(
        open=False,
        closed_by=why,
        next_open=next_opening(windows, now),
        time_zone=windows.time_zone,
    )


def next_opening(windows: DeployWindows, now: datetime) -> datetime | None:
    """The first instant from `now` on at which the windows are open, in UTC."""
    zone = zoneinfo.ZoneInfo(windows.time_zone)
    first = now.astimezone(zone).date()
    for offset in range(HORIZON_DAYS):
        day = first + timedelta(days=offset)
        if deny_period(windows, day) is not None:
            continue
        if not windows.allow:
            start = to_instant(day, "00:00", zone)
            return max(start, now.astimezone(UTC))
        starts = sorted(
            (to_instant(day, w.start, zone), to_instant(day, w.end, zone))
            for w in windows.allow
            if WEEKDAYS[day.weekday()] in w.days
        )
        for start, end in starts:
            if end > now and start < end:
                return max(start, now.astimezone(UTC))
    return None


def local_iso(moment: datetime, time_zone: str) -> str:
    """`2026-03-30T09:00:00+02:00`: the instant in the zone, with its offset."""
    return moment.astimezone(zoneinfo.ZoneInfo(time_zone)).isoformat()


def format_instant(moment: datetime, time_zone: str) -> str:
    """`2026-03-30 09:00 CEST (UTC 2026-03-30 07:00)`: the local time with its zone's
    abbreviation, and the same instant in UTC."""
    local, utc = moment.astimezone(zoneinfo.ZoneInfo(time_zone)), moment.astimezone(UTC)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} (UTC {utc:%Y-%m-%d %H:%M})"


class WindowClosed(PlanError):
    """A deploy asked for while its environment's windows are closed, without an override."""

    def __init__(self, project: str, environment: str, now: datetime, state: WindowState) -> None:
        self.project, self.environment, self.state = project, environment, state
        opens = (
            format_instant(state.next_open, state.time_zone)
            if state.next_open
            else "never within two years"
        )
        super().__init__(
            f"{project}/{environment} takes no deploys at {now.astimezone(UTC):%Y-%m-%d %H:%M} "
            f"UTC: {state.closed_by}; next opens {opens}",
            "nothing was done; in an emergency: deploy --outside-window REASON",
        )


def effective_windows(
    settings: PlatformSettings, manifest: ProjectManifest, environment: str
) -> tuple[DeployWindows, ...]:
    """The environment's windows and the tenant's own: a deploy must be inside both. A
    tenant's manifest can narrow when it takes deploys, never widen the platform's."""
    found = (settings.environments[environment].windows, manifest.windows.get(environment))
    return tuple(w for w in found if w is not None)


def windows_state(windows: Sequence[DeployWindows], now: datetime) -> WindowState:
    """Open when every one of `windows` is open; if not, the first instant at which all are
    (each closed one moves the candidate to its own next opening, until none is closed)."""
    first = next((s for s in (window_state(w, now) for w in windows) if not s.open), None)
    if first is None:
        return WindowState(open=True)
    moment: datetime | None = now
    for _ in range(1000):
        if moment is None:
            break
        closed = [w for w in windows if not window_state(w, moment).open]
        if not closed:
            break
        moment = next_opening(closed[0], moment)
    else:
        moment = None
    return replace(first, next_open=moment)


def check_window(
    windows: Sequence[DeployWindows],
    project: str,
    environment: str,
    now: datetime,
    outside_window: str | None,
) -> WindowOverride | None:
    """None when a deploy may start at `now`; the override to record when the windows are
    closed and `outside_window` gives a reason; `WindowClosed` otherwise."""
    if not windows:
        return None
    state = windows_state(windows, now)
    if state.open:
        return None
    reason = (outside_window or "").strip()
    if not reason:
        raise WindowClosed(project, environment, now, state)
    return WindowOverride(
        reason=reason,
        closed_by=state.closed_by,
        next_open=local_iso(state.next_open, state.time_zone) if state.next_open else None,
    )
