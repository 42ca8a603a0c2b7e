"""tests/e2e/tenant_claims.py: a tenant name held by another process is waited for, and had
once that process lets it go (or exits)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from e2e import tenant_claims

HOLDER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from e2e import tenant_claims
tenant_claims.claim(Path({state!r}), "shop")
print("held", flush=True)
time.sleep({hold})
tenant_claims.release("shop")
time.sleep(30)
"""


def test_a_name_another_process_holds_is_waited_for(tmp_path: Path) -> None:
    tests = str(Path(__file__).parent)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(tests=tests, state=str(tmp_path), hold=1.5)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        started = time.monotonic()
        tenant_claims.claim(tmp_path, "shop")
        waited = time.monotonic() - started
        tenant_claims.claim(tmp_path, "blog")  # another name: had at once
        assert time.monotonic() - started - waited < 1
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
        tenant_claims.release("shop")
        tenant_claims.release("blog")
    assert 0.8 < waited < 10
