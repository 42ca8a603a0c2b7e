"""run_program (platform_lib/processes.py): a local program's exit status and output as data;
one that cannot start or does not finish is one PlatformError, never a traceback or a hang."""

from __future__ import annotations

import sys

import pytest

from platform_lib.errors import PlatformError
from platform_lib.processes import ProgramFailed, run_program


def test_the_exit_status_and_both_outputs_come_back_and_stdin_is_empty() -> None:
    code = (
        "import sys; data = sys.stdin.read(); print(repr(data)); "
        "print('é', file=sys.stderr); sys.exit(3)"
    )
    done = run_program([sys.executable, "-c", code], env={"PYTHONIOENCODING": "utf-8"})
    assert (done.exit_code, done.stdout, done.stderr) == (3, "''\n", "é\n")


def test_the_argv_is_not_parsed_by_a_shell() -> None:
    done = run_program([sys.executable, "-c", "import sys; print(sys.argv[1])", "$(id); x"])
    assert done.stdout == "$(id); x\n"


def test_a_missing_program_is_one_error() -> None:
    with pytest.raises(ProgramFailed, match="cannot run no-such-program-here") as raised:
        run_program(["no-such-program-here", "--version"])
    assert isinstance(raised.value, PlatformError)


def test_a_program_past_its_time_is_stopped_and_one_error() -> None:
    with pytest.raises(ProgramFailed, match=r"did not finish within 0\.2s"):
        run_program([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.2)
