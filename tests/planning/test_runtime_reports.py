"""What a failed deploy tells the person watching: the containers that are not well (and only
those, once), the rollback's own step numbers, and who changed the host under a stale plan."""

from __future__ import annotations

import json
from pathlib import Path

from runtime_harness import Fakes, run_runtime

from platform_lib.execution.outcome import parse_outcome

PS = (
    "c1 shop-staging-web-1 Up 4 seconds (healthy)\n"
    "c2 shop-staging-worker-1 Up 4 seconds\n"
    "c3 shop-staging-web-2 Up 2 seconds (unhealthy)\n"
    "c4 shop-staging-cron-1 Exited (1) 1 second ago\n"
    "c5 shop-staging-api-1 Up 1 second (health: starting)\n"
)


def docker(fakes: Fakes) -> None:
    fakes.add(
        "docker",
        f"""case $1 in
  ps) printf '%s' '{PS}' ;;
  logs) echo "log of $3" ;;
esac""",
    )


def test_the_report_names_the_containers_that_are_not_well_and_only_those(
    tmp_path: Path,
) -> None:
    fakes = Fakes(tmp_path / "fakes")
    docker(fakes)
    done = run_runtime("platform_failure_report shop-staging", tmp_path, path=str(fakes.bin))
    assert done.returncode == 0, done.stderr
    logs = [argv[-1] for argv in fakes.calls("docker") if argv[1] == "logs"]
    # a worker running without a healthcheck is well; so is a healthy container
    assert logs == ["c3", "c4", "c5"]


def test_a_switch_that_reported_its_containers_is_not_reported_again(tmp_path: Path) -> None:
    fakes = Fakes(tmp_path / "fakes")
    docker(fakes)
    script = (
        "platform_rollback_plan() { platform_step rollback Restore 30 abort -- true; }\n"
        "trap platform_on_exit EXIT\n"
        "platform_step switch Switch 30 rollback -- "
        "bash -c 'exit 1' || true\n"
    )
    once = run_runtime(script, tmp_path, path=str(fakes.bin))
    reports = [a for a in fakes.calls("docker") if a[1] == "ps"]
    assert parse_outcome(once.stdout).outcome == "rolled-back"
    assert len(reports) == 1  # the step's own report, the switch reported nothing

    fakes.log.write_text("")
    reported = (
        "platform_rollback_plan() { platform_step rollback Restore 30 abort -- true; }\n"
        "trap platform_on_exit EXIT\n"
        "switch_that_reports() { platform_failure_report shop-staging; return 1; }\n"
        "platform_step switch Switch 30 rollback -- switch_that_reports\n"
    )
    done = run_runtime(reported, tmp_path / "again", path=str(fakes.bin))
    assert parse_outcome(done.stdout).outcome == "rolled-back"
    assert len([a for a in fakes.calls("docker") if a[1] == "ps"]) == 1


def test_the_rollback_numbers_its_own_steps(tmp_path: Path) -> None:
    script = (
        "platform_rollback_plan() {\n"
        "  platform_step restore Restore 30 abort -- true\n"
        "  platform_step check Check 30 abort -- true\n"
        "}\n"
        "trap platform_on_exit EXIT\n"
        "platform_step lock Lock 30 abort -- true\n"
        "platform_step switch Switch 30 rollback -- false\n"
    )
    done = run_runtime(script, tmp_path, PLATFORM_STEP_COUNT="2", PLATFORM_ROLLBACK_COUNT="2")
    numbered = [
        line.split(" ", 1)[1].split("]")[0] + "]"
        for line in done.stderr.splitlines()
        if " [" in line
    ]  # fmt: skip  (each progress line starts with its time)
    assert numbered == ["[1/2]", "[2/2]", "[rollback 1/2]", "[rollback 2/2]"]


def test_a_stale_plan_names_the_release_and_who_made_it(tmp_path: Path) -> None:
    release = tmp_path / "releases" / "r7"
    release.mkdir(parents=True)
    (release / "release.json").write_text(json.dumps({"release": "r7", "actor": "alice"}))
    (tmp_path / "current").symlink_to(release)
    done = run_runtime(f"platform_expect_current {tmp_path} r6", tmp_path)
    assert done.returncode == 1
    assert "release 'r7' by alice" in done.stderr and "against 'r6'" in done.stderr
    assert run_runtime(f"platform_expect_current {tmp_path} r7", tmp_path).returncode == 0
