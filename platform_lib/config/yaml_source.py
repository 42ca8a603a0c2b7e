"""YAML documents that remember where every value came from (line, column per JSON pointer)."""

from __future__ import annotations

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


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document. Raises YamlSyntaxError with the exact location, and also for
    duplicate mapping keys (PyYAML silently keeps the last one)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
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
