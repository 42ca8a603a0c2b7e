"""The rules of `rollout:` in project.yml: one test each, exact location, message and hint."""

from __future__ import annotations

from validation.test_rules import BASE, PAISS_PROJECT, README_HINT, at, validate

from platform_lib.errors import Problem

STEPS = "      - {weight: 10, bake: 60}\n      - {weight: 50, bake: 120}\n"
ROLLOUT = (
    "rollout:\n"  # line 14
    "  web:\n"
    "    steps:\n" + STEPS + "    thresholds: {max_error_percent: 2, min_requests: 100}\n"
    "    warm: 300\n"
)


def edit(path: str, *pairs: tuple[str, str]) -> dict[str, str]:
    """paiss's manifest with the rollout above, each `old` (once in it) replaced."""
    assert path == PAISS_PROJECT
    text = BASE[PAISS_PROJECT] + ROLLOUT
    assert text.count("\n") == 20
    for old, new in pairs:
        if text.count(old) != 1:
            raise ValueError(f"{old!r} occurs {text.count(old)} times")
        text = text.replace(old, new)
    return {path: text}


def steps(*pairs: tuple[int, int]) -> tuple[str, str]:
    return STEPS, "".join(f"      - {{weight: {w}, bake: {b}}}\n" for w, b in pairs)


def test_the_example_rollout_is_valid() -> None:
    assert validate(edit(PAISS_PROJECT)) == []


def test_weights_must_climb() -> None:
    problems = validate(edit(PAISS_PROJECT, steps((50, 60), (50, 60), (20, 60))))
    hint = "canary weights climb: give each step a higher percent"
    assert problems == [
        Problem(at(PAISS_PROJECT, 18, 10, "/rollout/web/steps/1/weight"),
                "project.rollout-weights", "step 2 weight 50 is not above the step before (50)",
                hint),
        Problem(at(PAISS_PROJECT, 19, 10, "/rollout/web/steps/2/weight"),
                "project.rollout-weights", "step 3 weight 20 is not above the step before (50)",
                hint),
    ]  # fmt: skip


def test_a_step_of_100_percent_is_the_full_switch() -> None:
    problems = validate(edit(PAISS_PROJECT, steps((10, 60), (100, 60))))
    assert problems == [
        Problem(at(PAISS_PROJECT, 18, 10, "/rollout/web/steps/1/weight"),
                "project.rollout-weights", "step 2 sends 100% to the new release",
                "the full switch follows the last step: give steps below 100 and use warm: "
                "for the time after it"),
    ]  # fmt: skip


def test_a_weight_over_100_is_refused_by_the_schema() -> None:
    problems = validate(edit(PAISS_PROJECT, steps((10, 60), (150, 60))))
    assert problems == [
        Problem(at(PAISS_PROJECT, 18, 10, "/rollout/web/steps/1/weight"), "project.invalid",
                "rollout.web.steps.1.weight: Input should be less than or equal to 100",
                README_HINT),
    ]  # fmt: skip


def test_a_step_without_bake_is_never_judged() -> None:
    problems = validate(edit(PAISS_PROJECT, steps((10, 0), (50, 60))))
    assert problems == [
        Problem(at(PAISS_PROJECT, 17, 22, "/rollout/web/steps/0/bake"), "project.rollout-bake",
                "step 1 has a bake of 0 seconds",
                "a step is judged on the requests of its bake time: give it seconds (at least "
                "enough for min_requests)"),
    ]  # fmt: skip


def test_a_rollout_with_nothing_to_do() -> None:
    problems = validate(edit(PAISS_PROJECT, (STEPS, "      []\n"), ("    warm: 300\n", "")))
    assert problems == [
        Problem(at(PAISS_PROJECT, 15, 3, "/rollout/web"), "project.rollout-empty",
                "the rollout of 'web' has no steps and no warm period",
                "add canary steps or warm: seconds, or remove the rollout"),
    ]  # fmt: skip


def test_a_rollout_of_a_service_without_a_route() -> None:
    compose = "configs/paiss/docker-compose.yml"
    worker = "services:\n  worker:\n    image: docker.io/library/busybox:1.36\n"
    assert BASE[compose].count("services:\n") == 1
    problems = validate(
        edit(PAISS_PROJECT, ("rollout:\n  web:\n", "rollout:\n  worker:\n")),
        {compose: BASE[compose].replace("services:\n", worker)},
    )
    assert [p.rule for p in problems] == ["project.rollout-not-routed"]
    assert problems[0].location == at(PAISS_PROJECT, 15, 3, "/rollout/worker")
    assert problems[0].message == "service 'worker' has a rollout but no route"


def test_a_rollout_longer_than_the_lock() -> None:
    problems = validate(edit(PAISS_PROJECT, ("    warm: 300\n", "    warm: 3500\n")))
    assert problems == [
        Problem(at(PAISS_PROJECT, 15, 3, "/rollout/web"), "project.rollout-too-long",
                "the rollout of 'web' bakes 3680s, the deploy lock expires after 3600s",
                "shorten the bake times or raise timeouts.lock_expiry in configs/platform.yml "
                "(the lock holds for the whole rollout)"),
    ]  # fmt: skip
