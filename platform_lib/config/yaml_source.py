"""YAML documents that remember where every value came from (line, column per JSON pointer).

Read as Docker Compose reads YAML (go-yaml v3, YAML 1.2 core schema), with its merge keys: a key
written next to `<<: *anchor` overrides the merged value; two keys written in one mapping are a
duplicate. Any text gives a document or one problem, never an exception, within limits that
keep a hostile file cheap: its size, its nesting depth, and how many values its aliases copy
(an "alias bomb": docker compose refuses those as excessive aliasing).

libyaml composes the node graph (its parser stops at 1000 levels of nesting); the checks and
the construction run on that graph. On a syntax error the pure-Python parser reads the text
again for its more precise message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml._yaml import CParser

from platform_lib.errors import Location, Problem

MAX_BYTES = 256 * 1024
"""Largest YAML file read (UTF-8 bytes): a compose file of real projects is a few KiB."""
MAX_DEPTH = 50
"""Deepest nesting of values, aliases expanded (compose files nest about 6 deep)."""
MAX_ALIASED = 100_000
"""Most values aliases (and merge keys) may copy into a document."""

_MERGE = "tag:yaml.org,2002:merge"


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


class Yaml12Constructor(yaml.constructor.SafeConstructor):
    """Values as Docker Compose (go-yaml v3, YAML 1.2 core schema) reads them: `on`, `no`,
    `yes` are strings, `2222:22` is not a base-60 number, and mapping keys stay as written."""

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


Yaml12Constructor.add_constructor(  # type: ignore[type-var]  # the stubs want a whole loader
    "tag:yaml.org,2002:int", Yaml12Constructor.construct_yaml_int
)


class Yaml12Resolver(yaml.resolver.Resolver):
    """Implicit tags of the YAML 1.2 core schema."""


_RESOLVED_TAGS = (
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",  # YAML 1.2: dates are strings
)
Yaml12Resolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _RESOLVED_TAGS]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
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
    Yaml12Resolver.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


class _Nesting(Exception):
    def __init__(self, mark: yaml.Mark | None) -> None:
        self.mark = mark


class Yaml12Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    Yaml12Constructor,
    Yaml12Resolver,
):
    """The pure-Python loader: its error messages say more than libyaml's. Its composer is
    recursive, so nesting stops at MAX_DEPTH here already."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        Yaml12Constructor.__init__(self)
        Yaml12Resolver.__init__(self)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                event = self.check_event() and self.peek_event()  # type: ignore[no-untyped-call]
                raise _Nesting(getattr(event, "start_mark", None))
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _CLoader(CParser, Yaml12Constructor, Yaml12Resolver):
    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        Yaml12Constructor.__init__(self)
        Yaml12Resolver.__init__(self)


# PyYAML reports these where the construct ends (often past it); its start is the useful place.
_CONTEXT_FIRST = (
    "while scanning a simple key",
    "while scanning a quoted scalar",
    "while parsing a flow",
)


def _code(character: str | int) -> int:
    return ord(character) if isinstance(character, str) else character


def _at(file: str, mark: yaml.Mark | None, path: Iterable[object] = ()) -> Location:
    if mark is None:
        return Location(file, 1, 1, pointer(path))
    return Location(file, mark.line + 1, mark.column + 1, pointer(path))


