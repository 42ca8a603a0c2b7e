"""actions/lib/gha.py: output from elsewhere (a host's deploy log, a tenant's container logs)
reaches the workflow log between `::stop-commands::<token>` and `::<token>::`, so lines in it
that look like workflow commands stay text; the token is fresh, unguessable and never part
of that text."""

from __future__ import annotations

import importlib.util
import io
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from workflows import actrun

FORGED = [
    "::add-mask::the-word-deployed",
    "::error file=configs/shop/project.yml,line=1::forged annotation",
    "::stop-commands::guess",
    "::guess::",
    "::set-output name=url::https://evil.example",
    "::endgroup::",
]
STOP = re.compile(r"^::stop-commands::(?P<token>[0-9a-f]{32})$")


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pydantic look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gha() -> Iterator[ModuleType]:
    sys.path.insert(0, str(actrun.REPO_ROOT / "actions/lib"))
    yield load("gha", actrun.REPO_ROOT / "actions/lib/gha.py")


def printer(lines: list[str]) -> list[str]:
    """A child process that prints `lines` (as a tenant's container would, in its log)."""
    return [sys.executable, "-c", "import sys; sys.stdout.write(sys.argv[1])", "\n".join(lines)]


def paused(log: list[str]) -> tuple[str, list[str]]:
    """The token and the text of a log that is exactly one stop ... resume stretch."""
    first, *text, last = log
    match = STOP.match(first)
    assert match is not None, first
    assert last == f"::{match['token']}::"
    return match["token"], text


def test_a_deploy_log_with_workflow_commands_is_written_with_commands_stopped(
    gha: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    code, kept = gha.stream(printer(FORGED))
    log = capsys.readouterr().out.splitlines()
    token, text = paused(log)
    assert text == FORGED and kept == FORGED and code == 0
    assert not any(token in line for line in text)


def test_every_stretch_has_a_fresh_token(
    gha: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = set()
    for _ in range(5):
        gha.stream(printer(["::error::again"]))
        tokens.add(paused(capsys.readouterr().out.splitlines())[0])
    assert len(tokens) == 5  # 128 random bits each (STOP), never reused


def test_text_holding_the_token_never_ends_the_pause(gha: ModuleType) -> None:
    out = io.StringIO()
    picks = iter(["a" * 32, "b" * 32, "b" * 32, "c" * 32])
    with gha.RemoteOutput(out, token=lambda: next(picks)) as remote:
        remote.write("before\n")
        remote.write(f"::{'a' * 32}::\n")  # the token in force, and then the next pick too
        remote.write(f"{'b' * 32}\n")
    log = out.getvalue().splitlines()
    assert log == [
        f"::stop-commands::{'a' * 32}",
        "before",
        f"::{'a' * 32}::",
        f"::stop-commands::{'b' * 32}",  # the pick 'b' did not occur in that line
        f"::{'a' * 32}::",
        f"::{'b' * 32}::",
        f"::stop-commands::{'c' * 32}",  # 'b' occurs in this one: skipped, twice
        "b" * 32,
        f"::{'c' * 32}::",
    ]
    # whatever the text, each line of it is written while a token it does not hold is in force
    in_force = ""
    for line in log:
        if match := re.fullmatch(r"::stop-commands::(\w+)", line):
            in_force = match[1]
        elif line == f"::{in_force}::":
            in_force = ""
        else:
            assert in_force and in_force not in line


def test_actions_apply_streams_the_deploy_with_commands_stopped(
    gha: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apply = load("platform_apply_stream", actrun.REPO_ROOT / "actions/apply/apply.py")
    inputs = apply.Inputs(root=tmp_path, project="shop", environment="staging", images="",
                          expected="", key_file="", actor="", outside_window="")  # fmt: skip
    # no plan file here: it fails
    code, tail = apply.deploy(inputs, tmp_path / "plan.json", apply.child_env(os.environ))
    _, text = paused(capsys.readouterr().out.splitlines())
    assert code != 0 and text and tail == "\n".join(text)


def test_a_child_writing_straight_to_the_log_runs_with_commands_stopped(
    gha: ModuleType, capfd: pytest.CaptureFixture[str]
) -> None:
    done = gha.platform(["--version"], stream=True)
    token, _ = paused(capfd.readouterr().out.splitlines())
    assert done.returncode == 0 and token not in done.stdout


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["`", "```", "````", "~~~", "</details>", "<b>x</b>", " ", "\n",
                                 "# h", "ok", "    ```"]), max_size=12).map("".join))  # fmt: skip
def test_tenant_output_stays_in_its_code_block(gha: ModuleType, text: str) -> None:
    """However many backticks a container prints, a CommonMark parser reads the deploy log's
    block of the job summary as one code block holding exactly that text."""
    tokens = MarkdownIt("commonmark").parse(gha.code_block(text))
    assert [t.type for t in tokens] == ["fence"]
    assert tokens[0].content == text.rstrip() + "\n"
