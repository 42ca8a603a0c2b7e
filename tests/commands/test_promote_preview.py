"""`promote --preview`: what production would get, against the configs it runs (the commit its
release was made from), from `local` hosts; env keys by name, never their values; no prompt,
no deploy, exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_platform import D1, D2, WEB, LocalPlatform, make_local
from markdown_it import MarkdownIt

from platform_lib.cli import main
from platform_lib.planning.promotion import Deploy, Refuse
from platform_lib.planning.promotion_preview import (
    ImageChange,
    KeyChange,
    TenantPreview,
    key_changes,
    render_markdown,
)


@pytest.fixture
def local(tmp_path: Path) -> LocalPlatform:
    return make_local(tmp_path)


def preview(local: LocalPlatform, capsys: pytest.CaptureFixture[str]) -> TenantPreview:
    code = main(["promote", "--root", str(local.root), "--project", "paiss", "--preview",
                 "--format", "json"])  # fmt: skip
    assert code == 0
    return TenantPreview.model_validate_json(capsys.readouterr().out)


def test_the_preview_diffs_against_the_commit_production_runs(
    local: LocalPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    base = local.commit("what production runs")
    local.release("production", "20260101T000000Z-bbbbbbbb", base, D2)
    env = local.root / "configs/paiss/.env.production"
    env.write_text("PAISS_MODE=a-changed-mode\nWORKERS=4\nNEW_SETTING=another-value\n")
    head = local.commit("paiss: production settings")
    local.release("staging", "20260101T000000Z-aaaaaaaa", head, D1)

    shown = preview(local, capsys)

    assert isinstance(shown.decision, Deploy)
    assert shown.images == (ImageChange(service="web", running=f"{WEB}@{D2}", to=f"{WEB}@{D1}"),)
    assert shown.config_baseline == base
    assert shown.config_files == ("configs/paiss/.env.production",)
    assert shown.env_keys == (KeyChange(key="NEW_SETTING", change="added"),
                              KeyChange(key="PAISS_MODE", change="changed"))  # fmt: skip
    text = shown.model_dump_json() + render_markdown([shown])
    assert "a-changed-mode" not in text and "another-value" not in text
    assert not (
        local.host / "projects/paiss/production/releases/20260101T000000Z-aaaaaaaa"
    ).exists()


def test_a_refusal_is_shown_not_raised(
    local: LocalPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    local.release("staging", "20260101T000000Z-aaaaaaaa", "unknown", D1)
    shown = preview(local, capsys)
    assert isinstance(shown.decision, Refuse)
    assert shown.images == (ImageChange(service="web", running=None, to=None),)
    assert shown.config_baseline is None and shown.running_release is None


def test_key_changes_mark_secrets_and_carry_no_values() -> None:
    changes = key_changes({"A": "1", "B": "2"}, {"B": "3", "C": "4"}, ("OLD",), ("API_KEY",))
    assert changes == (
        KeyChange(key="A", change="removed"),
        KeyChange(key="B", change="changed"),
        KeyChange(key="C", change="added"),
        KeyChange(key="API_KEY", change="added", secret=True),
        KeyChange(key="OLD", change="removed", secret=True),
    )
    assert set(KeyChange.model_fields) == {"key", "change", "secret"}  # no value to leak
    assert key_changes(None, {"A": "1"}, (), ("S",)) == (
        KeyChange(key="A", change="added"), KeyChange(key="S", change="added", secret=True),
    )  # fmt: skip


EVIL = ["configs/paiss/x`y|z\n### forged <img src=x> [link](https://e.example)", "a*b*_c_", "ok"]


def test_a_tenants_file_names_cannot_write_markdown_into_the_preview() -> None:
    """A file name may hold a backtick, a table's `|`, a newline, HTML or a link: read by a
    CommonMark parser (with GitHub's tables), the preview keeps one heading, its table rows,
    and no image, link or HTML but the `<code>` around such names."""
    shown = TenantPreview(
        project="paiss", environment="production", source="staging",
        running_release="20260101T000000Z-bbbbbbbb", running_platform_sha="a" * 40,
        decision=Deploy(images={"web|x": f"{WEB}@{D1}"}, source_release="r"),
        images=(ImageChange(service="web|x", running=f"{WEB}@{D2}", to=f"{WEB}@{D1}"),),
        config_baseline="a" * 40, config_files=tuple(EVIL), env_keys=(),
    )  # fmt: skip
    tokens = MarkdownIt("commonmark").enable("table").parse(render_markdown([shown]))
    assert [t.tag for t in tokens if t.type == "heading_open"] == ["h3"]
    assert sum(t.type == "tr_open" for t in tokens) == 2  # the header and web|x's row
    children = [c for t in tokens if t.type == "inline" for c in t.children or []]
    assert not {c.type for c in children} & {"image", "link_open", "em_open", "strong_open"}
    assert {c.content for c in children if c.type == "html_inline"} <= {"<code>", "</code>"}
    rendered = "".join(c.content for c in children if c.type in ("text", "code_inline"))
    assert all(part in rendered for name in EVIL for part in name.split("\n"))


@pytest.mark.parametrize("made_from", ["unknown", "f" * 40], ids=["not-a-commit", "not-here"])
def test_what_production_runs_without_a_commit_here_is_not_compared(
    local: LocalPlatform, capsys: pytest.CaptureFixture[str], made_from: str
) -> None:
    """Its release was not made from a commit this checkout has: the preview lists every file
    and key as what goes out (all new), and the markdown says they were not compared."""
    head = local.commit("paiss")
    local.release("production", "20260101T000000Z-bbbbbbbb", made_from, D2)
    local.release("staging", "20260101T000000Z-aaaaaaaa", head, D1)

    shown = preview(local, capsys)

    assert (shown.running_release, shown.config_baseline) == ("20260101T000000Z-bbbbbbbb", None)
    assert shown.env_keys and all(k.change == "added" for k in shown.env_keys)
    assert "configs/paiss/.env.production" in shown.config_files
    text = render_markdown([shown])
    assert "not compared" in text
    assert all(f"`{k.key}`" in text for k in shown.env_keys)
