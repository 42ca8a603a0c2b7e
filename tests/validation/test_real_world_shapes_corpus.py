"""Compose files shaped like those of large public projects (tests/corpus/real-world-shapes,
written for this repository: see tests/corpus/README.md) against the validator: YAML merge
keys with overrides, lists of merges, anchors of whole services, long syntaxes, profiles,
configs and secrets. Each parses (no merge-key false positive) and passes the Compose
Specification schema layer; as a tenant compose file it breaks only the platform's own
policies (compose.* and the tenant security policy, policy.*), each finding listed in
real-world-shapes.expected.txt.

`UPDATE_GOLDEN=1 pytest tests/validation` rewrites the golden file from what the validator
reports now: check every changed line against the compose file before keeping it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from platform_lib.config.compose_policy import compose_policy_problems
from platform_lib.config.compose_schema import compose_schema_problems
from platform_lib.config.tenant_policy import RULES, policy_findings
from platform_lib.config.yaml_source import YamlDocument, YamlSyntaxError, parse_yaml
from platform_lib.errors import Problem

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1] / "tests" / "corpus" / "real-world-shapes"
GOLDEN = HERE / "real-world-shapes.expected.txt"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
EXPECTED_FILES = 14
COMPOSE_RULES = frozenset(
    {
        "compose.container-name",
        "compose.build",
        "compose.mutable-image",
        "compose.port-collision",
        "compose.missing-image",
        "compose.invalid-image",
    }
)
FILES = sorted(p for p in CORPUS.glob("*.yaml") if p.is_file())
PARAMS = [pytest.param(p, id=p.name) for p in FILES] or [pytest.param(None, id="corpus-missing")]
MERGING = [p for p in FILES if "\n    <<: " in p.read_text(encoding="utf-8")]
"""The files with a service that merges a block (`<<:` right under the service)."""


def load(path: Path | None) -> YamlDocument:
    if path is None:
        pytest.fail(f"the corpus is missing: expected {EXPECTED_FILES} files in {CORPUS}")
    return parse_yaml(path.read_text(encoding="utf-8"), path.name)


def findings(doc: YamlDocument) -> list[Problem]:
    """The compose policy's problems and the tenant policy's findings (no env file, no
    grants), each at its place in the file."""
    problems = compose_policy_problems(doc, built=set())
    for found in policy_findings(doc.data, {}, frozenset()):
        problems.append(Problem(doc.locate(found.path), found.rule, found.message, found.hint))
    return sorted(problems)


def test_the_corpus_is_there() -> None:
    assert len(FILES) == EXPECTED_FILES, [p.name for p in FILES]
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert all(f"`{p.name}`" in readme for p in FILES)


@pytest.mark.parametrize("path", PARAMS)
def test_passes_the_compose_schema(path: Path | None) -> None:
    doc = load(path)
    assert isinstance(doc.data, dict) and isinstance(doc.data.get("services"), dict)
    assert compose_schema_problems(doc) == []


@pytest.mark.parametrize("path", PARAMS)
def test_breaks_only_the_platform_policies(path: Path | None) -> None:
    doc = load(path)
    for problem in findings(doc):
        assert problem.rule in COMPOSE_RULES or problem.rule in RULES, problem
        assert problem.location.file == doc.file
        assert problem.location.line is not None and problem.location.column is not None
        assert problem.message and problem.hint, problem


def test_most_files_merge_blocks_into_services() -> None:
    assert len(MERGING) >= 8


@pytest.mark.parametrize("path", MERGING, ids=lambda p: p.name)
def test_a_key_written_twice_beside_a_merge_is_still_a_duplicate(path: Path) -> None:
    """The first service that merges a block gets one of its written keys a second time:
    yaml.duplicate-key at the second, naming the first's line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("    <<: "))
    key = next(
        line.strip() for line in lines[at + 1 :] if line.startswith("    ") and line[4] != " "
    )
    lines.insert(at + 1, f"    {key.split(':', 1)[0]}: again")
    with pytest.raises(YamlSyntaxError) as raised:
        parse_yaml("\n".join(lines) + "\n", "twice.yaml")
    problem = raised.value.problem
    assert problem.rule == "yaml.duplicate-key"
    assert problem.location.line is not None and problem.location.line > at + 2
    assert f"(first defined on line {at + 2})" in problem.message


def test_every_finding_matches_the_golden() -> None:
    assert FILES
    problems = [p for path in FILES for p in findings(load(path))]
    actual = [f"{p.location.file}:{p.location.line}:{p.location.column} {p.rule}" for p in problems]
    if UPDATE:
        GOLDEN.write_text("".join(f"{line}\n" for line in actual), encoding="utf-8")
    assert actual == GOLDEN.read_text(encoding="utf-8").splitlines()
