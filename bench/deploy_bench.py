"""Deploy overhead, rollback time and SSH connections per deploy, against the real local
servers (tests/e2e/infra). Figures are ratios against a baseline measured in the same run.

    flock /tmp/platform-e2e.lock .venv/bin/python bench/deploy_bench.py [--rounds N]

Baseline: what a hand-written deploy does at minimum on the same host and project,
`ssh host 'docker compose pull && docker compose up -d --wait'`. Ours: `python -m platform_lib
deploy` (validate, plan, lock, stage, login, pull, digests, up --wait, HTTP check, record,
prune, unlock), twice per round: without a proxy (compose up in place) and through the
generated nginx (the production path: blue/green, reload, route checks through nginx), on a
tenant of its own behind an nginx of its own (tests/nginx_harness.py). All alternate the same
two images, so every round is a real upgrade. Rollbacks go back and forth between the two
newest releases, images cached. The switch step of the proxied deploys is broken down by the
phase times the runtime logs (`switch phases: ...`).
"""

from __future__ import annotations

import argparse
import compileall
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from e2e.platform_fixture import Platform, http_get, proxy_settings, routed_tenant, web_tenant
from e2e.servers import Servers, start_servers
from load import Load
from nginx_harness import Nginx, free_port

STEP_TIME = re.compile(r"ok: (?P<step>[\w-]+) \((?P<seconds>[0-9.]+)s\)")
PHASES = re.compile(r"switch phases: (?P<phases>.*)$", re.MULTILINE)


def _ssh(servers: Servers, command: str) -> None:
    env = servers.env
    subprocess.run(
        ["ssh", "-p", env["SSH_PORT"], "-i", env["SSH_CLIENT_KEY"], "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={env['SSH_KNOWN_HOSTS']}",
         f"root@{env['SSH_HOST']}", command],
        check=True, capture_output=True, text=True,
    )  # fmt: skip


def _timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def _step_seconds(stderr: str, step: str) -> float:
    times = [float(m["seconds"]) for m in STEP_TIME.finditer(stderr) if m["step"] == step]
    assert times, f"no time of step {step} in the deploy's log"
    return sum(times)


def _phases(stderr: str) -> dict[str, float]:
    """The switch's phase times, `name=seconds ...` as the runtime logs them (summed over the
    switches of one run)."""
    found: dict[str, float] = {}
    for match in PHASES.finditer(stderr):
        for pair in match["phases"].split():
            name, _, seconds = pair.partition("=")
            found[name] = found.get(name, 0.0) + float(seconds)
    return found


