"""Deploy overhead, rollback time and SSH connections per deploy, against the real local
servers (tests/e2e/infra). Figures are ratios against a baseline measured in the same run.

    .venv/bin/python bench/deploy_bench.py [--rounds N]

Baseline: what a hand-written deploy does at minimum on the same host and project,
`ssh host 'docker compose pull && docker compose up -d --wait'`. Ours: `python -m platform_lib
deploy` (validate, plan, lock, stage, login, pull, digests, up --wait, HTTP check, record,
prune, unlock). Both alternate the same two images, so every round is a real upgrade.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from e2e.platform_fixture import Platform, http_get, web_tenant
from e2e.servers import Servers, start_servers


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
    try:
        platform.deploy("bench", image="v1")
        baseline("DEMO_WEB_V1")
        for round_no in range(rounds):
            tag = "v2" if round_no % 2 == 0 else "v1"
            base_times.append(_timed(lambda tag=tag: baseline(f"DEMO_WEB_{tag.upper()}")))
            assert http_get(base_port) == tag
            before = servers.ssh_logins()
            ours_times.append(_timed(lambda tag=tag: platform.deploy("bench", image=tag)))
            logins.append(servers.ssh_logins() - before)
            assert http_get(platform.port("bench")) == tag

        # Back and forth between the two newest releases: each one a real switch of image.
        def roll(*to: str) -> None:
            platform.cli("rollback", "--project", "bench", "--env", "staging", *to)

        newest = str(platform.current("bench"))
        rollback_times = [_timed(roll)]
        previous = str(platform.current("bench"))
        for round_no in range(max(2, rounds // 2) - 1):
            target = newest if round_no % 2 == 0 else previous
            rollback_times.append(_timed(lambda target=target: roll("--to", target)))
    finally:
        _ssh(servers, f"cd {baseline_dir} && IMAGE=x docker compose -p bench-base down && "
                      f"rm -rf {baseline_dir}/docker-config")  # fmt: skip
        platform.cleanup()

    print("rounds, ours:", " ".join(f"{t:.2f}" for t in ours_times))
    print("rounds, baseline:", " ".join(f"{t:.2f}" for t in base_times))
    ours, base = statistics.median(ours_times), statistics.median(base_times)
    print(
        f"deploy (upgrade), median of {rounds}: ours {ours:.2f} s, "
        f"baseline ssh+compose pull+up --wait {base:.2f} s, ratio {ours / base:.2f}x "
        "(target <= 1.25x)"
    )
    print(
        f"rollback to the previous release, images cached, median of {len(rollback_times)}: "
        f"{statistics.median(rollback_times):.2f} s (target <= 5 s)"
    )
    print(f"ssh connections per deploy (sshd log): {sorted(set(logins))} (target: 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
