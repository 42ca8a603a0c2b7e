"""runtime/canary_*.sh alone: its awk figures and decisions equal the pure core's on the same
access log (planning/canary_analysis.py); the weights it gives nginx; a failing step puts
every request back on the old release in one reload, removes the new containers and records
the decision; a person's request is acted on. Fake `docker` and `nginx` on PATH."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_harness import Fakes, run_runtime

from platform_lib.models.host_state import ProxyRefreshed, RollbackFacts
from platform_lib.models.records import CanaryDecision, CanaryFigures, HistoryEvent
from platform_lib.models.rollout import Thresholds
from platform_lib.planning.canary_analysis import judge, tally
from platform_lib.planning.rollout import threshold_args

ADDRESSES = {"old-1": "10.0.0.1", "new-1": "10.0.0.2", "new-2": "10.0.0.3"}
FAKE_DOCKER = """
paused=$(dirname "$0")/paused  # the ids paused, one a line; gone-*: no such container
[[ $1 == inspect && ${@: -1} == gone-* ]] && { echo "No such object" >&2; exit 1; }
case $1 in
  inspect) case $3 in
      '{{.State.Paused}}') grep -qx -- "${@: -1}" "$paused" 2>/dev/null && echo true ||
        echo false ;;
      '{{.Id}}') echo "${@: -1}" ;;
      *) case ${@: -1} in
          old-1) echo '10.0.0.1 ' ;; new-1) echo '10.0.0.2 ' ;; new-2) echo '10.0.0.3 ' ;;
        esac ;;
    esac ;;
  pause) printf '%s\n' "${@:2}" >>"$paused" ;;
  unpause) for id in "${@:2}"; do
      grep -qx -- "$id" "$paused" 2>/dev/null || { echo "$id is not paused" >&2; exit 1; }
      grep -vx -- "$id" "$paused" >"$paused.tmp"; mv "$paused.tmp" "$paused"
    done ;;
  ps) echo "$@" | grep -q 'service=api' && echo api-1 ;;
esac
exit 0
"""
TSV = "1\tweb\t8000\t1\tshop-staging.web.8000\t/certs/a\ta.example.test\t/\n"
TSV += "2\tapi\t9000\t1\tshop-staging.api.9000\t/certs/b\tb.example.test\t/\n"


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    made = Fakes(tmp_path / "fakes")
    made.add("docker", FAKE_DOCKER)
    made.add("nginx")
    return made


@pytest.fixture
def nginx_master(tmp_path: Path) -> Iterator[Path]:
    """A live process standing for nginx's master; its pid file."""
    process = subprocess.Popen(["bash", "-c", f"trap 'touch {tmp_path}/reloaded' HUP\n"
                                "for _ in $(seq 600); do sleep 0.1; done"])  # fmt: skip
    time.sleep(0.2)
    (tmp_path / "nginx.pid").write_text(f"{process.pid}\n")
    yield tmp_path / "nginx.pid"
    process.kill()
    process.wait()


def rollout_in_progress(base: Path, new: tuple[str, ...] = ("new-1",)) -> None:
    (base / "releases" / "r9").mkdir(parents=True)
    (base / "releases" / "r9" / "nginx.tsv").write_text(TSV)
    state = base / "rollout"
    state.mkdir()
    (state / "web.old").write_text("old-1\n")
    (state / "web.new").write_text("".join(f"{n}\n" for n in new))
    (state / "web.weight").write_text("0\n")
    (state / "status.json").write_text('{"version":1}')


def log_line(address: str, status: str, took_ms: int) -> str:
    took = "-" if status == "-" else f"{took_ms // 1000}.{took_ms % 1000:03d}"
    return f"1764600000.123\t{address}:8000\t{status}\t{status}\t{took}\t{took}\n"