def _fail(at: Location, rule: str, message: str, hint: str) -> YamlSyntaxError:
    return YamlSyntaxError(Problem(at, rule, message, hint))


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document. Raises YamlSyntaxError with the exact location: for a syntax
    error, a duplicate mapping key (PyYAML silently keeps the last one), a recursive alias, or
    a document past one of the limits (MAX_BYTES, MAX_DEPTH, MAX_ALIASED)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise _fail(
            Location(file, 1, 1, ""),
            "yaml.too-large",
            f"the file has {size:,} bytes, more than the {MAX_BYTES:,} a config file may have",
            "split it or remove what is not configuration (a config file is a few KiB)",
        )
    non_printable = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if non_printable is not None:  # a character YAML does not allow, e.g. NUL
        before = text[: non_printable.start()]
        raise _fail(
            Location(file, before.count("\n") + 1, len(before) - before.rfind("\n"), ""),
            "yaml.syntax",
            f"YAML syntax error: character U+{_code(non_printable.group()):04X} is not "
            "allowed in YAML",
            "remove it (a binary or corrupted file?)",
        )
    loader = _CLoader(text)
    try:
        node = loader.get_single_node()
        positions: dict[str, tuple[int, int]] = {}
        if node is not None and "*" in text:  # aliases: measure the graph first
            _check_graph(node, file)
            _walk(node, [], positions)
        elif node is not None:  # a tree: the walk checks depth and duplicates itself
            duplicate: list[YamlSyntaxError] = []
            _walk_at(node, "", positions, {}, (file, [], duplicate))
            if duplicate:
                raise duplicate[0]
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise _python_error(text, file, exc) from None
    except yaml.YAMLError as exc:
        raise _fail(Location(file, 1, 1, ""), "yaml.syntax", f"YAML error: {exc}", "") from None
    finally:
        loader.dispose()
    return YamlDocument(file, data, positions)


def _python_error(text: str, file: str, found: yaml.MarkedYAMLError) -> YamlSyntaxError:
    """The problem of a text libyaml refused, in the pure-Python parser's words (libyaml's
    when that parser accepts the text)."""
    loader = Yaml12Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            loader.construct_document(node)
    except _Nesting as exc:
        return _too_deep(file, exc.mark, [])
    except yaml.MarkedYAMLError as exc:
        found = exc
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    context_first = str(found.context or "").startswith(_CONTEXT_FIRST)
    mark = (
        (found.context_mark if context_first else None) or found.problem_mark or found.context_mark
    )
    message = " ".join(str(p) for p in (found.context, found.problem) if p)
    if "maximum nesting depth" in message:  # libyaml's own limit, past MAX_DEPTH
        return _too_deep(file, mark, [])
    return _fail(
        _at(file, mark),
        "yaml.syntax",
        f"YAML syntax error: {message}",
        "fix the YAML at that position (indentation, quotes, a missing ':')",
    )


def _too_deep(file: str, mark: yaml.Mark | None, path: list[object]) -> YamlSyntaxError:
    return _fail(
        _at(file, mark, path),
        "yaml.too-deep",
        f"values nest more than {MAX_DEPTH} levels deep here (aliases included)",
        "a config nests a few levels deep: flatten this structure",
    )


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _check_graph(root: yaml.Node, file: str) -> None:
    """Refuse recursive aliases, nesting past MAX_DEPTH and aliases copying more than
    MAX_ALIASED values; report the first duplicate key. Linear in the number of nodes written:
    every node is measured once, however often aliases reach it."""
    measured: dict[int, tuple[int, int]] = {}  # id -> (height, values aliases expanded)
    references: dict[int, int] = {}
    nodes: dict[int, yaml.Node] = {}
    open_nodes: set[int] = set()
    duplicate: list[YamlSyntaxError] = []
    cap = MAX_ALIASED * 10

    def measure(node: yaml.Node, path: list[object]) -> tuple[int, int]:
        key = id(node)
        references[key] = references.get(key, 0) + 1
        if key in open_nodes:
            raise _fail(
                _at(file, node.start_mark, path),
                "yaml.recursive-alias",
                "an alias refers to the value that contains it: the value would never end",
                "refer only to anchors of values defined before and outside this one",
            )
        if key in measured:
            height, size = measured[key]
        else:
            nodes[key] = node
            open_nodes.add(key)
            if isinstance(node, yaml.MappingNode) and not duplicate:
                _first_duplicate(node, path, file, duplicate)
            height, size = 0, 1
            for child, child_path in _labelled(node, path):
                if len(path) >= MAX_DEPTH:
                    raise _too_deep(file, child.start_mark, child_path)
                child_height, child_size = measure(child, child_path)
                height, size = max(height, child_height + 1), min(size + child_size, cap)
            open_nodes.discard(key)
            measured[key] = (height, size)
        if len(path) + height > MAX_DEPTH:
            raise _too_deep(file, node.start_mark, path)
        return height, size

    _, total = measure(root, [])
    aliased = total - len(measured)
    if aliased > MAX_ALIASED:
        # The anchor whose copies weigh most (the last written of equals: the bomb's top).
        worst = max(
            measured,
            key=lambda k: ((references[k] - 1) * measured[k][1], nodes[k].start_mark.line),
        )
        copied = f"more than {cap:,}" if total >= cap else f"{aliased:,}"
        raise _fail(
            _at(file, nodes[worst].start_mark),
            "yaml.excessive-aliasing",
            f"aliases copy {copied} values into the document, more than the {MAX_ALIASED:,} "
            f"allowed (the value anchored here is copied {references[worst] - 1:,} times)",
            "docker compose refuses such a file as excessive aliasing: write the values out "
            "or use fewer levels of aliases",
        )
    if duplicate:
        raise duplicate[0]


