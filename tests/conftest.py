from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


# Tests that share one resource run in one xdist worker, one after the other (`--dist
# loadgroup`): the local server stack's tenants, act's runner, pre-commit's cache.
GROUPS = {"e2e": "local-servers", "workflows": "act", "test_precommit.py": "pre-commit"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.relative_to(REPO_ROOT / "tests").parts
        group = GROUPS.get(parts[0])
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
