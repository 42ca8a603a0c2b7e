"""Real-world compose files (docker/awesome-compose, see tests/corpus/README.md) against the
validator: each passes the Compose Specification schema layer, and as a tenant compose file it
breaks only the platform's own policies, each finding listed in awesome-compose.expected.txt.

The corpus is part of the repository, in `tests/corpus/awesome-compose`; when it is missing the
tests fail (they never skip). `UPDATE_GOLDEN=1 pytest tests/validation` rewrites the
golden file from what the validator reports now: check every changed line against the compose
file before keeping it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from platform_lib.config.compose_policy import compose_policy_problems
from platform_lib.config.compose_schema import compose_schema_problems
from platform_lib.config.yaml_source import YamlDocument, parse_yaml
from platform_lib.errors import Problem

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = REPO / "tests" / "corpus" / "awesome-compose"
GOLDEN = HERE / "awesome-compose.expected.txt"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
EXPECTED_FILES = 39
POLICY_RULES = frozenset(
    {
        "compose.container-name",
        "compose.build",
        "compose.mutable-image",
        "compose.port-collision",
        "compose.missing-image",
    }
)
MISSING = f"the awesome-compose corpus is missing: expected {EXPECTED_FILES} files in {CORPUS}"


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())


FILES = corpus_files()
# Without the corpus, one parameter that fails with a clear message (an empty parametrize
# would skip).
PARAMS = [pytest.param(p, id=p.name) for p in FILES] or [pytest.param(None, id="corpus-missing")]


def load(path: Path | None) -> YamlDocument:
    if path is None:
        pytest.fail(MISSING)
    return parse_yaml(path.read_text(encoding="utf-8"), path.name)


def finding_line(problem: Problem) -> str:
    loc = problem.location
    return f"{loc.file}:{loc.line}:{loc.column} {problem.rule}"


def test_the_corpus_is_there() -> None:
    assert CORPUS.is_dir(), MISSING
    assert len(FILES) == EXPECTED_FILES, f"{MISSING}; found {[p.name for p in FILES]}"


@pytest.mark.parametrize("path", PARAMS)
def test_passes_the_compose_schema(path: Path | None) -> None:
    doc = load(path)
    assert isinstance(doc.data, dict) and isinstance(doc.data.get("services"), dict)
    assert compose_schema_problems(doc) == []


@pytest.mark.parametrize("path", PARAMS)
def test_breaks_only_the_platform_policies(path: Path | None) -> None:
    doc = load(path)
    for problem in compose_policy_problems(doc, built=set()):
        assert problem.rule in POLICY_RULES, problem
        assert problem.location.file == doc.file
        assert problem.location.line is not None and problem.location.column is not None
        assert problem.location.pointer.startswith("/services/"), problem
        assert problem.message and problem.hint, problem


def test_every_finding_matches_the_golden() -> None:
    assert FILES, MISSING
    problems = sorted(p for path in FILES for p in compose_policy_problems(load(path), set()))
    actual = [finding_line(p) for p in problems]
    if UPDATE:
        GOLDEN.write_text("".join(f"{line}\n" for line in actual), encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8").splitlines()
    assert actual == expected


def test_the_golden_names_only_corpus_files_and_policy_rules() -> None:
    names = {p.name for p in FILES}
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        where, rule = line.split(" ")
        file, row, column = where.split(":")
        assert file in names and rule in POLICY_RULES, line
        assert int(row) >= 1 and int(column) >= 1, line
