"""The compiled Compose-schema check (jsonschema-rs) only ever answers "valid" for a file that
jsonschema, which makes the problems, also finds valid: otherwise a broken file would pass
`validate` unseen. Checked on every compose file of the corpora and the examples, and on
random edits of them: a value anywhere replaced by any JSON value, a key added or removed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from platform_lib.config.compose_schema import (
    compose_schema,
    compose_schema_problems,
    compose_validator,
    surely_valid,
)
from platform_lib.config.yaml_source import parse_yaml

REPO = Path(__file__).resolve().parents[2]
FILES = sorted(
    [
        *(REPO / "tests" / "corpus").glob("*/*.yaml"),
        *(REPO / "configs").glob("*/docker-compose.yml"),
    ]
)
DOCS = [parse_yaml(p.read_text(encoding="utf-8"), p.name).data for p in FILES]


def _schema_names(schema: object, found: set[str]) -> set[str]:
    """Every property name the schema declares: edits then hit known keys, not only noise."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                found.update(value)
            _schema_names(value, found)
    elif isinstance(schema, list):
        for item in schema:
            _schema_names(item, found)
    return found


NAMES = sorted(_schema_names(compose_schema(), set()))
KEYS = st.one_of(st.sampled_from(NAMES), st.text(max_size=12), st.just("x-extra"))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["1g", "0.5", "80:80", "always", "host", "256m", "10s", "service_healthy"]),
)
ODD = st.one_of(st.binary(max_size=4), st.just("\udcff"), st.just("key\n"), st.dates())
"""Values the YAML loader can make (`!!binary`, undecodable bytes, `!!timestamp`) beyond JSON."""
VALUES = st.recursive(
    st.one_of(SCALARS, ODD),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),  # `!!omap`, `!!pairs`
        st.frozensets(st.text(max_size=4), max_size=3),  # `!!set`
        st.dictionaries(KEYS, inner, max_size=3),
    ),
    max_leaves=6,
)


def _containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, dict | list):
        out.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, out)
    return out


@st.composite
def edited_documents(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(DOCS)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        nodes = _containers(data, [])
        node = draw(st.sampled_from(nodes))
        if isinstance(node, list):
            if node and draw(st.booleans()):
                node[draw(st.integers(0, len(node) - 1))] = draw(VALUES)
            else:
                node.append(draw(VALUES))
            continue
        action = draw(st.sampled_from(["replace", "add", "remove"]))
        if action == "replace" and node:
            node[draw(st.sampled_from(sorted(node)))] = draw(VALUES)
        elif action == "remove" and node:
            del node[draw(st.sampled_from(sorted(node)))]
        else:
            node[draw(KEYS)] = draw(VALUES)
    return data


def test_the_corpora_are_read() -> None:
    assert len(FILES) >= 50, FILES


def test_every_corpus_file_is_valid_to_both() -> None:
    """Also proves the compiled check is installed and used: were it missing, every file
    would take the slow path and `surely_valid` would answer False."""
    for path, data in zip(FILES, DOCS, strict=True):
        assert surely_valid(data), path
        assert compose_validator().is_valid(data), path


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(edited_documents())
def test_compiled_valid_means_valid(data: Any) -> None:
    if surely_valid(data):
        assert list(compose_validator().iter_errors(data)) == []


def test_an_invalid_file_still_gets_its_problems() -> None:
    """The fast answer is only ever "valid": a broken file is reported by jsonschema."""
    doc = parse_yaml("services:\n  web:\n    image: nginx\n    restart: [always]\n", "c.yml")
    assert not surely_valid(doc.data)
    problems = compose_schema_problems(doc)
    assert [(p.rule, p.location.line, p.location.pointer) for p in problems] == [
        ("compose.schema", 4, "/services/web/restart")
    ]


def test_values_the_compiled_check_cannot_take_go_to_jsonschema() -> None:
    for data in (
        {"services": {"a": {"image": b"x"}}},
        {"services": {1: {"image": "x"}}},
        {"services": {"a": {"image": "x", "command": ("sh", "-c", "true")}}},  # a tuple
        {"services": {"a": {"image": "x", "profiles": frozenset({"debug"})}}},
    ):
        assert not surely_valid(data)
