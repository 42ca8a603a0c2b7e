"""The canary's pure core: access-log lines into per-release figures, figures into a decision.
Examples for each rule, then properties over generated logs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from platform_lib.models.records import CanaryFigures
from platform_lib.models.rollout import Thresholds
from platform_lib.planning.canary_analysis import failed, judge, millis, p99, tally

OLD = {"172.18.0.2"}
NEW = {"172.18.0.3"}


def line(address: str, status: str, upstream_status: str, took: str) -> str:
    return f"1764600000.123\t{address}\t{status}\t{upstream_status}\t{took}\t{took}\n"


def figures(requests: int, failures: int, p99_ms: int | None = 5) -> CanaryFigures:
    return CanaryFigures(requests=requests, failures=failures, p99_ms=p99_ms)


def test_attempts_count_for_the_release_of_their_container() -> None:
    old, new = tally([
        line("172.18.0.2:8000", "200", "200", "0.004"),
        line("172.18.0.3:8000", "500", "500", "0.010"),
        line("172.18.0.3:8000", "200", "200", "0.120"),
        line("-", "502", "-", "-"),  # no upstream at all: neither release's
        line("10.9.9.9:8000", "200", "200", "0.001"),  # another container: neither
    ], OLD, NEW)  # fmt: skip
    assert old.figures() == figures(1, 0, 4)
    assert new.figures() == figures(2, 1, 120)


def test_a_retried_request_counts_the_failure_where_it_happened() -> None:
    old, new = tally([line("172.18.0.3:8000, 172.18.0.2:8000", "200", "502, 200", "0.001, 0.007")],
                     OLD, NEW)  # fmt: skip
    assert new.figures() == figures(1, 1, None)
    assert old.figures() == figures(1, 0, 7)


def test_lines_of_another_format_are_skipped() -> None:
    old, new = tally(["garbage\n", "1\t2\t3\n", ""], OLD, NEW)
    assert (old.requests, new.requests) == (0, 0)


def test_status_and_time_parsing() -> None:
    assert [failed(s) for s in ("200", "302", "404", "500", "502", "504", "-", "")] == [
        False, False, False, True, True, True, True, True,
    ]  # fmt: skip
    assert [millis(s) for s in ("0.004", "1.5", "12", "-", "x", "0.0041")] == [
        4, 1500, 12000, None, None, None,
    ]  # fmt: skip


def test_p99_nearest_rank() -> None:
    assert p99([]) is None
    assert p99([7]) == 7
    assert p99(list(range(1, 101))) == 99
    assert p99(list(range(1, 201))) == 198


LIMITS = Thresholds(max_error_percent=2, max_p99_ms=500, max_p99_ratio=2, min_requests=100)


def test_a_release_within_every_threshold_passes() -> None:
    decision = judge("web", "1", 10, figures(900, 0, 20), figures(100, 2, 30), LIMITS)
    assert (decision.verdict, decision.reason) == ("pass", "")


def test_too_few_requests_are_not_judged() -> None:
    decision = judge("web", "1", 10, figures(900, 0), figures(99, 50), LIMITS)
    assert decision.verdict == "not-enough-requests"
    assert decision.reason == "99 requests reached the new release, 100 needed"


def test_an_error_rate_over_the_threshold_fails_with_the_figures() -> None:
    decision = judge("web", "1", 10, figures(3702, 0), figures(412, 88), LIMITS)
    assert decision.verdict == "fail"
    assert decision.reason == (
        "error rate 21.4% of 412 requests, over 2% (old release: 0% of 3702)"
    )
    assert (decision.new, decision.old) == (figures(412, 88), figures(3702, 0))


def test_a_release_no_worse_than_the_old_one_passes_the_error_rate() -> None:
    # Both fail alike: a shared dependency is down, not the new release.
    decision = judge("web", "1", 10, figures(1000, 100), figures(100, 10), LIMITS)
    assert decision.verdict == "pass"


def test_p99_over_the_absolute_limit_fails() -> None:
    decision = judge("web", "2", 50, figures(500, 0, 20), figures(500, 0, 501), LIMITS)
    assert (decision.verdict, decision.reason) == ("fail", "p99 501ms over 500ms")


def test_p99_relative_to_the_old_release() -> None:
    slow = judge("web", "2", 50, figures(500, 0, 100), figures(500, 0, 201), LIMITS)
    assert (slow.verdict, slow.reason) == ("fail", "p99 201ms over 2x the old release's 100ms")
    assert judge("web", "2", 50, figures(500, 0, 100), figures(500, 0, 200), LIMITS).verdict == (
        "pass"
    )
    # The old release answered too few to compare with (the warm period: none at all).
    assert judge("web", "warm", 100, figures(0, 0, None), figures(500, 0, 400), LIMITS).verdict == (
        "pass"
    )


# --- properties -------------------------------------------------------------------------

attempts = st.lists(
    st.tuples(st.booleans(), st.sampled_from(["200", "204", "404", "500", "502", "-"]),
              st.integers(0, 5000)),
    max_size=60,
)  # fmt: skip


@given(attempts)
def test_tally_counts_every_attempt_once(log: list[tuple[bool, str, int]]) -> None:
    lines = [
        line(
            next(iter(NEW if is_new else OLD)) + ":8000",
            s,
            s,
            "-" if s == "-" else f"{ms / 1000:.3f}",
        )
        for is_new, s, ms in log
    ]
    old, new = tally(lines, OLD, NEW)
    for tallied, which in ((old, False), (new, True)):
        mine = [(s, ms) for is_new, s, ms in log if is_new == which]
        assert tallied.requests == len(mine)
        assert tallied.failures == sum(1 for s, _ in mine if s[0] in "5-")
        assert sorted(tallied.latencies) == sorted(ms for s, ms in mine if s[0] not in "5-")


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=300))
def test_p99_is_the_nearest_rank(values: list[int]) -> None:
    p = p99(values)
    assert p in values
    assert sum(v <= p for v in values) * 100 >= 99 * len(values)
    assert sum(v < p for v in values) * 100 < 99 * len(values)


@given(st.integers(1, 2000), st.integers(0, 2000), st.integers(0, 2000), st.integers(0, 2000))
def test_more_failures_never_turn_a_failure_into_a_pass(
    requests: int, failures: int, more: int, old_failures: int
) -> None:
    failures, more = min(failures, requests), min(failures + more, requests)
    old = figures(1000, min(old_failures, 1000))
    first = judge("web", "1", 10, old, figures(requests, failures), LIMITS)
    second = judge("web", "1", 10, old, figures(requests, more), LIMITS)
    if first.verdict == "fail":
        assert second.verdict == "fail"
