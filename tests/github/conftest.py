from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from github import openapi
from github.canned import SETTINGS, TOKEN
from github.fake_github import FakeGitHub
from github.harness import Cli, Result

from platform_lib.cli import main


@pytest.fixture(scope="session")
def spec() -> openapi.Spec:
    return openapi.load()


@pytest.fixture
def github(spec: openapi.Spec, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """The fake GitHub, with the environment pointing the client at it."""
    fake = FakeGitHub(spec, TOKEN).start()
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("PLATFORM_GITHUB_MAX_WAIT", "5")
    for name in (
        "GITHUB_TOKEN",
        "GITHUB_REPOSITORY",
        "GITHUB_SHA",
        "GITHUB_ACTOR",
        "PLATFORM_ROOT",
    ):
        monkeypatch.delenv(name, raising=False)
    yield fake
    fake.stop()
    assert not fake.problems, "requests GitHub would not accept:\n" + "\n".join(fake.problems)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A platform repository holding only configs/platform.yml."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "platform.yml").write_text(SETTINGS, encoding="utf-8")
    return tmp_path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], root: Path) -> Iterator[Cli]:
    """Run `python -m platform_lib github ...` in-process against the root; the token must
    appear in no output."""

    def run(*argv: str) -> Result:
        code = main(["github", argv[0], "--root", str(root), *argv[1:]])
        captured = capsys.readouterr()
        assert TOKEN not in captured.out + captured.err
        assert "Traceback" not in captured.err
        return Result(code, captured.out, captured.err)

    yield run