def test_weights_split_requests_exactly_whatever_the_counts(tmp_path: Path, fakes: Fakes) -> None:
    rollout_in_progress(tmp_path, new=("new-1", "new-2"))
    (tmp_path / "rollout" / "web.weight").write_text("10\n")
    done = run_runtime(f"platform_canary_servers {tmp_path}/rollout web 8000", tmp_path,
                       path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "    server 10.0.0.1:8000 weight=180;\n"  # 90% over one old container, two new ones
        "    server 10.0.0.2:8000 weight=10;\n"
        "    server 10.0.0.3:8000 weight=10;\n"
    )


LIMITS = Thresholds(max_error_percent=2, max_p99_ms=300, max_p99_ratio=1.5, min_requests=10)


def traffic(base: Path, lines: Path, log: Path) -> str:
    """In the background: the requests of the step, once it has begun its judged period (its
    status says so: its figures start from the log's size before that)."""
    status = base / "rollout" / "status.json"
    return f"(until grep -q 'step 1' {status}; do sleep 0.05; done; cat {lines} >>{log}) &\n"


def step_argv(base: Path, pdir: Path, pid: Path, bake: int = 2) -> str:
    limits = " ".join(f"'{a}'" for a in threshold_args(LIMITS))
    return (f"platform_canary_step {base} r9 shop-staging web 1 10 {bake} {limits} "
            f"{pdir}/logs/shop-staging.log {pdir} /etc/nginx.conf {pid} 0")  # fmt: skip


