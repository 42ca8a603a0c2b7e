"""How the command line scales with the number of tenants, as ratios to `python -c pass`
measured in the same run, with each command's peak memory.

    .venv/bin/python bench/cli_bench.py [--tenants 30,300,3000] [--rounds N]

For each count it generates a platform root in a temporary directory: configs/platform.yml
with its two hosts at 127.0.0.1 and 127.0.0.2 on a port nothing listens on, and that many
tenants, copies of the example tenants (configs/) with unique names, repositories, domains
and (for the filter-ical copies) a published database port. Then it times, as a child
process each:

- `validate` of every tenant, with an empty config cache (`.state` removed before each run,
  as in a fresh CI checkout) and with the cache the runs before kept;
- `plan` of one tenant (its staging environment);
- `deploy` of that tenant until it fails at its first contact with the host (the host refuses
  the connection): the time a deploy spends before it talks to a host;
- the other commands acting on that one tenant (`rollback`, `status --project`, `history`,
  `backups`, `lock release`, `promote`), each until it fails at its first contact with the host;
- `status` of every tenant, until its first contact with a host;
- `--help`.

Then, for each command, its time with the most tenants as a ratio to its time with the fewest
(the target for one tenant's commands: 3,000 tenants at most 1.5x 3 tenants).

Each figure is the median of --rounds runs; the runs of one command alternate between the
counts (and `python -c pass`), so a change in the machine's load shifts them alike. Peak memory
is the child's maximum resident set (`resource`, via os.wait4).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = {
    "filter-ical": ("filter-ical.de",),
    "gabs-massage": ("gabs-massage.de",),
    "paiss": ("paiss.me",),
}
TENANT_FILES = ("project.yml", "docker-compose.yml", ".env.staging", ".env.production")


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def generate(root: Path, count: int, ssh_port: int) -> str:
    """`count` tenants under root/configs; returns the name of the first one."""
    configs = root / "configs"
    configs.mkdir(parents=True)
    settings = (REPO / "configs" / "platform.yml").read_text(encoding="utf-8")
    for address, local in (("203.0.113.10", "127.0.0.1"), ("203.0.113.20", "127.0.0.2")):
        settings = settings.replace(
            f"address: {address}\n", f"address: {local}\n        port: {ssh_port}\n"
        )
    (configs / "platform.yml").write_text(settings, encoding="utf-8")
    names = list(EXAMPLES)
    first = ""
    for index in range(count):
        example = names[index % len(names)]
        name = f"{example}-{index}"
        first = first or name
        folder = configs / name
        folder.mkdir()
        for file in TENANT_FILES:
            text = (REPO / "configs" / example / file).read_text(encoding="utf-8")
            for domain in EXAMPLES[example]:
                stem, _, tld = domain.rpartition(".")
                text = text.replace(domain, f"{stem}-{index}.{tld}")
            # Each tenant's images are named for it (project.foreign-repository).
            text = text.replace(f"{{repository: {example}-", f"{{repository: {name}-")
            if file == "docker-compose.yml" and example == "filter-ical":
                text = text.replace(
                    "    volumes:\n      - pgdata",
                    f'    ports:\n      - "127.0.0.1:{20000 + index}:5432"\n'
                    "    volumes:\n      - pgdata",
                )
            (folder / file).write_text(text, encoding="utf-8")
    return first


def run(argv: Sequence[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(seconds, peak RSS in KiB, exit code) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, child.returncode


EMPTY_CACHE = "validate, empty cache"
"""`validate` after removing the root's `.state` (its config cache): a fresh CI checkout."""


def commands(python: str, root: Path, first: str) -> dict[str, list[str]]:
    base = [python, "-m", "platform_lib"]
    target = ["--project", first, "--env", "staging"]
    plan = ["--platform-sha", "bench", "--image", "backend=v1", "--image", "frontend=v1"]
    return {
        EMPTY_CACHE: [*base, "validate", "--root", str(root)],
        "validate": [*base, "validate", "--root", str(root)],
        "plan (one tenant)": [*base, "plan", "--root", str(root), *target, *plan],
        "deploy until the host": [*base, "deploy", "--root", str(root), *target, *plan],
        "rollback until the host": [*base, "rollback", "--root", str(root), *target],
        "status --project": [*base, "status", "--root", str(root), *target],
        "history": [*base, "history", "--root", str(root), *target],
        "backups": [*base, "backups", "--root", str(root), *target],
        "lock release": [*base, "lock", "release", "--root", str(root), *target],
        "promote": [*base, "promote", "--root", str(root), "--project", first, "--yes"],
        "status (every tenant)": [*base, "status", "--root", str(root)],
        "--help": [*base, "--help"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", default="3,30,300,3000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    counts = [int(c) for c in args.tenants.split(",")]
    python = sys.executable
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PLATFORM_ROOT", None)
    subprocess.run([python, "-m", "compileall", "-q", str(REPO / "platform_lib")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        plans = {}
        for count in counts:
            root = Path(tmp) / str(count)
            plans[count] = commands(python, root, generate(root, count, closed_port()))
        # Every round runs a command once per count, one after the other, and `python -c
        # pass` between: a machine whose load drifts skews no count against another.
        runs: dict[tuple[int, str], list[tuple[float, int, int]]] = {}
        baseline_runs = []
        for label in plans[counts[0]]:
            for _ in range(args.rounds):
                baseline_runs.append(run([python, "-c", "pass"], env))
                for count in counts:
                    if label == EMPTY_CACHE:
                        shutil.rmtree(Path(tmp) / str(count) / ".state", ignore_errors=True)
                    runs.setdefault((count, label), []).append(run(plans[count][label], env))
    baseline = statistics.median(r[0] for r in baseline_runs)
    base_rss = max(r[1] for r in baseline_runs)
    print(f"python -c pass: {baseline * 1000:.0f} ms, {base_rss / 1024:.1f} MiB")
    print(f"{'tenants':>7}  {'command':<24} {'ms':>8} {'x pass':>7} {'MiB':>7}  exit")
    times = {}
    for count in counts:
        for label in plans[count]:
            done = runs[count, label]
            seconds = times[count, label] = statistics.median(r[0] for r in done)
            rss, code = max(r[1] for r in done), done[-1][2]
            print(
                f"{count:>7}  {label:<24} {seconds * 1000:>8.0f} {seconds / baseline:>7.1f} "
                f"{rss / 1024:>7.1f}  {code}"
            )
    low, high = min(counts), max(counts)
    if low != high:
        print(f"\n{high} tenants as a ratio to {low}:")
        for label in plans[low]:
            print(f"  {label:<24} {times[high, label] / times[low, label]:>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
