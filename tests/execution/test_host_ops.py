"""The one path of host operations (execution/host_ops.py) and the read-only ones by name
(execution/host_state.py), over the recording transport: what is sent (an operation's script
over only the runtime it uses, no secrets), and the typed answer or a PlatformError naming
the operation or the base."""

from __future__ import annotations

import json

import pytest

from platform_lib.errors import PlatformError
from platform_lib.execution.host_ops import run_host_op
from platform_lib.execution.host_state import read_backups, read_history, read_state
from platform_lib.models.records import HistoryEvent
from platform_lib.models.settings import Proxy
from platform_lib.planning import host_ops
from platform_lib.planning.render import runtime_file
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordingTransport

BASE = "/srv/platform/projects/shop/staging"
PROXY = Proxy(dir="/etc/nginx/platform", nginx_conf="/etc/nginx/nginx.conf",
              pid_file="/run/nginx.pid", certificates="/c", acme_webroot="/a")  # fmt: skip


def answered(code: int, stdout: str, lines: tuple[str, ...] = ()) -> RecordingTransport:
    return RecordingTransport([(RunResult(code, stdout), lines)])


def test_an_operation_is_sent_once_without_secrets_and_its_lines_are_passed_on() -> None:
    transport = answered(0, '{"version": 1, "current_release": "r2"}', ("reading",))
    seen: list[str] = []
    state = run_host_op(transport, host_ops.facts(BASE, "shop-staging"), seen.append)
    assert state.current_release == "r2"
    assert seen == ["reading"]
    [sent] = transport.runs
    assert (sent.operation, sent.secret_names) == (("platform_facts", BASE, "shop-staging"), ())
    assert runtime_file("facts") in sent.script and runtime_file("switch") not in sent.script


def test_facts_of_a_base_alone_carry_no_compose_project_or_proxy() -> None:
    assert host_ops.facts(BASE).argv == ("platform_facts", BASE)
    assert host_ops.facts(BASE, None, "/p").argv == ("platform_facts", BASE)
    assert host_ops.facts(BASE, "shop-staging", "/p").argv[2:] == ("shop-staging", "/p")


@pytest.mark.parametrize(
    ("code", "stdout", "message"),
    [(0, "not json", f"the host's state under {BASE} is unreadable"),
     (0, '{"version": 1, "lock": {"pid": "x"}}', f"the host's state under {BASE} is unreadable"),
     (7, '{"version": 1}', "platform_facts failed on the host (exit 7)")],
    ids=["not-json", "bad-field", "failed"],
)  # fmt: skip
def test_a_failed_or_unreadable_answer_is_one_error(code: int, stdout: str, message: str) -> None:
    with pytest.raises(PlatformError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_state(answered(code, stdout), BASE, lambda _line: None)


def test_history_is_typed_and_a_damaged_line_is_a_warning_with_its_line_number() -> None:
    good = {"version": 1, "at": "t", "event": "rollback", "outcome": "deployed",
            "release": "r1", "from_release": "r2"}  # fmt: skip
    warnings: list[str] = []
    transport = answered(0, f"{json.dumps(good)}\n\n{{\n")
    events = read_history(transport, BASE, warnings.append)
    assert events == [HistoryEvent.model_validate(good)]
    assert len(warnings) == 1 and f"{BASE}/history.jsonl:3" in warnings[0]
    assert transport.runs[0].operation == ("platform_history", BASE)


def test_backups_are_typed_entries_or_one_error() -> None:
    line = {"version": 1, "backup": "r1/data.tar.gz", "bytes": 3, "record": None}
    [entry] = read_backups(answered(0, json.dumps(line) + "\n"), BASE, lambda _line: None)
    assert (entry.backup, entry.bytes, entry.record) == ("r1/data.tar.gz", 3, None)
    with pytest.raises(PlatformError, match=f"the backups under {BASE} are unreadable"):
        read_backups(answered(0, '{"backup": 1}\n'), BASE, lambda _line: None)


def test_a_prune_answers_the_projects_it_took_out() -> None:
    operation = host_ops.proxy_prune(PROXY, ["a-staging"], dry_run=False)
    assert run_host_op(answered(0, "b-staging\nc-staging\n"), operation, print) == [
        "b-staging", "c-staging",
    ]  # fmt: skip
    with pytest.raises(PlatformError, match="platform_proxy_prune failed"):
        run_host_op(answered(1, ""), operation, print)


def test_a_health_check_answers_its_result_whatever_its_exit() -> None:
    operation = host_ops.proxy_health(PROXY, "shop-staging", 5)
    failed = run_host_op(answered(1, "FAIL https://shop 502\nok   https://b 200"), operation, print)
    assert (failed.ok, failed.lines) == (False, ("FAIL https://shop 502", "ok   https://b 200"))
    assert run_host_op(answered(0, ""), operation, print).ok


def test_an_actor_reaches_the_script_as_its_variable_and_only_there() -> None:
    transport = answered(0, "")
    run_host_op(transport, host_ops.lock_break(BASE, "o'brien"), print)
    script = transport.runs[0].script
    assert "PLATFORM_ACTOR='o'\"'\"'brien'\n" in script
    assert transport.runs[0].operation == ("platform_lock_break", BASE)


def test_an_argument_is_quoted_not_interpreted() -> None:
    transport = answered(0, "")
    hostile = "/srv/x; touch /tmp/owned $(id)"
    run_host_op(transport, host_ops.history(hostile), print)
    assert transport.runs[0].operation == ("platform_history", hostile)
    assert "'/srv/x; touch /tmp/owned $(id)' </dev/null" in transport.runs[0].script