def test_a_failing_step_goes_back_to_the_old_release_in_one_reload(
    tmp_path: Path, fakes: Fakes, nginx_master: Path
) -> None:
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)
    (pdir / "logs").mkdir(parents=True)
    (pdir / "upstreams").mkdir()
    log = pdir / "logs" / "shop-staging.log"
    log.write_text(log_line("10.0.0.2", "500", 1) * 50)  # before the step: not its figures
    lines = tmp_path / "lines"
    lines.write_text((log_line("10.0.0.2", "200", 5) * 4 + log_line("10.0.0.2", "503", 2)) * 4
                     + log_line("10.0.0.1", "200", 4) * 30)  # fmt: skip
    done = run_runtime(traffic(base, lines, log) + step_argv(base, pdir, nginx_master),
                       base, path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 1, done.stderr
    upstreams = (pdir / "upstreams" / "shop-staging.conf").read_text()
    assert "server 10.0.0.1:8000;" in upstreams and "10.0.0.2" not in upstreams
    assert "server api" not in upstreams  # the fake's addresses: api-1 has none
    # The weights, then back: two tested configs, each one reload.
    assert [argv[1] for argv in fakes.calls("nginx")] == ["-t", "-t"]
    assert ["docker", "rm", "-f", "new-1"] in fakes.calls("docker")
    assert not (base / "rollout").exists()
    events = [
        HistoryEvent.model_validate_json(x)
        for x in (base / "history.jsonl").read_text().splitlines()
    ]
    assert [(e.event, e.outcome) for e in events] == [("canary", "rolled-back")]
    decision = events[0].decision
    assert decision is not None
    assert abs(decision.decided_ms - time.time() * 1000) < 30_000
    assert decision.model_copy(update={"decided_ms": 0}) == CanaryDecision(
        service="web", step="1", weight=10, verdict="fail",
        reason="error rate 20% of 20 requests, over 2% (old release: 0% of 30)",
        new=CanaryFigures(requests=20, failures=4, p99_ms=5),
        old=CanaryFigures(requests=30, failures=0, p99_ms=4),
    )  # fmt: skip


def test_a_passing_step_keeps_its_weights(tmp_path: Path, fakes: Fakes, nginx_master: Path) -> None:
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)
    (pdir / "logs").mkdir(parents=True)
    (pdir / "upstreams").mkdir()
    log = pdir / "logs" / "shop-staging.log"
    lines = tmp_path / "lines"
    lines.write_text(log_line("10.0.0.2", "200", 5) * 12 + log_line("10.0.0.1", "200", 5) * 90)
    done = run_runtime(traffic(base, lines, log) + step_argv(base, pdir, nginx_master),
                       base, path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 0, done.stderr
    upstreams = (pdir / "upstreams" / "shop-staging.conf").read_text()
    assert "server 10.0.0.1:8000 weight=90;" in upstreams
    assert "server 10.0.0.2:8000 weight=10;" in upstreams
    decisions = (base / "rollout" / "decisions.jsonl").read_text().splitlines()
    assert [CanaryDecision.model_validate_json(d).verdict for d in decisions] == ["pass"]


def test_a_persons_abort_ends_the_bake_at_once(
    tmp_path: Path, fakes: Fakes, nginx_master: Path
) -> None:
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)
    (pdir / "logs").mkdir(parents=True)
    (pdir / "upstreams").mkdir()
    started = time.monotonic()
    done = run_runtime(f"(sleep 0.5; platform_canary_ask {base} abort) &\n"
                       f"{step_argv(base, pdir, nginx_master, bake=30)}", base,
                       path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 1
    assert time.monotonic() - started < 10
    event = HistoryEvent.model_validate_json((base / "history.jsonl").read_text())
    assert event.decision is not None
    assert event.decision.reason == "aborted by a person during step 1"


# --- the host's awk against the pure core --------------------------------------------------

attempts = st.lists(
    st.tuples(st.sampled_from([*sorted(ADDRESSES.values()), "10.9.9.9"]),
              st.sampled_from(["200", "301", "404", "500", "502", "-"]), st.integers(0, 3000)),
    max_size=80,
)  # fmt: skip
limits = st.builds(
    Thresholds,
    max_error_percent=st.sampled_from([0, 0.5, 2, 10, 50]),
    max_p99_ms=st.none() | st.integers(1, 3000),
    max_p99_ratio=st.none() | st.sampled_from([1, 1.5, 3]),
    min_requests=st.integers(1, 30),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(attempts, limits)
def test_the_hosts_figures_and_decision_equal_the_core(
    tmp_path: Path, log: list[tuple[str, str, int]], thresholds: Thresholds
) -> None:
    text = "".join(log_line(a, s, ms) for a, s, ms in log) + "1\tpartly written"
    path = tmp_path / "access.log"
    path.write_text(text)
    args = " ".join(f"'{a}'" for a in threshold_args(thresholds))
    done = run_runtime(
        f"f=$(platform_canary_tally {path} 0 '10.0.0.1' '10.0.0.2 10.0.0.3')\necho \"$f\"\n"
        f"platform_canary_judge {args} $f", tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures_line, verdict_line = done.stdout.split("\n")[:2]
    old, new = tally(text.splitlines(), {"10.0.0.1"}, {"10.0.0.2", "10.0.0.3"})
    of, nf = old.figures(), new.figures()
    expected = [of.requests, of.failures, of.p99_ms, nf.requests, nf.failures, nf.p99_ms]
    assert figures_line.split() == ["-" if v is None else str(v) for v in expected]
    decision = judge("web", "1", 10, of, nf, thresholds)
    assert verdict_line.split("\t") == [decision.verdict, decision.reason]


def test_status_shows_the_rollout_and_its_decisions(tmp_path: Path) -> None:
    (tmp_path / "rollout").mkdir()
    done = run_runtime(
        f"platform_canary_status {tmp_path} r9 'canary web step 1' 10 ''\n"
        f"printf '%s\\n' '{{\"step\":\"1\"}}' >{tmp_path}/rollout/decisions.jsonl\n"
        f"platform_canary_show {tmp_path}", tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["phase"], shown["weight"], shown["decisions"]) == (
        "canary web step 1", 10, [{"step": "1"}],
    )  # fmt: skip


def test_a_rollout_left_by_a_killed_deploy_is_undone_by_the_next_one(
    tmp_path: Path, fakes: Fakes, nginx_master: Path
) -> None:
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)  # switched: the old containers wait paused, the new ones serve
    (base / "rollout" / "web.paused").touch()
    (fakes.bin / "paused").write_text("old-1\n")
    (base / "current").symlink_to(base / "releases" / "r9")
    (pdir / "upstreams").mkdir(parents=True)
    done = run_runtime(f"platform_canary_recover {base} shop-staging {pdir} /c {nginx_master} 0",
                       base, path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 0, done.stderr
    docker = fakes.calls("docker")
    assert ["docker", "unpause", "old-1"] in docker and ["docker", "rm", "-f", "new-1"] in docker
    assert docker.index(["docker", "unpause", "old-1"]) < docker.index(
        ["docker", "rm", "-f", "new-1"]
    )
    upstreams = (pdir / "upstreams" / "shop-staging.conf").read_text()
    assert "server 10.0.0.1:8000;" in upstreams and "10.0.0.2" not in upstreams
    assert not (base / "rollout").exists()
    # Nothing left over: nothing to do.
    again = run_runtime(f"platform_canary_recover {base} shop-staging {pdir} /c {nginx_master} 0",
                        base, path=str(fakes.bin))  # fmt: skip
    assert again.returncode == 0 and len(fakes.calls("nginx")) == 1


@pytest.mark.parametrize("paused", ["old-1\n", ""], ids=["paused", "unpaused-by-retire"])
def test_a_recovery_unpauses_only_what_is_paused_and_ends_the_same_run_again(
    tmp_path: Path, fakes: Fakes, nginx_master: Path, paused: str
) -> None:
    """Killed in the warm period, or after its retire unpaused the old containers (web.paused
    still there): the same end state; a recovery killed midway and run again too."""
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)
    (base / "rollout" / "web.paused").touch()
    (base / "rollout" / "status.json").write_text(STATUS)  # of r9; current is r8
    (base / "releases" / "r8").mkdir()
    (base / "releases" / "r8" / "nginx.tsv").write_text(TSV)
    (base / "current").symlink_to(base / "releases" / "r8")
    (fakes.bin / "paused").write_text(paused)
    (pdir / "upstreams").mkdir(parents=True)
    recover = f"platform_canary_recover {base} shop-staging {pdir} /c {nginx_master} 0"
    # Killed once every request was back (rollout/back), before the new containers went.
    first = run_runtime(f"platform_canary_restore {base} r8 shop-staging {pdir} /c "
                        f"{nginx_master} 0", base, path=str(fakes.bin))  # fmt: skip
    assert first.returncode == 0, first.stderr
    done = run_runtime(recover, base, path=str(fakes.bin))
    assert done.returncode == 0, done.stderr
    docker = fakes.calls("docker")
    assert docker.count(["docker", "unpause", "old-1"]) == (1 if paused else 0)
    assert ["docker", "rm", "-f", "new-1"] in docker
    assert (fakes.bin / "paused").read_text() == ""
    upstreams = (pdir / "upstreams" / "shop-staging.conf").read_text()
    assert "server 10.0.0.1:8000;" in upstreams and "10.0.0.2" not in upstreams
    assert not (base / "rollout").exists()


def test_a_rollout_left_once_recorded_has_its_warm_containers_stopped(
    tmp_path: Path, fakes: Fakes, nginx_master: Path
) -> None:
    """Killed in the retire (current is the rollout's release, the old containers unpaused
    and one already gone): the rollout is finished, not undone; the new release serves."""
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)
    (base / "rollout" / "web.old").write_text("gone-1\nold-1\n")
    (base / "rollout" / "web.paused").touch()
    (base / "rollout" / "status.json").write_text(STATUS)
    (base / "current").symlink_to(base / "releases" / "r9")
    done = run_runtime(f"platform_canary_recover {base} shop-staging {pdir} /c {nginx_master} 0",
                       base, path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 0, done.stderr
    docker = fakes.calls("docker")
    assert ["docker", "stop", "old-1"] in docker and ["docker", "rm", "old-1"] in docker
    assert not any(argv[1] in ("unpause", "stop", "rm") and argv[-1] in ("new-1", "gone-1")
                   for argv in docker)  # fmt: skip
    assert fakes.calls("nginx") == [] and not (base / "rollout").exists()


@pytest.mark.parametrize("project", [True, False], ids=["plan-or-restore", "proxy-refresh"])
def test_the_deploy_lock_undoes_a_rollout_left_unfinished_once_held(
    tmp_path: Path, fakes: Fakes, nginx_master: Path, project: bool
) -> None:
    """Every plan's lock step (and a restore) names the compose project: whatever the plan's
    steps, the leftover is undone under the lock. `proxy refresh` undoes it itself."""
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)
    (base / "current").symlink_to(base / "releases" / "r9")
    (pdir / "upstreams").mkdir(parents=True)
    via = f" shop-staging {pdir} /c {nginx_master} 0" if project else ""
    done = run_runtime(f"platform_lock_acquire {base} alice r10 0 60{via}", base,
                       path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (base / "lock" / "holder.json").exists()
    assert (base / "rollout").exists() is not project
    assert (["docker", "rm", "-f", "new-1"] in fakes.calls("docker")) is project


def test_a_rollout_left_while_starting_has_its_new_containers_removed(
    tmp_path: Path, fakes: Fakes, nginx_master: Path
) -> None:
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)  # killed before status.json: nginx never named the new ones
    (base / "rollout" / "status.json").unlink()
    (base / "current").symlink_to(base / "releases" / "r9")
    done = run_runtime(f"platform_canary_recover {base} shop-staging {pdir} /c {nginx_master} 0",
                       base, path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert ["docker", "rm", "-f", "new-1"] in fakes.calls("docker")
    assert fakes.calls("nginx") == [] and not (base / "rollout").exists()


def test_a_refresh_during_a_rollout_writes_its_split_under_its_own_name(
    tmp_path: Path, fakes: Fakes, nginx_master: Path
) -> None:
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)
    (base / "rollout" / "web.weight").write_text("20\n")
    (base / "rollout" / "status.json").write_text('{"version":1,"release":"r9","phase":"x"}')
    (pdir / "upstreams").mkdir(parents=True)
    deploys = pdir / "upstreams" / "shop-staging.conf.shop-staging.new"
    deploys.write_text("the deploy's, waiting for the proxy lock")
    done = run_runtime(f"platform_canary_refresh {base} shop-staging {pdir} /c {nginx_master} 0",
                       base, path=str(fakes.bin))  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "r9"), done.stderr
    upstreams = (pdir / "upstreams" / "shop-staging.conf").read_text()
    assert "server 10.0.0.1:8000 weight=80;" in upstreams
    assert "server 10.0.0.2:8000 weight=20;" in upstreams
    assert deploys.read_text() == "the deploy's, waiting for the proxy lock"
    # The rollout ended meanwhile: 3, nothing written.
    (base / "rollout" / "status.json").unlink()
    again = run_runtime(f"platform_canary_refresh {base} shop-staging {pdir} /c {nginx_master} 0",
                        base, path=str(fakes.bin))  # fmt: skip
    assert again.returncode == 3 and len(fakes.calls("nginx")) == 1
    # Switched: the switch may be under way, its old containers about to stop: 4, nothing.
    (base / "rollout" / "status.json").write_text('{"version":1,"release":"r9",'
                                                  '"phase":"switched web"}')  # fmt: skip
    switched = run_runtime(f"platform_canary_refresh {base} shop-staging {pdir} /c "
                           f"{nginx_master} 0", base, path=str(fakes.bin))  # fmt: skip
    assert switched.returncode == 4 and len(fakes.calls("nginx")) == 1


