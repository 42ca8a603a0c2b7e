"""Zero-downtime figures against the real local servers (tests/e2e/infra) and a real nginx:
failed requests and p50/p99 latency during a deploy, ours (blue/green behind the proxy) against
plain `docker compose up -d` of the same upgrade, in one run; the time from "new release
healthy" to "all traffic on it"; nginx test + reload time with 300 generated tenants.

    .venv/bin/python bench/proxy_bench.py [--rounds N] [--tenants N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from e2e.platform_fixture import Platform, free_port, proxy_settings, routed_tenant
from e2e.servers import Servers, start_servers
from load import Answer, Load
from nginx_harness import Nginx

HOST = "staging.bench.example.test"
HEALTHY = "web: the new containers are healthy"  # logged by the host runtime's switch


def timed_lines(command: list[str], env: dict[str, str]) -> tuple[int, list[tuple[float, str]]]:
    """Run a command; each stderr line with the moment it arrived."""
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               text=True)  # fmt: skip
    lines: list[tuple[float, str]] = []
    assert process.stderr is not None
    for line in process.stderr:
        lines.append((time.monotonic(), line.rstrip("\n")))
    return process.wait(), lines


def handover(answers: list[Answer], old: str, new: str, healthy: float) -> float:
    """Seconds from "the new containers are healthy" (the deploy's log line, as it arrives) to
    the last answer of the old release."""
    last_old = max((a.at + a.seconds for a in answers if a.body == old), default=healthy)
    return max(0.0, last_old - healthy)


def ours(servers: Servers, work: Path, rounds: int) -> dict[str, list[float]]:
    nginx = Nginx(work / "nginx")
    nginx.write_main()
    nginx.start()
    platform = Platform(servers, work / "repo", work / "host")
    platform.deploy_root.mkdir(parents=True)
    http_port = free_port()
    platform.write_settings(platform.settings(proxy=proxy_settings(nginx, http_port, free_port())))
    platform.add_tenant("bench", routed_tenant())
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update({
        "REGISTRY_TOKEN": Path(servers.env["REGISTRY_PASSWORD_FILE"]).read_text().strip(),
        "PLATFORM_SSH_KEY": servers.env["SSH_CLIENT_KEY"], "USER": "bench",
    })  # fmt: skip
    figures: dict[str, list[float]] = {"failed": [], "requests": [], "p50": [], "p99": [],
                                       "handover": []}  # fmt: skip
    try:
        platform.deploy("bench", image="v1")
        for round_no in range(rounds):
            old, new = ("v1", "v2") if round_no % 2 == 0 else ("v2", "v1")
            command = [
                sys.executable,
                "-m",
                "platform_lib",
                "deploy",
                "--project",
                "bench",
                "--env",
                "staging",
                "--image",
                f"web={new}",
                "--root",
                str(platform.root),
            ]
            with Load(http_port, host=HOST) as load:
                time.sleep(0.3)
                start = time.monotonic()
                code, lines = timed_lines(command, env)
                end = time.monotonic()
                time.sleep(0.3)
            assert code == 0, "\n".join(line for _, line in lines)
            healthy = next(t for t, line in lines if line.endswith(HEALTHY))
            during = load.between(start, end)
            figures["requests"].append(len(during))
            figures["failed"].append(len(Load.failures(during)))
            figures["p50"].append(Load.latency_ms(during, 0.50))
            figures["p99"].append(Load.latency_ms(during, 0.99))
            figures["handover"].append(handover(load.answers, old, new, healthy))
    finally:
        platform.cleanup()
        nginx.stop()
    return figures


def plain(servers: Servers, work: Path, rounds: int) -> dict[str, list[float]]:
    port = free_port()
    folder = work / "plain"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(
        f"services:\n  web:\n    image: ${{IMAGE}}\n    ports: ['127.0.0.1:{port}:8080']\n"
    )

    def compose(image: str, *args: str) -> None:
        subprocess.run(
            ["docker", "compose", "-p", "bench-plain", *args], cwd=folder,
            env={**os.environ, **servers.docker_env(), "IMAGE": servers.env[image]},
            capture_output=True, check=True, timeout=120,
        )  # fmt: skip

    figures: dict[str, list[float]] = {"failed": [], "requests": [], "p50": [], "p99": []}
    compose("DEMO_WEB_V1", "up", "-d", "--wait")
    try:
        for round_no in range(rounds):
            new = "v2" if round_no % 2 == 0 else "v1"
            with Load(port) as load:
                time.sleep(0.3)
                start = time.monotonic()
                compose(f"DEMO_WEB_{new.upper()}", "up", "-d")
                deadline = start + 60  # until the new version answers: the deploy is done
                while Load.versions(load.answers)[-1:] != [new] and time.monotonic() < deadline:
                    time.sleep(0.02)
                end = time.monotonic()
            during = load.between(start, end)
            figures["requests"].append(len(during))
            figures["failed"].append(len(Load.failures(during)))
            figures["p50"].append(Load.latency_ms(during, 0.50))
            figures["p99"].append(Load.latency_ms(during, 0.99))
    finally:
        compose("DEMO_WEB_V1", "down")
    return figures


def reload_with_tenants(work: Path, tenants: int) -> tuple[float, float]:
    """Median seconds of `nginx -t` and of a graceful reload (HUP until the old workers are
    gone), with the generated config of `tenants` tenants, staging and production each."""
    from platform_lib.config.sources import read_sources
    from platform_lib.config.validate import load_valid_config
    from platform_lib.models.settings import Proxy
    from platform_lib.planning.proxy_config import proxy_files

    root = work / "many"
    (root / "configs").mkdir(parents=True)
    (root / "configs" / "platform.yml").write_text(
        "registry: {host: registry.example, namespace: bench}\n"
        "environments:\n"
        "  staging: {domain_template: 'staging.{domain}', hosts: {h: {kind: local}}}\n"
        "  production: {hosts: {h: {kind: local}}}\n"
    )
    for n in range(tenants):
        folder = root / "configs" / f"tenant-{n:03d}"
        folder.mkdir()
        (folder / "docker-compose.yml").write_text("services:\n  web: {}\n  api: {}\n")
        (folder / "project.yml").write_text(
            f"images: {{web: {{repository: {folder.name}-web}}, "
            f"api: {{repository: {folder.name}-api}}}}\n"
            "routes:\n"
            f"  - {{service: web, port: 8080, domains: {{production: [t{n}.example.com, "
            f"www.t{n}.example.com]}}}}\n"
            f"  - {{service: api, port: 9000, domains: {{production: [api.t{n}.example.com]}}}}\n"
        )
        for env in ("staging", "production"):
            (folder / f".env.{env}").write_text("")
    config = load_valid_config(read_sources(root))
    nginx = Nginx(work / "nginx-many")
    nginx.write_main()
    proxy = Proxy(dir=str(nginx.platform_dir), nginx_conf=str(nginx.conf),
                  pid_file=str(nginx.pid_file), http_port=free_port(), https_port=free_port(),
                  ipv6=False)  # fmt: skip
    settings = config.settings.model_copy(update={"proxy": proxy})
    for name, tenant in config.tenants.items():
        for env in ("staging", "production"):
            project = f"{name}-{env}"
            files = dict(proxy_files(settings, tenant, env, project))
            (nginx.platform_dir / "http.conf").write_text(files["nginx-http.conf"])
            site = "".join(text for f, text in sorted(files.items()) if f.endswith(".plain.conf"))
            (nginx.platform_dir / "sites" / f"{project}.conf").write_text(site)
            upstreams = "".join(
                f"upstream {line.split(chr(9))[4]} {{ server 127.0.0.1:9; keepalive 8; }}\n"
                for line in files["nginx.tsv"].splitlines()
            )
            (nginx.platform_dir / "upstreams" / f"{project}.conf").write_text(upstreams)
    tests, reloads = [], []
    nginx.start()
    try:
        master = int(nginx.pid_file.read_text())
        for _ in range(5):
            started = time.perf_counter()
            assert nginx.test().returncode == 0
            tests.append(time.perf_counter() - started)
            before = _children(master)
            started = time.perf_counter()
            os.kill(master, 1)
            while any(Path(f"/proc/{pid}").exists() for pid in before):
                time.sleep(0.002)
            reloads.append(time.perf_counter() - started)
    finally:
        nginx.stop()
    return statistics.median(tests), statistics.median(reloads)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return [int(p) for p in out.split()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tenants", type=int, default=300)
    args = parser.parse_args()
    servers = start_servers()
    work = Path(tempfile.mkdtemp(prefix="platform-proxy-bench-"))
    ours_figures = ours(servers, work, args.rounds)
    plain_figures = plain(servers, work, args.rounds)
    check, reload = reload_with_tenants(work, args.tenants)

    def line(name: str, figures: dict[str, list[float]]) -> str:
        return (
            f"{name:<28} failed {int(sum(figures['failed'])):>5} of "
            f"{int(sum(figures['requests'])):>6} requests   "
            f"p50 {statistics.median(figures['p50']):6.1f} ms   "
            f"p99 {statistics.median(figures['p99']):7.1f} ms"
        )

    print(f"during a deploy of an upgrade, {args.rounds} rounds each, same load "
          f"(4 threads, one connection per request):")  # fmt: skip
    print(line("ours (blue/green via nginx)", ours_figures))
    print(line("plain compose up -d", plain_figures))
    print(
        "new release healthy -> all traffic on it, median: "
        f"{statistics.median(ours_figures['handover']):.2f} s "
        f"(max {max(ours_figures['handover']):.2f} s)"
    )
    print(
        f"nginx with {args.tenants} tenants x 2 environments ({args.tenants * 6} server names): "
        f"nginx -t {check * 1000:.0f} ms, graceful reload {reload * 1000:.0f} ms (medians of 5)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
