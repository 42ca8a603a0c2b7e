"""The actions' pinned dependencies (actions/*/requirements.lock, `make lock`): every pin has
hashes, the two locks agree on every version they share, the platform's lock covers
pyproject's dependencies, and the app side's lock is enough for what actions/deploy runs
(`github notify` and notify.py import nothing else)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "actions/deploy/requirements.lock"
SETUP = REPO_ROOT / "actions/setup/requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$")


def name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def pins(lock: Path) -> dict[str, str]:
    """name -> version, each with at least one sha256 hash right below it."""
    found: dict[str, str] = {}
    lines = lock.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if match := PIN.match(line):
            assert lines[number + 1].strip().startswith("--hash=sha256:"), f"{lock}:{number + 1}"
            found[name(match[1])] = match[2]
        else:
            assert not line or line.startswith((" ", "#")), f"{lock}:{number + 1}: {line!r}"
    return found


def declared(requirements: list[str]) -> set[str]:
    return {name(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in requirements}


def test_the_locks_pin_with_hashes_and_agree() -> None:
    deploy, setup = pins(DEPLOY), pins(SETUP)
    assert deploy and setup
    assert {n: setup.get(n) for n in deploy} == deploy  # one tested version of each
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert declared(project["project"]["dependencies"]) <= set(setup)
    wanted = (REPO_ROOT / "actions/deploy/requirements.in").read_text(encoding="utf-8")
    lines = [line for line in wanted.splitlines() if line.strip() and not line.startswith("#")]
    assert declared(lines) <= declared(project["project"]["dependencies"])
    assert not {"check-jsonschema", "jsonschema", "sh", "cryptography"} & set(deploy)


def test_the_app_side_lock_is_all_that_notify_imports() -> None:
    """In a child process that refuses to import any installed distribution outside the
    deploy lock: the `github notify` command and notify.py load and parse their arguments."""
    allowed = sorted({*pins(DEPLOY), "platform-lib"})
    script = textwrap.dedent(
        f"""
        import importlib.abc, importlib.metadata, re, runpy, sys
        allowed = {allowed!r}
        owners = importlib.metadata.packages_distributions()
        norm = lambda text: re.sub(r"[-_.]+", "-", text).lower()

        class Refuse(importlib.abc.MetaPathFinder):
            def find_spec(self, fullname, path, target=None):
                top = fullname.partition(".")[0]
                dists = {{norm(d) for d in owners.get(top, [])}}
                if dists and not dists & set(allowed):
                    raise ModuleNotFoundError(f"{{top}} is not in the deploy lock", name=top)
                return None

        sys.meta_path.insert(0, Refuse())
        from platform_lib.cli import build_parser
        build_parser("github").parse_args(["github", "notify", "--project", "shop"])
        sys.path.insert(0, {str(REPO_ROOT / "actions/lib")!r})
        runpy.run_path({str(REPO_ROOT / "actions/deploy/notify.py")!r}, run_name="probe")
        loaded = {{m.partition(".")[0] for m in sys.modules}}
        print(",".join(sorted(loaded & set(owners))))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "pydantic" in done.stdout.split(",")  # the probe did load the command
