"""Any input to any loader gives problems, never an exception, and quickly.

Every config file the platform reads (platform.yml, a project.yml, a docker-compose.yml, an env
file) is replaced in the valid tree by arbitrary bytes, by text made of YAML's and dotenv's
special characters, or by an arbitrary YAML tree (alone, or put in place of one value of the
valid file so the rules behind the schema run on it too), and the whole tree goes through
`validate_sources` as `validate` reads it from disk (bytes decoded by `sources.decode`). What
may come out is a list of problems, each with a rule id, a message and a hint; an exception of
any kind fails, and so does an example that takes longer than TIME_LIMIT seconds (an alias
bomb or an exponential path would take minutes).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from plan_strategies import PROPERTY_SETTINGS

from platform_lib.config.envfile import parse_env_file
from platform_lib.config.sources import decode, read_sources
from platform_lib.config.validate import validate_sources
from platform_lib.config.yaml_source import YamlSyntaxError, parse_yaml
from platform_lib.errors import Problem

REPO = Path(__file__).resolve().parents[2]
BASE = read_sources(REPO)
FILES = sorted(BASE)
YAML_FILES = [path for path in FILES if path.endswith(".yml")]
TIME_LIMIT = 3.0
RULE = re.compile(r"^[a-z]+\.[a-z]+(?:-[a-z]+)*$")


def check(sources: dict[str, str]) -> list[Problem]:
    started = time.perf_counter()
    _, problems = validate_sources(sources)
    elapsed = time.perf_counter() - started
    assert elapsed < TIME_LIMIT, f"validation took {elapsed:.1f} s"
    for problem in problems:
        assert isinstance(problem, Problem) and RULE.match(problem.rule), problem
        assert problem.message and problem.location.file.startswith("configs/"), problem
    return problems


def replaced(path: str, text: str) -> dict[str, str]:
    return {**BASE, path: text}


SPECIAL = st.text(
    alphabet=st.sampled_from(list("[]{}:-,&*!|>'\"#?%@`<=$\\ \t\n\r\x00\x85\ufeffa1")),
    max_size=200,
)
TOKENS = st.lists(
    st.sampled_from(
        ["<<: *a", "&a ", "*a", "- ", ": ", "\n  ", "\n", "key", "[", "]", "{", "}", "${A:-${B}}",
         "!!binary ", "!!python/object:os.system ", "? ", "|\n  x", "---\n", "...\n", "%YAML 1.1\n",
         "0x1F", "1_000", "2001-01-01", "~", "on", "0o7", ".inf", "80:80", "'", '"', "#"]
    ),
    max_size=40,
).map("".join)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["${X}", "$${X}", "${X:?}", "80:80", "1-65535:1-65535", "[::]:443:443"])
)
TREES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10) | st.integers(), children, max_size=4)
    ),
    max_leaves=30,
)


def dump(tree: Any) -> str:
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)


def paths(data: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*at, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*at, index))
    return found


def put(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = put(copy[path[0]], path[1:], value)
    return copy


@settings(PROPERTY_SETTINGS, max_examples=150)
@given(path=st.sampled_from(FILES), raw=st.binary(max_size=300))
@example(path="configs/paiss/docker-compose.yml", raw=b"\xff\xfe\x00a: 1")
@example(path="configs/platform.yml", raw=b"a: &a [*a, *a]\n")
def test_any_bytes_in_any_file(path: str, raw: bytes) -> None:
    check(replaced(path, decode(raw)))


@settings(PROPERTY_SETTINGS, max_examples=200)
@given(path=st.sampled_from(FILES), text=SPECIAL | TOKENS)
@example(path="configs/paiss/.env.staging", text="A=${B:-${C\n")
@example(path="configs/paiss/docker-compose.yml", text="a: &a {b: *a}\n")
@example(path="configs/paiss/project.yml", text="[" * 3000)
def test_yaml_and_dotenv_punctuation_in_any_file(path: str, text: str) -> None:
    check(replaced(path, text))


@settings(PROPERTY_SETTINGS, max_examples=150)
@given(path=st.sampled_from(YAML_FILES), tree=TREES)
def test_any_yaml_tree_as_a_whole_file(path: str, tree: Any) -> None:
    check(replaced(path, dump(tree)))


@settings(PROPERTY_SETTINGS, max_examples=300)
@given(path=st.sampled_from(YAML_FILES), data=st.data(), tree=TREES)
def test_any_yaml_tree_in_place_of_one_value_of_a_valid_file(
    path: str, data: st.DataObject, tree: Any
) -> None:
    valid = yaml.safe_load(BASE[path])
    where = data.draw(st.sampled_from(paths(valid)), label="replaced")
    check(replaced(path, dump(put(valid, where, tree))))


@settings(PROPERTY_SETTINGS, max_examples=200)
@given(text=st.text(max_size=400) | SPECIAL | TOKENS)
def test_the_parsers_alone_raise_only_their_own_error(text: str) -> None:
    started = time.perf_counter()
    try:
        parse_yaml(text, "configs/x/docker-compose.yml")
    except YamlSyntaxError as exc:
        assert RULE.match(exc.problem.rule), exc.problem
    env = parse_env_file(text, "configs/x/.env.staging")
    assert all(RULE.match(problem.rule) for problem in env.problems)
    assert time.perf_counter() - started < TIME_LIMIT
