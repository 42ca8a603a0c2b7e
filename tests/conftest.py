from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


# Fixtures that start or use the machine's one shared server stack (tests/e2e/infra).
SERVER_FIXTURES = frozenset({"servers"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` runs the `e2e` tests in one process and the rest in another, side by side:
    a test that uses the shared servers without the marker would run in both at once."""
    unmarked = [
        item.nodeid
        for item in items
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("e2e") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests use the shared servers but lack `pytestmark = pytest.mark.e2e`: "
            + ", ".join(unmarked)
        )