def _median_phases(runs: list[dict[str, float]]) -> str:
    names = dict.fromkeys(name for run in runs for name in run)  # in the order they ran
    return ", ".join(
        f"{name} {statistics.median(run.get(name, 0.0) for run in runs):.2f} s" for name in names
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    rounds = parser.parse_args().rounds
    # Byte-compile the package first, as an install does: where PYTHONDONTWRITEBYTECODE is set
    # (as on these machines) every start would otherwise compile the sources again.
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "platform_lib", quiet=1)
    servers = start_servers()
    env = servers.env
    work = Path(tempfile.mkdtemp(prefix="platform-bench-"))
    platform = Platform(servers, work / "repo", work / "host")
    platform.deploy_root.mkdir(parents=True)
    platform.write_settings(platform.settings())
    platform.add_tenant("bench", web_tenant())
    # The production path: a platform repository of its own whose settings have a proxy.
    nginx = Nginx(work / "nginx")
    nginx.write_main()
    nginx.start()
    http_port = free_port()
    proxied_platform = Platform(servers, work / "proxied-repo", work / "proxied-host")
    proxied_platform.deploy_root.mkdir(parents=True)
    proxied_platform.write_settings(
        proxied_platform.settings(proxy=proxy_settings(nginx, http_port, free_port()))
    )
    proxied_platform.add_tenant("benchp", routed_tenant())
    proxied = Load(http_port, host="staging.benchp.example.test")
    base_port = platform.port("bench", "production")  # unused by the tenant's staging deploys
    baseline_dir = work / "baseline"
    baseline_dir.mkdir()
    (baseline_dir / "docker-compose.yml").write_text(
        f"services:\n  web:\n    image: ${{IMAGE}}\n    ports: ['127.0.0.1:{base_port}:8080']\n"
    )
    # The baseline logs in once, into a docker config of its own, removed at the end.
    login = f"export DOCKER_CONFIG={baseline_dir}/docker-config && "
    password = Path(env["REGISTRY_PASSWORD_FILE"]).read_text().strip()
    _ssh(servers, f"{login}echo {password} | docker login {env['REGISTRY']} -u platform "
                  "--password-stdin")  # fmt: skip

    def baseline(image: str) -> None:
        _ssh(servers, f"{login}cd {baseline_dir} && export IMAGE={env[image]} && "
                      "docker compose -p bench-base pull -q && "
                      "docker compose -p bench-base up -d --wait")  # fmt: skip

    ours_times, base_times, logins = [], [], []
    proxy_times, switch_times, phases, steps = [], [], [], []
    rollback_steps: dict[str, list[dict[str, float]]] = {}
    try:
        platform.deploy("bench", image="v1")
        proxied_platform.deploy("benchp", image="v1")
        baseline("DEMO_WEB_V1")
        for round_no in range(rounds):
            tag = "v2" if round_no % 2 == 0 else "v1"
            base_times.append(_timed(lambda tag=tag: baseline(f"DEMO_WEB_{tag.upper()}")))
            assert http_get(base_port) == tag
            before = servers.ssh_logins()
            ours_times.append(_timed(lambda tag=tag: platform.deploy("bench", image=tag)))
            logins.append(servers.ssh_logins() - before)
            assert http_get(platform.port("bench")) == tag
            started = time.perf_counter()
            done = proxied_platform.deploy("benchp", image=tag)
            proxy_times.append(time.perf_counter() - started)
            assert "blue/green: web" in done.stderr, "the proxied upgrade did not go blue/green"
            switch_times.append(_step_seconds(done.stderr, "switch"))
            phases.append(_phases(done.stderr))
            steps.append({m["step"]: float(m["seconds"]) for m in STEP_TIME.finditer(done.stderr)})
            assert proxied.one().body == tag

        # Back and forth between the two newest releases: each one a real switch of image.
        def roll(*to: str) -> None:
            platform.cli("rollback", "--project", "bench", "--env", "staging", *to)

        def rollbacks(platform: Platform, project: str) -> list[float]:
            def roll(*to: str) -> None:
                done = platform.cli("rollback", "--project", project, "--env", "staging", *to)
                rollback_steps.setdefault(project, []).append(
                    {m["step"]: float(m["seconds"]) for m in STEP_TIME.finditer(done.stderr)}
                )

            newest = str(platform.current(project))
            times = [_timed(roll)]
            previous = str(platform.current(project))
            for round_no in range(max(2, rounds // 2) - 1):
                target = newest if round_no % 2 == 0 else previous
                times.append(_timed(lambda target=target: roll("--to", target)))
            return times

        rollback_times = rollbacks(platform, "bench")
        proxy_rollback_times = rollbacks(proxied_platform, "benchp")
    finally:
        _ssh(servers, f"cd {baseline_dir} && IMAGE=x docker compose -p bench-base down && "
                      f"rm -rf {baseline_dir}/docker-config")  # fmt: skip
        platform.cleanup()
        proxied_platform.cleanup()
        nginx.stop()

    print("rounds, ours:", " ".join(f"{t:.2f}" for t in ours_times))
    print("rounds, baseline:", " ".join(f"{t:.2f}" for t in base_times))
    ours, base = statistics.median(ours_times), statistics.median(base_times)
    print(
        f"deploy (upgrade), median of {rounds}: ours {ours:.2f} s, "
        f"baseline ssh+compose pull+up --wait {base:.2f} s, ratio {ours / base:.2f}x "
        "(target <= 1.25x)"
    )
    print("rounds, ours through the proxy:", " ".join(f"{t:.2f}" for t in proxy_times))
    proxy = statistics.median(proxy_times)
    print(
        f"deploy (upgrade) through the proxy, median of {rounds}: ours {proxy:.2f} s, "
        f"baseline {base:.2f} s, ratio {proxy / base:.2f}x (target <= 1.15x)"
    )
    print(
        f"  switch step, median: {statistics.median(switch_times):.2f} s; "
        f"its phases, median: {_median_phases(phases)}"
    )
    print(f"  every step of it, median: {_median_phases(steps)}")
    print(
        f"rollback to the previous release, images cached, median of {len(rollback_times)}: "
        f"{statistics.median(rollback_times):.2f} s without a proxy (target <= 5 s), "
        f"{statistics.median(proxy_rollback_times):.2f} s through the proxy (target <= 2.5 s)"
    )
    print("rollbacks through the proxy:", " ".join(f"{t:.2f}" for t in proxy_rollback_times))
    print(f"  every step of them, median: {_median_phases(rollback_steps['benchp'])}")
    print(f"ssh connections per deploy (sshd log): {sorted(set(logins))} (target: 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