def test_once_switched_the_old_containers_never_serve_even_unpaused(
    tmp_path: Path, fakes: Fakes, nginx_master: Path
) -> None:
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)  # switched, and retire has unpaused the old one to stop it
    (base / "rollout" / "web.weight").unlink()
    (base / "rollout" / "web.paused").touch()
    (pdir / "upstreams").mkdir(parents=True)
    fakes.add("docker", FAKE_DOCKER.replace("ps) ", "ps) echo \"$@\" | grep -q 'service=web' "
                                            "&& printf 'old-1\\nnew-1\\n'; "))  # fmt: skip
    done = run_runtime(f"platform_canary_upstreams {base} r9 shop-staging {pdir} /c "
                       f"{nginx_master} 0", base, path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 0, done.stderr
    upstreams = (pdir / "upstreams" / "shop-staging.conf").read_text()
    assert "server 10.0.0.2:8000;" in upstreams and "10.0.0.1" not in upstreams


def test_a_persons_promote_passes_the_step_and_skips_the_next(
    tmp_path: Path, fakes: Fakes, nginx_master: Path
) -> None:
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)
    (pdir / "logs").mkdir(parents=True)
    (pdir / "upstreams").mkdir()
    done = run_runtime(f"(sleep 0.5; platform_canary_ask {base} promote) &\n"
                       f"{step_argv(base, pdir, nginx_master, bake=30)}\n"
                       f"{step_argv(base, pdir, nginx_master, bake=30)}", base,
                       path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = [HistoryEvent.model_validate_json(x)
              for x in (base / "history.jsonl").read_text().splitlines()]  # fmt: skip
    assert [(e.outcome, e.decision.verdict if e.decision else "") for e in events] == [
        ("promoted", "promoted")
    ]  # the second step was skipped, not judged


STATUS = '{"version":1,"release":"r9","phase":"warm web","weight":100}'


@pytest.mark.parametrize("warm", [True, False])
def test_a_rollback_asks_a_warm_period_to_go_back_and_answers_the_state(
    tmp_path: Path, warm: bool
) -> None:
    rollout_in_progress(tmp_path)
    (tmp_path / "rollout" / "status.json").write_text(STATUS)
    if warm:
        (tmp_path / "rollout" / "web.paused").touch()
    done = run_runtime(f"platform_canary_rollback {tmp_path}", tmp_path)
    assert done.returncode == 0, done.stderr
    answer = RollbackFacts.model_validate_json(done.stdout)
    assert answer.asked is warm
    assert answer.state.rollout is not None and answer.state.rollout.phase == "warm web"
    request = tmp_path / "rollout" / "request"
    assert (request.read_text() if request.exists() else None) == ("abort\n" if warm else None)


def test_a_step_waits_on_its_fifo_and_wakes_on_a_request(
    tmp_path: Path, fakes: Fakes, nginx_master: Path
) -> None:
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)
    os.mkfifo(base / "rollout" / "wake")
    (pdir / "logs").mkdir(parents=True)
    (pdir / "upstreams").mkdir()
    fakes.add("sleep", 'exec /usr/bin/sleep "$@"')
    done = run_runtime(f"(sleep 0.5; platform_canary_ask {base} abort) &\n"
                       f"{step_argv(base, pdir, nginx_master, bake=30)}", base,
                       path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 1
    # It never polled (the reload's wait for nginx's old workers aside): the wait was the
    # FIFO's, which the request's line ended.
    assert ["sleep", "0.5"] in fakes.calls("sleep") and ["sleep", "0.2"] not in fakes.calls("sleep")
    event = HistoryEvent.model_validate_json((base / "history.jsonl").read_text())
    assert event.decision is not None
    assert event.decision.reason == "aborted by a person during step 1"
    assert not (base / "rollout").exists()
    assert ["docker", "rm", "-f", "new-1"] in fakes.calls("docker")


START_DOCKER = """
case $1 in
  ps) # running containers of a service; web's new one once compose started it
    svc=$(printf '%s\\n' "$@" | sed -n 's/^label=com.docker.compose.service=//p')
    case $svc in
      web) echo old-web; [[ -e {started} ]] && echo new-web ;;
      api) echo old-api ;;
    esac ;;
  inspect) case $2 in
      -f) case $3 in
          *config-hash*) echo h-old ;;
          *State*) echo "${@: -1} running healthy" ;;
          *) echo '10.0.0.9 ' ;;
        esac ;;
    esac ;;
esac
exit 0
"""
START_COMPOSE = """#!/usr/bin/env bash
case "$*" in
  *"config --hash web"*) echo "web h-new" ;;
  *"config --hash api"*) exit 1 ;;  # the second service's config cannot be read
  *up*) touch {started} ;;
esac
"""


def test_a_canary_start_that_fails_at_a_later_service_removes_what_earlier_ones_started(
    tmp_path: Path,
) -> None:
    """web's new container started; api's config hash then fails: web's new container goes,
    the old ones stay, nothing of the rollout is left behind."""
    fakes = Fakes(tmp_path / "fakes")
    started = tmp_path / "started"
    fakes.add("docker", START_DOCKER.replace("{started}", str(started)))
    compose = tmp_path / "compose"
    compose.write_text(START_COMPOSE.replace("{started}", str(started)))
    compose.chmod(0o755)
    base = tmp_path / "base"
    (base / "releases" / "r9").mkdir(parents=True)
    (base / "releases" / "r9" / "nginx.tsv").write_text(TSV)
    done = run_runtime(
        f"platform_canary_start {base} r9 shop-staging 5 '' /c /p 0 web,api -- {compose}",
        base, path=str(fakes.bin),
    )  # fmt: skip
    assert done.returncode == 1
    removed = [argv[-1] for argv in fakes.calls("docker") if argv[1:3] == ["rm", "-f"]]
    assert removed == ["new-web"]
    assert not (base / "rollout").exists()


@pytest.mark.parametrize("current", ["r9", "r8"], ids=["finished", "undone"])
def test_a_refresh_says_whether_it_finished_or_undid_a_leftover_rollout(
    tmp_path: Path, fakes: Fakes, nginx_master: Path, current: str
) -> None:
    """Killed in the warm period (current r8): undone. Killed in its retire, once it recorded
    r9: finished, its new release left serving; the answer must not say undone."""
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    rollout_in_progress(base)
    (base / "rollout" / "web.paused").touch()
    (fakes.bin / "paused").write_text("old-1\n")
    (base / "rollout" / "status.json").write_text(STATUS)  # of r9
    (base / "releases" / "r8").mkdir()
    for release in ("r8", "r9"):  # the files `proxy_config.py` renders, as short stand-ins
        made = base / "releases" / release
        (made / "nginx.tsv").write_text(TSV)
        (made / "nginx-http.conf").write_text("# http\n")
        for n in (1, 2):
            (made / f"nginx-{n}.plain.conf").write_text(f"# {release} site {n}\n")
    (base / "current").symlink_to(base / "releases" / current)
    for folder in ("upstreams", "sites"):
        (pdir / folder).mkdir(parents=True, exist_ok=True)
    done = run_runtime(f"platform_proxy_refresh {base} shop-staging {pdir} /c {nginx_master} "
                       "ops 60 600", base, path=str(fakes.bin))  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = ProxyRefreshed.model_validate_json(done.stdout)
    if current == "r9":
        assert answer == ProxyRefreshed(routes="installed", release="r9", finished_release="r9")
        assert ["docker", "rm", "-f", "new-1"] not in fakes.calls("docker")
    else:
        assert answer == ProxyRefreshed(
            routes="installed", release="r8", undone=True, undone_release="r9"
        )
        assert ["docker", "rm", "-f", "new-1"] in fakes.calls("docker")
    assert not (base / "rollout").exists()
