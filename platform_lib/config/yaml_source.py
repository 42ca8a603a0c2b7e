"""YAML documents that remember where every value came from (line, column per JSON pointer)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from platform_lib.errors import Location, Problem


def pointer(parts: Iterable[object]) -> str:
    """RFC 6901 JSON pointer of a path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class YamlDocument:
    file: str
    data: Any
    positions: Mapping[str, tuple[int, int]]

    def locate(self, parts: Iterable[object]) -> Location:
        """The location of a path, or of its nearest ancestor that has one."""
        path = list(parts)
        wanted = pointer(path)
        while True:
            found = self.positions.get(pointer(path))
            if found is not None:
                return Location(self.file, found[0], found[1], wanted)
            if not path:
                return Location(self.file, 1, 1, wanted)
            path.pop()


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.message)


class Yaml12Loader(yaml.SafeLoader):
    """YAML as Docker Compose (go-yaml v3, YAML 1.2 core schema) reads it: `on`, `no`, `yes`
    are strings, `2222:22` is not a base-60 number, and mapping keys stay as written."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (
                key_node.value
                if isinstance(key_node, yaml.ScalarNode)
                else self.construct_object(key_node, deep=deep)
            )
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found a list or mapping as a key (a key is a plain name)",
                    key_node.start_mark,
                ) from None
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        return int(text, 16) if text.startswith("0x") else int(text, 10)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", Yaml12Loader.construct_yaml_int)
_RESOLVED_TAGS = (
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",  # YAML 1.2: dates are strings
)
Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _RESOLVED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))

# PyYAML reports these where the construct ends (often past it); its start is the useful place.
_CONTEXT_FIRST = (
    "while scanning a simple key",
    "while scanning a quoted scalar",
    "while parsing a flow",
)


def _code(character: str | int) -> int:
    return ord(character) if isinstance(character, str) else character


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document. Raises YamlSyntaxError with the exact location, and also for
    duplicate mapping keys (PyYAML silently keeps the last one)."""
    try:
        loader = Yaml12Loader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. NUL
        before = text[: exc.position]
        at = Location(file, before.count("\n") + 1, len(before) - before.rfind("\n"), "")
        raise YamlSyntaxError(
            Problem(
                at,
                "yaml.syntax",
                f"YAML syntax error: character U+{_code(exc.character):04X} is not allowed in YAML",
                "remove it (a binary or corrupted file?)",
            )
        ) from None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        context_first = str(exc.context or "").startswith(_CONTEXT_FIRST)
        mark = (exc.context_mark if context_first else None) or exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise YamlSyntaxError(
            Problem(
                Location(file, line, col, ""),
                "yaml.syntax",
                f"YAML syntax error: {message}",
                "fix the YAML at that position (indentation, quotes, a missing ':')",
            )
        ) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(
            Problem(Location(file, 1, 1, ""), "yaml.syntax", f"YAML error: {exc}")
        ) from None
    finally:
        loader.dispose()
    positions: dict[str, tuple[int, int]] = {}
    if node is not None:
        _walk(node, [], positions, file)
    return YamlDocument(file, data, positions)


def _walk(node: yaml.Node, path: list[object], out: dict[str, tuple[int, int]], file: str) -> None:
    here = pointer(path)
    out.setdefault(here, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if key in seen:
                raise YamlSyntaxError(
                    Problem(
                        Location(
                            file,
                            key_node.start_mark.line + 1,
                            key_node.start_mark.column + 1,
                            pointer([*path, key]),
                        ),
                        "yaml.duplicate-key",
                        f"duplicate key {key!r} (first defined on line {seen[key]})",
                        "YAML keeps only the last value; remove one of them",
                    )
                )
            seen[key] = key_node.start_mark.line + 1
            child = [*path, key]
            out[pointer(child)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, out, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, [*path, index], out, file)
