"""Malformed YAML of the kinds that once raised a traceback: each is one yaml.syntax problem
at its position."""

from __future__ import annotations

import pytest

from platform_lib.config.yaml_source import YamlSyntaxError, parse_yaml
from platform_lib.errors import Location


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("a: 1\nb: \x00\n", 2, 4, "YAML syntax error: character U+0000 is not allowed in YAML"),
        (
            "hosts:\n  [staging, production]: staging-1\n", 2, 3,
            "YAML syntax error: while constructing a mapping found a list or mapping as a key "
            "(a key is a plain name)",
        ),
        (
            "? {a: 1}\n: x\n", 1, 3,
            "YAML syntax error: while constructing a mapping found a list or mapping as a key "
            "(a key is a plain name)",
        ),
    ],
)  # fmt: skip
def test_malformed_yaml_is_one_problem_at_its_place(
    text: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml(text, "configs/x/docker-compose.yml")
    problem = caught.value.problem
    assert (problem.location, problem.rule, problem.message) == (
        Location("configs/x/docker-compose.yml", line, column, ""),
        "yaml.syntax",
        message,
    )
