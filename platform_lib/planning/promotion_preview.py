"""What a promotion would send out, for a person to approve: per tenant, the digests the target
would get (from what it runs), and which config files and env keys differ from the configs it
runs. Pure: the facts are read by `commands/promote`. Env values are never shown (names only:
a value in an env file can be a credential someone committed by mistake, and a tenant's
`secrets:` have no value here at all)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from pydantic import Field

from platform_lib.models.base import Model
from platform_lib.models.names import COMMIT_PATTERN
from platform_lib.planning.promotion import Deploy, Refuse, Skip, digest_of


class ImageChange(Model):
    service: str
    running: str | None
    """`repository@sha256:...` the target runs now; None: not running."""
    to: str | None
    """What it would get; None when the decision deploys nothing."""

    @property
    def changes(self) -> bool:
        return digest_of(self.running or "") != digest_of(self.to or "")


class KeyChange(Model):
    key: str
    change: Literal["added", "removed", "changed"]
    secret: bool = False
    """A tenant secret (`secrets:` of project.yml): its value is never in the repository."""


class TenantPreview(Model):
    """`promote --preview --format json`: one tenant's promotion."""

    version: Literal[1] = 1
    project: str
    environment: str
    source: str
    running_release: str | None
    running_platform_sha: str | None
    """The commit the target's current release was made from; None: it runs nothing."""
    decision: Deploy | Refuse | Skip = Field(discriminator="decision")
    images: tuple[ImageChange, ...]
    config_baseline: str | None
    """The commit the config diff is against. None: no baseline, every file and key counts
    as new: nothing runs, or (`running_release` set) what runs was not made from a commit this
    checkout has, and the files and keys are what goes out, not compared."""
    config_files: tuple[str, ...]
    """The tenant's files (and shared files) that differ from the baseline."""
    env_keys: tuple[KeyChange, ...]


def key_changes(
    before: Mapping[str, str] | None, after: Mapping[str, str], secrets_before: tuple[str, ...],
    secrets_after: tuple[str, ...],
) -> tuple[KeyChange, ...]:  # fmt: skip
    """Env keys and secrets that differ; `before` None: everything is added."""
    old = dict(before or {})
    changes = [
        KeyChange(
            key=key,
            change="added" if key not in old else "removed" if key not in after else "changed",
        )
        for key in sorted(old.keys() | after.keys())
        if old.get(key) != after.get(key)
    ]
    prior = set(secrets_before) if before is not None else set()
    changes += [
        KeyChange(key=n, change="added", secret=True) for n in sorted(set(secrets_after) - prior)
    ]
    changes += [
        KeyChange(key=n, change="removed", secret=True) for n in sorted(prior - set(secrets_after))
    ]
    return tuple(changes)


def image_changes(built: tuple[str, ...], running: Mapping[str, str],
                  decision: Deploy | Refuse | Skip) -> tuple[ImageChange, ...]:  # fmt: skip
    images = decision.images if isinstance(decision, Deploy) else {}
    return tuple(
        ImageChange(service=s, running=running.get(s), to=images.get(s)) for s in sorted(built)
    )


_PLAIN = re.compile(r"[A-Za-z0-9_.\-/@:+=,~%^]+(?: [A-Za-z0-9_.\-/@:+=,~%^]+)*")
_COMMIT = re.compile(COMMIT_PATTERN)


def code(text: str) -> str:
    """`text` as inline code no character of it can break out of: a code span when it holds
    only plain characters, else HTML `<code>` with every other character an entity (a
    backtick, a table's `|`, `<`, a newline: a tenant's file name may hold any of them)."""
    if _PLAIN.fullmatch(text):
        return f"`{text}`"
    escaped = "".join(c if c.isascii() and c.isalnum() else f"&#{ord(c)};" for c in text)
    return f"<code>{escaped}</code>"


def _short(ref: str | None) -> str:
    if not ref:
        return "(none)"
    return code(digest_of(ref) or ref)


def render_markdown(previews: list[TenantPreview]) -> str:
    """The preview as a job summary / prompt shows it; every name in it through `code`."""
    out: list[str] = []
    for p in previews:
        out.append(f"### {code(p.project)}: {p.source} → {p.environment}")
        out.append("")
        running = code(p.running_release) if p.running_release else "nothing yet"
        if isinstance(p.decision, Deploy):
            source = code(p.decision.source_release or "(none)")
            out.append(f"{p.environment} runs {running}; it would get the digests "
                       f"{p.source} release {source} verified.")  # fmt: skip
        elif isinstance(p.decision, Skip):
            out.append(f"Nothing to deploy: {p.decision.reason}.")
        else:
            out.append(f"**Refused**: {p.decision.reason} ({p.decision.remedy}).")
        out += ["", "| service | from | to |", "|---|---|---|"]
        for image in p.images:
            to = _short(image.to) if image.changes else "unchanged"
            out.append(f"| {code(image.service)} | {_short(image.running)} | {to} |")
        if p.config_baseline is None and p.running_release is not None:
            made = p.running_platform_sha or ""
            why = (f"made from {code(made[:12])}, which this checkout does not have"
                   if _COMMIT.fullmatch(made)
                   else "not made from a commit of this repository")  # fmt: skip
            out += ["", f"Config and env keys: not compared ({p.environment}'s release was "
                    f"{why}); what goes out:"]  # fmt: skip
            out += ["", "Config: " + (", ".join(code(f) for f in p.config_files) or "none")]
            keys = [f"{code(k.key)}{' (secret)' if k.secret else ''}" for k in p.env_keys]
            out += ["", f"Env keys: {', '.join(keys) or 'none'}", ""]
            continue
        base = code(p.config_baseline[:12]) if p.config_baseline else "nothing (all new)"
        out += ["", f"Config against {base}: "
                + (", ".join(code(f) for f in p.config_files) or "unchanged")]  # fmt: skip
        keys = [f"{code(k.key)}{' (secret)' if k.secret else ''} {k.change}" for k in p.env_keys]
        out += ["", f"Env keys: {', '.join(keys) or 'unchanged'}", ""]
    return "\n".join(out).rstrip("\n") + "\n"
