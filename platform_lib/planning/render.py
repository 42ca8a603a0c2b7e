"""Render a plan as one bash script: the only place argv becomes shell text."""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Iterable
from functools import cache
from importlib import resources

from platform_lib.models.plan import Plan, Step

HEREDOC_END = "PLATFORM_BASE64_END"  # '_' is not in the base64 alphabet: cannot occur in data
START = "trap platform_on_exit EXIT\nplatform_progress_start\n"
"""After the variables: the EXIT trap that sends the outcome, then progress to the host's log
as well as the client, whatever becomes of the client (runtime progress)."""
FINISH = "platform_outcome deployed"
"""The last line of a plan's script: it exits, and the EXIT trap sends the outcome record."""


RUNTIME_FILES = (
    "core", "json", "progress", "step", "history", "outcome", "lock", "release", "registry",
    "health", "switch", "proxy", "canary_weights", "canary_judging", "canary_requests",
    "canary_lifecycle", "policy", "facts", "backup",
)  # fmt: skip
"""The host runtime, one file per noun in `planning/runtime/`, in the order scripts hold them."""

_DEFINITION = re.compile(r"^(platform_[a-z0-9_]+)\(\)", re.MULTILINE)
_NAME = re.compile(r"\bplatform_[a-z0-9_]+\b")
_COMMENT = re.compile(r"(^|\s)#.*$", re.MULTILINE)


@cache
def runtime_file(noun: str) -> str:
    folder = resources.files("platform_lib.planning") / "runtime"
    return (folder / f"{noun}.sh").read_text(encoding="utf-8")


@cache
def runtime() -> str:
    """The whole runtime: what a plan's script inlines."""
    return "".join(runtime_file(noun) for noun in RUNTIME_FILES)


@cache
def runtime_functions() -> dict[str, tuple[str, frozenset[str]]]:
    """Every function the runtime defines -> (the noun whose file defines it, the runtime
    functions its body names, comments aside)."""
    functions: dict[str, tuple[str, str]] = {}
    for noun in RUNTIME_FILES:
        text = runtime_file(noun)
        starts = list(_DEFINITION.finditer(text))
        for match, after in zip(starts, [*starts[1:], None], strict=True):
            body = text[match.end() : after.start() if after else len(text)]
            functions[match.group(1)] = (noun, _COMMENT.sub("", body))
    return {
        name: (noun, frozenset(n for n in _NAME.findall(body) if n in functions and n != name))
        for name, (noun, body) in functions.items()
    }


def runtime_for(functions: Iterable[str]) -> str:
    """The runtime files defining those functions and every runtime function they call,
    transitively: what an operation's script inlines."""
    defined = runtime_functions()
    needed: set[str] = set()
    todo = [name for name in functions if name in defined]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += defined[name][1]
    nouns = {defined[name][0] for name in needed}
    return "".join(runtime_file(noun) for noun in RUNTIME_FILES if noun in nouns)


def quote(argv: tuple[str, ...]) -> str:
    return shlex.join(argv)


def render_step(step: Step, plan: Plan, indent: str = "") -> str:
    head = quote(
        ("platform_step", step.id, step.title, str(step.timeout), step.on_failure, "--", *step.argv)
    )
    if step.stdin_file is None:
        # bash reads this script from stdin: no step may read (and swallow) the rest of it.
        return f"{indent}{head} </dev/null\n"
    content = next(f.content for f in plan.files if f.path == step.stdin_file)
    encoded = base64.encodebytes(content.encode("utf-8")).decode("ascii")
    return f"{indent}{head} <<'{HEREDOC_END}'\n{encoded}{HEREDOC_END}\n"


def render_script(plan: Plan) -> str:
    variables = {
        "PLATFORM_PLAN_ID": plan.id,
        "PLATFORM_KIND": plan.kind,
        "PLATFORM_RELEASE": plan.release,
        "PLATFORM_ACTOR": plan.actor,
        # A deploy outside its windows: the reason goes into every history event it writes.
        "PLATFORM_WINDOW_OVERRIDE": plan.window_override.reason if plan.window_override else "",
        "PLATFORM_BASE": plan.base_dir,
        "PLATFORM_COMPOSE_PROJECT": plan.compose_project,
        "PLATFORM_STEP_NO": "0",
        "PLATFORM_STEP_COUNT": str(len(plan.steps)),
        "PLATFORM_STEP_LABEL": "",
        "PLATFORM_ROLLBACK_COUNT": str(len(plan.rollback)),
        "PLATFORM_LOCK_HELD": "",
        "PLATFORM_DOCKER_CONFIG": "",
        "PLATFORM_RELAY_PID": "",
    }
    secrets = ", ".join((*plan.secrets, *plan.credentials)) or "none"
    parts = [
        "#!/usr/bin/env bash\n",
        f"# Deploy plan {plan.id}\n",
        f"# {plan.project}/{plan.environment}, release {plan.release}, host {plan.host.name}\n",
        f"# Secrets read from the environment at apply time: {secrets}\n",
        "set -euo pipefail\n",
        "umask 077\n",  # tenant data is the deploy user's alone (nginx's files: see runtime)
        runtime(),
        "".join(f"{name}={shlex.quote(value)}\n" for name, value in variables.items()),
        START,
        "platform_rollback_plan() {\n",
        "".join(render_step(s, plan, "  ") for s in plan.rollback) or "  :\n",
        "}\n",
        "".join(render_step(s, plan) for s in plan.steps),
        # Only a script that ran to its end deployed (a truncated one never gets here).
        f"{FINISH}\n",
    ]
    return "".join(parts)


def render_operation(argv: tuple[str, ...], variables: dict[str, str]) -> str:
    """A one-command script (facts, status, history, lock recovery) over the runtime files it
    uses, and only those."""
    return "".join(
        [
            "set -euo pipefail\n",
            "umask 077\n",
            runtime_for([argv[0]]),
            "".join(f"{name}={shlex.quote(value)}\n" for name, value in sorted(variables.items())),
            quote(argv) + " </dev/null\n",
        ]
    )
