"""Deployment windows (planning/windows.py) over a year of clock values, both changes of
Europe/Berlin's clocks in 2026 (29 March, 25 October) and a deny period across New Year.

The year is checked two ways: a golden file of every instant the windows open or close
(`windows/berlin-2026.txt`, regenerate with UPDATE_GOLDEN=1 and review the diff), and a
brute-force walk in 15-minute steps in which `next_open` of every closed instant must be the
first open step after it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from golden.golden_files import assert_golden
from pydantic import ValidationError

from platform_lib.models.windows import DeployWindows
from platform_lib.planning.windows import (
    WindowClosed,
    check_window,
    next_opening,
    to_instant,
    window_state,
    windows_state,
)

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = DeployWindows.model_validate(
    {
        "time_zone": "Europe/Berlin",
        "allow": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}],
        "deny": [{"start": "12-23", "end": "01-02", "reason": "year-end freeze"}],
    }
)
GOLDEN = Path(__file__).parent / "windows" / "berlin-2026.txt"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def steps(start: datetime, end: datetime, every: timedelta) -> list[datetime]:
    out, moment = [], start
    while moment < end:
        out.append(moment)
        moment += every
    return out


YEAR = steps(utc("2026-01-01T00:00:00Z"), utc("2027-01-08T00:00:00Z"), timedelta(minutes=15))


def test_a_year_of_openings_and_closings_matches_the_golden_file() -> None:
    lines, previous = [], None
    for moment in YEAR:
        state = window_state(OFFICE, moment)
        if state.open != previous:
            local = moment.astimezone(BERLIN)
            what = "open " if state.open else "close"
            lines.append(f"{moment:%Y-%m-%dT%H:%MZ} {what} {local:%a %Y-%m-%d %H:%M %Z}")
            previous = state.open
    assert_golden(GOLDEN, "\n".join(lines) + "\n")


def test_next_open_of_every_closed_instant_is_the_first_open_step_after_it() -> None:
    opened = [window_state(OFFICE, m).open for m in YEAR]
    next_open_step: datetime | None = None
    for index in range(len(YEAR) - 1, -1, -1):
        moment = YEAR[index]
        if opened[index]:
            next_open_step = moment
            continue
        state = window_state(OFFICE, moment)
        if next_open_step is not None:
            # Windows open on whole quarter hours here, so the step is the exact instant.
            assert state.next_open == next_open_step, moment


@pytest.mark.parametrize(
    ("friday_close", "monday_open"),
    [
        # Winter time before the spring change, summer time after it: 09:00 stays 09:00.
        ("2026-03-27T16:00:00Z", "2026-03-30T07:00:00Z"),
        # Summer time before the autumn change, winter time after it.
        ("2026-10-23T15:00:00Z", "2026-10-26T08:00:00Z"),
    ],
)
def test_the_wall_clock_holds_across_the_changes(friday_close: str, monday_open: str) -> None:
    closed = window_state(OFFICE, utc(friday_close))
    assert not closed.open
    assert closed.next_open == utc(monday_open)
    assert closed.next_open is not None
    assert closed.next_open.astimezone(BERLIN).hour == 9
    assert window_state(OFFICE, utc(friday_close) - timedelta(minutes=1)).open
    assert window_state(OFFICE, utc(monday_open)).open
    assert not window_state(OFFICE, utc(monday_open) - timedelta(minutes=1)).open


NIGHT = DeployWindows.model_validate(
    {"time_zone": "Europe/Berlin", "allow": [{"days": ["sun"], "start": "02:00", "end": "04:00"}]}
)


def open_minutes(windows: DeployWindows, day: str) -> int:
    start = utc(f"{day}T00:00:00+01:00") - timedelta(hours=3)
    return sum(
        window_state(windows, m).open
        for m in steps(start, start + timedelta(hours=30), timedelta(minutes=1))
    )


def test_a_window_over_the_spring_change_loses_the_skipped_hour() -> None:
    # 02:00-03:00 does not exist on 29 March 2026: 03:00 CEST to 04:00 CEST is one hour.
    assert open_minutes(NIGHT, "2026-03-29") == 60
    assert next_opening(NIGHT, utc("2026-03-28T12:00:00Z")) == utc("2026-03-29T01:00:00Z")


def test_a_window_over_the_autumn_change_counts_the_repeated_hour_twice() -> None:
    # 02:00 CEST to 04:00 CET on 25 October 2026: three hours.
    assert open_minutes(NIGHT, "2026-10-25") == 180
    assert next_opening(NIGHT, utc("2026-10-24T12:00:00Z")) == utc("2026-10-25T00:00:00Z")


def test_a_skipped_or_repeated_local_time_is_its_first_instant() -> None:
    assert to_instant(date(2026, 3, 29), "02:30", BERLIN) == utc("2026-03-29T01:00:00Z")
    assert to_instant(date(2026, 10, 25), "02:30", BERLIN) == utc("2026-10-25T00:30:00Z")
    assert to_instant(date(2026, 10, 25), "24:00", BERLIN) == utc("2026-10-25T23:00:00Z")


FREEZE_ONLY = DeployWindows.model_validate(
    {"time_zone": "Europe/Berlin", "deny": [{"start": "12-23", "end": "01-02"}]}
)


def test_a_deny_period_across_new_year_is_whole_local_days() -> None:
    assert window_state(FREEZE_ONLY, utc("2026-12-22T22:59:00Z")).open  # 23:59 on the 22nd
    state = window_state(FREEZE_ONLY, utc("2026-12-22T23:00:00Z"))  # 00:00 on the 23rd
    assert not state.open
    assert state.next_open == utc("2027-01-02T23:00:00Z")  # 00:00 on 3 January
    assert not window_state(FREEZE_ONLY, utc("2027-01-02T22:59:00Z")).open
    assert window_state(FREEZE_ONLY, utc("2027-01-02T23:00:00Z")).open
    # The same days every year: the freeze before this year's 1 January too.
    assert not window_state(FREEZE_ONLY, utc("2026-01-01T12:00:00Z")).open


def test_a_deny_period_wins_over_the_allow_windows() -> None:
    state = window_state(OFFICE, utc("2026-12-28T10:00:00Z"))  # a Monday, 11:00
    assert not state.open
    assert state.closed_by.startswith("deny period 12-23 to 01-02")
    assert state.next_open == utc("2027-01-04T08:00:00Z")  # the first weekday after it


def test_a_dated_deny_period_applies_once() -> None:
    once = DeployWindows.model_validate(
        {"time_zone": "UTC", "deny": [{"start": "2026-06-01", "end": "2026-06-03"}]}
    )
    assert not window_state(once, utc("2026-06-02T12:00:00Z")).open
    assert window_state(once, utc("2027-06-02T12:00:00Z")).open
    assert next_opening(once, utc("2026-06-02T12:00:00Z")) == utc("2026-06-04T00:00:00Z")


def test_windows_that_never_open_have_no_next_opening() -> None:
    never = DeployWindows.model_validate(
        {"time_zone": "UTC", "deny": [{"start": "01-01", "end": "12-31"}]}
    )
    state = window_state(never, utc("2026-06-02T12:00:00Z"))
    assert (state.open, state.next_open) == (False, None)


def test_check_window_refuses_records_an_override_or_lets_through() -> None:
    saturday = utc("2026-11-28T10:00:00Z")
    with pytest.raises(WindowClosed) as refused:
        check_window((OFFICE,), "shop", "production", saturday, None)
    assert refused.value.state.next_open == utc("2026-11-30T08:00:00Z")
    assert (refused.value.project, refused.value.environment) == ("shop", "production")
    with pytest.raises(WindowClosed):
        check_window((OFFICE,), "shop", "production", saturday, "   ")  # a reason, not blanks

    override = check_window((OFFICE,), "shop", "production", saturday, "INC-231 hotfix")
    assert override is not None
    assert override.reason == "INC-231 hotfix"
    assert override.next_open == "2026-11-30T09:00:00+01:00"

    thursday = utc("2026-11-26T12:00:00Z")
    assert check_window((OFFICE,), "shop", "production", thursday, "not needed") is None
    assert check_window((), "shop", "production", saturday, None) is None


@pytest.mark.parametrize(
    ("windows", "where"),
    [
        ({"time_zone": "Mars/Olympus"}, ("time_zone",)),
        ({"time_zone": "../etc/passwd"}, ("time_zone",)),
        ({"time_zone": "UTC", "allow": [{"days": ["mon"], "start": "17:00", "end": "09:00"}]},
         ("allow", 0)),
        ({"time_zone": "UTC", "allow": [{"days": [], "start": "09:00", "end": "17:00"}]},
         ("allow", 0, "days")),
        ({"time_zone": "UTC", "allow": [{"days": ["mon"], "start": "24:00", "end": "24:00"}]},
         ("allow", 0)),
        ({"time_zone": "UTC", "deny": [{"start": "02-30", "end": "03-01"}]}, ("deny", 0)),
        ({"time_zone": "UTC", "deny": [{"start": "2026-12-23", "end": "01-02"}]}, ("deny", 0)),
        ({"time_zone": "UTC", "deny": [{"start": "2026-12-23", "end": "2026-12-01"}]},
         ("deny", 0)),
    ],
)  # fmt: skip
def test_invalid_windows_are_refused_where_they_are(
    windows: dict[str, object], where: tuple[object, ...]
) -> None:
    with pytest.raises(ValidationError) as refused:
        DeployWindows.model_validate(windows)
    assert [tuple(e["loc"])[: len(where)] for e in refused.value.errors()] == [where]


def test_several_windows_open_only_together_and_next_open_is_when_all_are() -> None:
    tenant = DeployWindows.model_validate(
        {
            "time_zone": "Europe/Berlin",
            "allow": [{"days": ["sat", "mon"], "start": "10:00", "end": "12:00"}],
        }
    )
    thursday = utc("2026-11-26T12:00:00Z")  # the office is open, the tenant's window not
    state = windows_state((OFFICE, tenant), thursday)
    # Saturday 10:00 opens the tenant's window but not the office; Monday 09:00 the office
    # but not the tenant's: Monday 10:00 Berlin is the first instant both are open.
    assert (state.open, state.next_open) == (False, utc("2026-11-30T09:00:00Z"))
    assert windows_state((OFFICE, tenant), utc("2026-11-30T09:30:00Z")).open
    assert windows_state((), thursday).open
