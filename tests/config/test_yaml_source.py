"""YAML as Compose reads it (merge keys, duplicates), and malformed or hostile YAML: each is one
problem at its position, never a traceback, within the limits of size, depth and aliasing."""

from __future__ import annotations

import time

import pytest

from platform_lib.config.yaml_source import (
    MAX_ALIASED,
    MAX_BYTES,
    YamlDocument,
    YamlSyntaxError,
    parse_yaml,
)
from platform_lib.errors import Location, Problem

FILE = "configs/x/docker-compose.yml"


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


# --- merge keys as Compose reads them --------------------------------------------------------


def parse(text: str) -> YamlDocument:
    return parse_yaml(text, "configs/x/docker-compose.yml")


def refused(text: str) -> Problem:
    with pytest.raises(YamlSyntaxError) as caught:
        parse(text)
    return caught.value.problem


def test_a_key_after_a_merge_overrides_the_merged_value() -> None:
    # As in Airflow's, Sentry self-hosted's and netbox-docker's compose files.
    doc = parse(
        "x-common: &common\n"
        "  image: example/app:1.0\n"
        "  restart: always\n"
        "services:\n"
        "  web:\n"
        "    <<: *common\n"
        "    restart: unless-stopped\n"
    )
    assert doc.data["services"]["web"] == {
        "image": "example/app:1.0",
        "restart": "unless-stopped",
    }
    # The written key is where the value comes from; a merged one is where its anchor wrote it.
    assert doc.locate(["services", "web", "restart"]) == Location(
        FILE, 7, 5, "/services/web/restart"
    )
    assert doc.locate(["services", "web", "image"]) == Location(FILE, 2, 3, "/services/web/image")


def test_merging_a_list_of_anchors_the_first_wins_and_written_keys_win_over_all() -> None:
    doc = parse("a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nm:\n  <<: [*a, *b]\n  y: 3\n")
    assert doc.data["m"] == {"x": 1, "y": 3, "z": 2}
    assert doc.locate(["m", "x"]) == Location(FILE, 1, 8, "/m/x")
    assert doc.locate(["m", "z"]) == Location(FILE, 2, 14, "/m/z")
    assert doc.locate(["m", "y"]) == Location(FILE, 5, 3, "/m/y")


def test_two_written_keys_stay_a_duplicate_next_to_a_merge() -> None:
    problem = refused(
        "x-common: &common\n  restart: always\nservices:\n  web:\n    <<: *common\n"
        "    restart: unless-stopped\n    image: a:1\n    restart: 'no'\n"
    )
    assert problem == Problem(
        Location(FILE, 8, 5, "/services/web/restart"),
        "yaml.duplicate-key",
        "duplicate key 'restart' (first defined on line 6)",
        "YAML keeps only the last value; remove one of them",
    )


def test_a_duplicate_inside_an_anchor_is_reported_where_it_is_written() -> None:
    problem = refused("x: &x\n  a: 1\n  a: 2\ny: *x\n")
    assert (problem.location, problem.rule) == (Location(FILE, 3, 3, "/x/a"), "yaml.duplicate-key")


def test_merging_a_scalar_is_a_syntax_problem() -> None:
    assert refused("m:\n  <<: 1\n") == Problem(
        Location(FILE, 2, 7, ""),
        "yaml.syntax",
        "YAML syntax error: while constructing a mapping expected a mapping or list of mappings "
        "for merging, but found scalar",
        "fix the YAML at that position (indentation, quotes, a missing ':')",
    )


# --- limits: every hostile document is one problem, quickly ---------------------------------


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_in_well_under_a_second() -> None:
    started = time.perf_counter()
    problem = refused(alias_bomb())
    assert time.perf_counter() - started < 0.5
    assert problem == Problem(
        Location(FILE, 9, 5, ""),
        "yaml.excessive-aliasing",
        "aliases copy more than 1,000,000 values into the document, more than the 100,000 "
        "allowed (the value anchored here is copied 10 times)",
        "docker compose refuses such a file as excessive aliasing: write the values out or use "
        "fewer levels of aliases",
    )


def test_aliases_within_the_limit_are_fine() -> None:
    doc = parse(alias_bomb(levels=3))  # about 11,000 values copied
    assert len(doc.data["a3"]) == 10 and doc.data["a3"][9][9][9][9] == "lol"
    assert MAX_ALIASED == 100_000


def test_merge_keys_count_as_copies() -> None:
    lines = ["a0: &a0 {" + ", ".join(f"k{i}: v" for i in range(50)) + "}"]
    for level in range(1, 5):
        lines.append(
            f"a{level}: &a{level} {{"
            + ", ".join(f"m{i}: {{<<: *a{level - 1}}}" for i in range(50))
            + "}"
        )
    assert refused("\n".join(lines) + "\n").rule == "yaml.excessive-aliasing"


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("a: &a [*a]\n", Location(FILE, 1, 4, "/a/0")),
        ("a: &a {b: [1, *a]}\n", Location(FILE, 1, 4, "/a/b/1")),
    ],
)
def test_a_recursive_alias_is_refused(text: str, location: Location) -> None:
    assert refused(text) == Problem(
        location,
        "yaml.recursive-alias",
        "an alias refers to the value that contains it: the value would never end",
        "refer only to anchors of values defined before and outside this one",
    )


TOO_DEEP = "values nest more than 50 levels deep here (aliases included)"
DEEP_HINT = "a config nests a few levels deep: flatten this structure"


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("a: " + "[" * 50 + "]" * 50 + "\n", None),  # 51 levels with the top mapping
        ("a: " + "[" * 51 + "]" * 51 + "\n", Location(FILE, 1, 54, "/a" + "/0" * 50)),
        ("".join("  " * i + f"k{i}:\n" for i in range(52)), Location(FILE, 51, 101, "")),
        # Past libyaml's own limit of 1000 levels, and past Python's recursion limit.
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", Location(FILE, 1, 53, "")),
        # Through an alias: 41 + 20 levels.
        (
            "x: &x " + "[" * 40 + "]" * 40 + "\ny: " + "[" * 20 + "*x" + "]" * 20 + "\n",
            Location(FILE, 1, 4, "/y" + "/0" * 20),
        ),
    ],
)
def test_nesting_deeper_than_the_limit_is_refused(text: str, location: Location | None) -> None:
    if location is None:
        assert parse(text).data is not None
        return
    problem = refused(text)
    if not location.pointer:  # long paths: the place is what matters
        location = Location(FILE, location.line, location.column, problem.location.pointer)
    assert problem == Problem(location, "yaml.too-deep", TOO_DEEP, DEEP_HINT)


def test_a_file_larger_than_the_limit_is_refused_before_it_is_parsed() -> None:
    text = "# padding\n" * (MAX_BYTES // 10) + "a: 1\n"
    started = time.perf_counter()
    assert refused(text) == Problem(
        Location(FILE, 1, 1, ""),
        "yaml.too-large",
        f"the file has {len(text):,} bytes, more than the 262,144 a config file may have",
        "split it or remove what is not configuration (a config file is a few KiB)",
    )
    assert time.perf_counter() - started < 0.1
    assert parse("# padding\n" * (MAX_BYTES // 10 - 1)).data is None