def _labelled(node: yaml.Node, path: list[object]) -> Iterator[tuple[yaml.Node, list[object]]]:
    """Each child node with a path for its messages (a key node is labelled by its key)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            label = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            yield key_node, [*path, label]
            yield value_node, [*path, label]
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield item, [*path, index]


def _first_duplicate(
    node: yaml.MappingNode, path: list[object], file: str, out: list[YamlSyntaxError]
) -> None:
    seen: dict[object, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
            continue
        key = key_node.value
        if key in seen:
            out.append(
                _fail(
                    _at(file, key_node.start_mark, [*path, key]),
                    "yaml.duplicate-key",
                    f"duplicate key {key!r} (first defined on line {seen[key]})",
                    "YAML keeps only the last value; remove one of them",
                )
            )
            return
        seen[key] = key_node.start_mark.line + 1


def _merged_pairs(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    """The (key, value) pairs of a mapping as its merge keys make them, in PyYAML's order
    (merged pairs first, later ones winning): what `flatten_mapping` makes, without changing
    the node."""
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    written: list[tuple[yaml.Node, yaml.Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag != _MERGE:
            written.append((key_node, value_node))
        elif isinstance(value_node, yaml.MappingNode):
            merged.extend(_merged_pairs(value_node))
        elif isinstance(value_node, yaml.SequenceNode):
            for source in reversed(value_node.value):
                if isinstance(source, yaml.MappingNode):
                    merged.extend(_merged_pairs(source))
    return merged + written


def _walk(node: yaml.Node, path: list[object], out: dict[str, tuple[int, int]]) -> None:
    _walk_at(node, pointer(path), out, {})


def _walk_at(
    node: yaml.Node,
    here: str,
    out: dict[str, tuple[int, int]],
    pairs: dict[int, list[tuple[yaml.Node, yaml.Node]]],
    checks: tuple[str, list[object], list[YamlSyntaxError]] | None = None,
) -> None:
    """Positions of `node` and everything under it, `here` being its pointer. With `checks`
    (file, path, duplicates found) on a document without aliases, also what `_check_graph`
    checks there: the depth, and the first duplicate key."""
    out.setdefault(here, (node.start_mark.line + 1, node.start_mark.column + 1))
    if checks is not None:
        file, path, duplicate = checks
        if len(path) > MAX_DEPTH:
            raise _too_deep(file, node.start_mark, path)
        if isinstance(node, yaml.MappingNode) and not duplicate:
            _first_duplicate(node, path, file, duplicate)
    if isinstance(node, yaml.MappingNode):
        merged = pairs.get(id(node))
        if merged is None:
            merged = pairs[id(node)] = _merged_pairs(node)
        winners: dict[object, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in merged:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            winners[key] = (key_node, value_node)
        for key, (key_node, value_node) in winners.items():
            child = f"{here}/{str(key).replace('~', '~0').replace('/', '~1')}"
            out[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if checks is not None and len(checks[1]) >= MAX_DEPTH:
                raise _too_deep(checks[0], key_node.start_mark, [*checks[1], key])
            below = None if checks is None else (checks[0], [*checks[1], key], checks[2])
            _walk_at(value_node, child, out, pairs, below)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            below = None if checks is None else (checks[0], [*checks[1], index], checks[2])
            _walk_at(item, f"{here}/{index}", out, pairs, below)
