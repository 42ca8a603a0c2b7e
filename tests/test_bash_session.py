"""BashSession: scripts fed one after another to one bash, each isolated in a subshell."""

from __future__ import annotations

import os
import signal
import time

from platform_lib.transport.base import PENDING_LINES, BashSession


def test_scripts_share_the_shell_but_not_their_state() -> None:
    session = BashSession(["bash", "-s"])
    try:
        lines: list[str] = []
        first = session.run(
            "set -eu\nexport TOKEN=s3cret\necho one; echo two >&2\nexit 3", lines.append
        )
        assert (first.exit_code, first.stdout, lines) == (3, "one\n", ["two"])
        # The exit, the export and `set -e` ended with the first script's subshell.
        second = session.run('printf "%s" "${TOKEN:-unset}"; false; echo $$', lambda _l: None)
        assert second.exit_code == 0
        assert second.stdout.startswith("unset") and second.stdout.endswith("\n")
        third = session.run("printf 'no newline'", lambda _l: None)
        assert (third.exit_code, third.stdout) == (0, "no newline")
        assert session.run(":", lambda _l: None).stdout == ""
    finally:
        session.close()


def test_progress_lines_arrive_before_the_script_ends() -> None:
    session = BashSession(["bash", "-s"])
    seen: list[str] = []
    try:
        # The script blocks until its first stderr line has been passed on.
        fifo_dir = os.path.realpath(os.environ.get("TMPDIR", "/tmp"))
        fifo = os.path.join(fifo_dir, f"session-test-{os.getpid()}")
        os.mkfifo(fifo)

        def on_line(line: str) -> None:
            seen.append(line)
            if line == "started":
                with open(fifo, "w") as f:
                    f.write("go\n")

        result = session.run(f'echo started >&2\nread -r word <{fifo}\necho "$word"', on_line)
        assert (result.exit_code, result.stdout, seen) == (0, "go\n", ["started"])
    finally:
        session.close()
        os.unlink(fifo)


def test_a_session_that_dies_reports_its_own_exit_status() -> None:
    session = BashSession(["bash", "-s"])
    result = session.run("kill -KILL $$", lambda _l: None)
    assert result.exit_code == -signal.SIGKILL
    assert session.ended


def test_a_session_gone_before_its_first_script_does_not_hang() -> None:
    """ssh refused at once (`Connection refused`): the process and its stderr are through
    before the first script is sent; run returns its exit status, it does not wait for a
    progress marker nobody will write."""
    session = BashSession(["bash", "-c", "echo 'connect: Connection refused' >&2; exit 255"])
    session._readers[1].join(timeout=10)  # stderr read to its end
    assert not session._readers[1].is_alive()
    seen: list[str] = []
    result = session.run(":", seen.append)
    assert (result.exit_code, session.ended) == (255, True)


def test_lines_before_the_first_script_reach_it_and_a_session_that_never_started_ends() -> None:
    """ssh started early (SshTransport.open_in_background) that fails before the first script
    (a refused host key): its lines and exit status reach that script's caller, no hang."""
    session = BashSession(["bash", "-c", "echo 'Host key verification failed.' >&2; exit 255"])
    lines: list[str] = []
    result = session.run("echo never", lines.append)
    assert (result.exit_code, result.stdout, lines) == (255, "", ["Host key verification failed."])
    assert session.ended


def test_lines_that_arrive_before_a_script_go_to_it_in_order() -> None:
    session = BashSession(["bash", "-c", "echo early >&2; exec bash -s"])
    try:
        first: list[str] = []
        assert session.run("echo during >&2", first.append).exit_code == 0
        assert first == ["early", "during"]
        second: list[str] = []
        session.run("echo later >&2", second.append)
        assert second == ["later"]
    finally:
        session.close()


def test_a_host_chattering_before_the_first_script_is_kept_to_its_last_lines() -> None:
    """A login script that writes 20,000 stderr lines before bash reads its first script:
    the first run passes on only the last PENDING_LINES of them, then its own."""
    session = BashSession(
        ["bash", "-c", 'for i in $(seq 1 20000); do echo "banner $i" >&2; done; exec bash -s']
    )
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and list(session._pending)[-1:] != ["banner 20000"]:
            time.sleep(0.01)  # until the whole banner is read, while no script runs
        result = session.run("echo mine >&2", seen.append)
        assert result.exit_code == 0
        assert seen[-1] == "mine"
        banner = seen[:-1]
        assert len(banner) <= PENDING_LINES
        assert banner[-1] == "banner 20000"
    finally:
        session.close()
