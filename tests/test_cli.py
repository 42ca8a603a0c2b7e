"""The command line's lazy dispatch: each command is found in the module the table names."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from platform_lib.cli import COMMAND_MODULES, COMMANDS, build_parser


def registered(module_name: str) -> set[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(f"platform_lib.commands.{module_name}").register(sub)
    return set(sub.choices)


@pytest.mark.parametrize("module_name", sorted(set(COMMAND_MODULES.values())))
def test_table_names_exactly_what_each_module_registers(module_name: str) -> None:
    expected = {c for c, m in COMMAND_MODULES.items() if m == module_name}
    assert registered(module_name) == expected


@pytest.mark.parametrize("module_name", sorted(set(COMMAND_MODULES.values())))
def test_table_has_the_help_line_each_module_registers(module_name: str) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(f"platform_lib.commands.{module_name}").register(sub)
    lines = {action.dest: action.help for action in sub._choices_actions}
    assert lines == {c: line for c, (m, line) in COMMANDS.items() if m == module_name}


def test_help_imports_no_command() -> None:
    """`--help` (and a mistyped command) list the commands from the table: no command module,
    so none of pydantic, jsonschema, requests or YAML."""
    probe = (
        "import sys\n"
        "from platform_lib.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('platform_lib.commands.', 'platform_lib.config', 'requests', 'pydantic', "
        "'jsonschema', 'yaml')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stderr.strip() == "[]"
    for name, (_, line) in COMMANDS.items():
        assert name in done.stdout and line in done.stdout, name


def test_help_lists_every_command_in_table_order() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == list(COMMAND_MODULES)


def test_deploy_starts_without_the_heavy_imports() -> None:
    """A deploy opens its SSH connection before importing pydantic, jsonschema or the GitHub
    client, so the connection's key exchange overlaps their import and the validation."""
    probe = (
        "import sys\n"
        "from platform_lib.cli import build_parser\n"
        "build_parser('deploy')\n"
        "heavy = ('platform_lib.github', 'requests', 'pydantic', 'jsonschema', "
        "'platform_lib.config.loader')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_unknown_command_is_a_usage_error_listing_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "platform_lib", "deplyo"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "invalid choice: 'deplyo'" in done.stderr
    assert all(command in done.stderr for command in COMMAND_MODULES)
