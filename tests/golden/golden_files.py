"""Compare text with a golden file; `UPDATE_GOLDEN=1 pytest ...` rewrites the goldens instead.

Review golden diffs like code: `git diff tests/` after regenerating shows exactly what changed.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def assert_golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run UPDATE_GOLDEN=1 pytest {path.parent} and review it")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"{path} (golden)",
            tofile="actual",
            n=2,
        )
        pytest.fail(
            "output differs from the golden file (UPDATE_GOLDEN=1 to accept):\n" + "".join(diff),
            pytrace=False,
        )
