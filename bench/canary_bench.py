"""Canary figures against the real local servers (tests/e2e/infra) and a real nginx, under
the same bounded load as the e2e tests (4 threads, one connection per request):

- a failing canary (demo-web:v4, every fifth request 500) rolled back at its first step, and
  a release degrading in its warm period: from the host's decision to the last request the
  new release answered (after it, every request is on the previous release);
- a manual `rollback` in the warm period: from the command's start to the host's decision,
  and to the last request the new release answered (all traffic on the previous release);
- failed requests in each step of a healthy canary;
- the time a canary adds to a deploy beyond its bake times, against the same deploy as a
  plain blue/green switch.

    .venv/bin/python bench/canary_bench.py [--rounds N] [--only CASE ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from e2e.platform_fixture import Platform, free_port, proxy_settings, routed_tenant
from e2e.servers import Servers, start_servers
from load import Answer, Load
from nginx_harness import Nginx

from platform_lib.models.records import CanaryDecision, HistoryEvent

HOST = "staging.bench.example.test"
STEPS = [{"weight": 20, "bake": 2}, {"weight": 50, "bake": 2}]
BAKES = sum(s["bake"] for s in STEPS)
OFFSET = time.time() - time.monotonic()


def wall_ms(moment: float) -> float:
    return (moment + OFFSET) * 1000


@contextmanager
def tenant(
    servers: Servers, work: Path, rollout: dict[str, Any] | None
) -> Iterator[tuple[Platform, int]]:
    nginx = Nginx(work / "nginx")
    nginx.write_main()
    nginx.start()
    platform = Platform(servers, work / "repo", work / "host")
    platform.deploy_root.mkdir(parents=True)
    http_port = free_port()
    platform.write_settings(platform.settings(proxy=proxy_settings(nginx, http_port, free_port())))
    spec = routed_tenant()
    if rollout is not None:
        spec["manifest"]["rollout"] = {"web": rollout}
    platform.add_tenant("bench", spec)
    try:
        yield platform, http_port
    finally:
        platform.cleanup()
        nginx.stop()


def load(http_port: int) -> Load:
    return Load(http_port, host=HOST, path="/cgi-bin/app")


def decisions(platform: Platform) -> list[CanaryDecision]:
    events = [HistoryEvent.model_validate(e) for e in platform.history("bench")]
    return [e.decision for e in events if e.event == "canary" and e.decision is not None]


def last_answer_of(answers: list[Answer], body: str) -> float:
    """The start (wall clock, ms) of the last request this release answered."""
    return max(wall_ms(a.at) for a in answers if a.body == body)


def wait_for_phase(platform: Platform, phase: str) -> None:
    status = platform.base("bench") / "rollout" / "status.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if json.loads(status.read_text()).get("phase") == phase:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the rollout never reached {phase}")


def background(action: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(action()), daemon=True)
    thread.start()
    return thread, result


def deploy(platform: Platform, image: str) -> Any:
    return platform.deploy("bench", image=image, check=False, timeout=300)


def failing_canary(servers: Servers, work: Path) -> float:
    with tenant(servers, work, {"steps": STEPS, "thresholds": {"min_requests": 20}}) as (p, port):
        deploy(p, "v1")
        with load(port) as running:
            time.sleep(0.3)
            done = deploy(p, "v4")
            time.sleep(0.5)
        assert done.returncode == 5, done.stderr
        decided = decisions(p)[-1]
        return last_answer_of(running.answers, "v4") - decided.decided_ms


def degrading_in_warm(servers: Servers, work: Path) -> float:
    rollout = {"steps": STEPS, "thresholds": {"min_requests": 20}, "warm": 60}
    with tenant(servers, work, rollout) as (p, port):
        deploy(p, "v1")
        with load(port) as running:
            thread, result = background(lambda: deploy(p, "v2"))
            wait_for_phase(p, "warm web")
            for container in servers.docker(
                "ps", "-q", "--filter", "label=com.docker.compose.project=bench-staging",
                "--filter", "status=running",
            ).split():  # fmt: skip
                servers.docker("exec", container, "touch", "/tmp/degrade")
            thread.join(timeout=300)
            time.sleep(0.5)
        assert result[0].returncode == 5, result[0].stderr
        return last_answer_of(running.answers, "v2") - decisions(p)[-1].decided_ms


def manual_rollback_in_warm(servers: Servers, work: Path) -> tuple[float, float, int]:
    """(command start -> the host's decision, command start -> the last answer of the new
    release, failed requests)."""
    rollout = {"steps": STEPS, "thresholds": {"min_requests": 20}, "warm": 60}
    with tenant(servers, work, rollout) as (p, port):
        deploy(p, "v1")
        with load(port) as running:
            thread, _ = background(lambda: deploy(p, "v2"))
            wait_for_phase(p, "warm web")
            asked = wall_ms(time.monotonic())
            p.cli("rollback", "--project", "bench", "--env", "staging")
            thread.join(timeout=300)
            time.sleep(0.5)
        decided = decisions(p)[-1].decided_ms
        last = last_answer_of(running.answers, "v2")
        return decided - asked, last - asked, len(Load.failures(running.answers))


def healthy_canary(servers: Servers, work: Path) -> tuple[list[int], list[int], float]:
    """(client-side failures per step, requests per step, deploy seconds)."""
    rollout = {"steps": STEPS, "thresholds": {"min_requests": 20}, "warm": 2}
    with tenant(servers, work, rollout) as (p, port):
        deploy(p, "v1")
        with load(port) as running:
            time.sleep(0.3)
            started = time.monotonic()
            done = deploy(p, "v2")
            took = time.monotonic() - started
            time.sleep(0.3)
        assert done.returncode == 0, done.stderr
        ends = [d.decided_ms for d in decisions(p)]
        starts = [wall_ms(started), *ends[:-1]]
        windows = [[a for a in running.answers if s <= wall_ms(a.at) < e]
                   for s, e in zip(starts, ends, strict=True)]  # fmt: skip
        return [len(Load.failures(w)) for w in windows], [len(w) for w in windows], took


def plain_switch(servers: Servers, work: Path) -> float:
    with tenant(servers, work, None) as (p, port):
        deploy(p, "v1")
        with load(port):
            started = time.monotonic()
            done = deploy(p, "v2")
            took = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), default=sorted(CASES),
                        help="the cases to measure (default: all)")  # fmt: skip
    args = parser.parse_args()
    servers = start_servers()
    root = Path(tempfile.mkdtemp(prefix="platform-canary-bench-"))
    figures: dict[str, list[Any]] = {k: [] for k in args.only}
    for n in range(args.rounds):
        for case in args.only:
            figures[case].append(CASES[case](servers, root / f"{case}-{n}"))
    print(f"{args.rounds} rounds; steps {STEPS}; load: 4 threads, one connection per request")
    for case in CASES:
        if case in figures and (case != "plain" or "healthy" not in figures):
            REPORTS[case](figures)
    return 0


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values):.0f} ms, max {max(values):.0f} ms"


def report_fail(figures: dict[str, list[Any]]) -> None:
    print(f"failing canary, decision -> last answer of the new release: {ms(figures['fail'])}")


def report_warm(figures: dict[str, list[Any]]) -> None:
    print(f"degraded in the warm period, decision -> last answer of the new: {ms(figures['warm'])}")


def report_manual(figures: dict[str, list[Any]]) -> None:
    decided = [d for d, _, _ in figures["manual"]]
    moved = [m for _, m, _ in figures["manual"]]
    print(f"manual rollback in the warm period: command start -> the host's decision "
          f"{ms(decided)}; command start -> last answer of the new release {ms(moved)} "
          f"(each round: {', '.join(f'{m:.0f}' for m in moved)} ms); failed requests: "
          f"{sum(f for *_, f in figures['manual'])}")  # fmt: skip


def report_plain(figures: dict[str, list[Any]]) -> None:
    print(f"plain blue/green deploy: {statistics.median(figures['plain']):.1f} s")


def report_healthy(figures: dict[str, list[Any]]) -> None:
    per_step = [list(x) for x in zip(*(f for f, _, _ in figures["healthy"]), strict=True)]
    requests = [list(x) for x in zip(*(r for _, r, _ in figures["healthy"]), strict=True)]
    names = [f"step {i + 1}" for i in range(len(STEPS))] + ["warm"]
    print("healthy canary, failed requests per period (of requests): " + ", ".join(
        f"{name} {sum(f)} of {sum(r)}" for name, f, r in zip(names, per_step, requests, strict=True)
    ))  # fmt: skip
    canary = statistics.median(t for _, _, t in figures["healthy"]) - BAKES - 2
    if "plain" not in figures:
        print(f"deploy with a canary, bake times taken out: {canary:.1f} s")
        return
    plain = statistics.median(figures["plain"])
    print(f"deploy with a canary, bake times taken out: {canary:.1f} s; plain blue/green: "
          f"{plain:.1f} s; the canary adds {canary - plain:.1f} s")  # fmt: skip


CASES: dict[str, Callable[[Servers, Path], Any]] = {
    "fail": failing_canary, "warm": degrading_in_warm, "manual": manual_rollback_in_warm,
    "healthy": healthy_canary, "plain": plain_switch,
}  # fmt: skip
REPORTS: dict[str, Callable[[dict[str, list[Any]]], None]] = {
    "fail": report_fail, "warm": report_warm, "manual": report_manual, "healthy": report_healthy,
    "plain": report_plain,
}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
