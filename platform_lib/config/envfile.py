"""Dotenv files (`.env.staging`, `.env.production`) as Docker Compose v2 reads them.

One assignment per line: `KEY=value`, optionally prefixed with `export `, blank lines and `#`
comments between. Whitespace around the key and the value is dropped. An unquoted value runs to
the end of the line, where ` #` starts a comment (looked for after leading whitespace, as Compose
does); a single-quoted value is literal; a double-quoted value understands `\\n`, `\\"` and `\\\\`
(any other backslash is kept).
Our dialect does not let quoted values span lines. Values are kept as written: `${VAR}`
references are not expanded here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from platform_lib.config.interpolation import InterpolationSyntaxError, find_references
from platform_lib.errors import Location, Problem

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_EXPORT = re.compile(r"export\s+")
# compose-go finds the closing quote skipping backslash-escaped characters in both kinds of
# quotes; inside single quotes only \' means something (a quote), everything else is literal.
_QUOTED = {
    '"': re.compile(r'"((?:[^"\\]|\\.)*)"'),
    "'": re.compile(r"'((?:[^'\\]|\\.)*)'"),
}
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", '"': '"', "\\": "\\"}
_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN")
_FORM_HINT = (
    "write one assignment per line as KEY=value (or export KEY=value); a name starts with a "
    "letter or '_' and continues with letters, digits, '_', '.' or '-'"
)
_QUOTE_HINT = (
    'close the quote on the same line, e.g. KEY="value"; inside double quotes write \\n for a '
    "line break"
)


@dataclass(frozen=True)
class EnvEntry:
    """One assignment; `line` and `column` (of the key) are 1-based."""

    key: str
    value: str
    line: int
    column: int
    quoted: bool


@dataclass(frozen=True)
class EnvFile:
    file: str
    entries: tuple[EnvEntry, ...]
    problems: tuple[Problem, ...]

    def values(self) -> dict[str, str]:
        """Every key's value; a repeated key keeps its last value, as in Compose."""
        return {entry.key: entry.value for entry in self.entries}

    def keys(self) -> tuple[str, ...]:
        """The distinct keys, in order of first appearance."""
        return tuple(self.values())


class _LineError(Exception):
    def __init__(self, column: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.column, self.message, self.hint = column, message, hint


def parse_env_file(text: str, file: str) -> EnvFile:
    """Parse a whole file, collecting every problem instead of raising."""
    entries: list[EnvEntry] = []
    problems: list[Problem] = []
    first_lines: dict[str, int] = {}
    for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        try:
            parsed = _parse_line(line.removesuffix("\r"), number)
        except _LineError as err:
            problems.append(
                Problem(Location(file, number, err.column), "env.syntax", err.message, err.hint)
            )
            continue
        if parsed is None:
            continue
        entry, interpolated = parsed
        entries.append(entry)
        where = Location(file, entry.line, entry.column)
        first = first_lines.setdefault(entry.key, entry.line)
        if first != entry.line:
            problems.append(
                Problem(
                    where,
                    "env.duplicate-key",
                    f"{entry.key} is already set on line {first}",
                    "remove one of the assignments; Compose would use the last one",
                )
            )
        if _is_literal_secret(entry, interpolated):
            problems.append(
                Problem(
                    where,
                    "env.literal-secret",
                    f"{entry.key} looks like a secret but has a literal value",
                    f"declare {entry.key} under secrets: in project.yml, remove the value from "
                    f"{file}, and set {entry.key} in the deploy environment "
                    "(a GitHub environment secret)",
                )
            )
    return EnvFile(file, tuple(entries), tuple(problems))


def _parse_line(line: str, number: int) -> tuple[EnvEntry, bool] | None:
    """The assignment on a line and whether Compose interpolates its value; None for blanks."""
    body = line.lstrip()
    if not body or body.startswith("#"):
        return None
    start = len(line) - len(body)
    if export := _EXPORT.match(body):
        start += export.end()
    name, equals, rest = line[start:].partition("=")
    if not equals:
        raise _LineError(
            len(line) - len(body) + 1, "expected KEY=value but found no '='", _FORM_HINT
        )
    key = name.rstrip()
    if not key:
        raise _LineError(start + 1, "missing variable name before '='", _FORM_HINT)
    bad = next((i for i in range(len(key)) if not _KEY.fullmatch(key[: i + 1])), None)
    if bad is not None:
        verb = "start with" if bad == 0 else "contain"
        message = f"a variable name cannot {verb} {key[bad]!r}"
        raise _LineError(start + bad + 1, message, _FORM_HINT)

    value_text = rest.lstrip()
    value_index = len(line) - len(value_text)
    quote = value_text[:1]
    if quote not in _QUOTED:
        value = value_text.partition(" #")[0].rstrip()
        return EnvEntry(key, value, number, start + 1, quoted=False), True
    found = _QUOTED[quote].match(value_text)
    kind = "double" if quote == '"' else "single"
    if found is None:
        raise _LineError(
            value_index + 1, f"unterminated {kind} quote in the value of {key}", _QUOTE_HINT
        )
    trailing = value_text[found.end() :].lstrip()
    if trailing and not trailing.startswith("#"):
        raise _LineError(
            len(line) - len(trailing) + 1,
            f"unexpected text after the closing quote of {key}",
            "only a # comment may follow a quoted value",
        )
    value = found[1]
    if quote == '"':
        value = _ESCAPE.sub(lambda e: _ESCAPES.get(e[1], e[0]), value)
    else:
        value = value.replace("\\'", "'")
    return EnvEntry(key, value, number, start + 1, quoted=True), quote == '"'


def _is_literal_secret(entry: EnvEntry, interpolated: bool) -> bool:
    name = entry.key.upper()
    secret = any(word in name for word in _SECRET_WORDS) or name.endswith("_KEY")
    return secret and entry.value != "" and not (interpolated and _is_reference(entry.value))


def _is_reference(value: str) -> bool:
    """True if `value` is a single reference whose fallback, if any, is no literal either."""
    try:
        refs = [ref for ref in find_references(value) if not ref.nested]
    except InterpolationSyntaxError:
        return False
    if len(refs) != 1:
        return False
    ref = refs[0]
    if value not in (f"${ref.name}", f"${{{ref.name}{ref.operator}{ref.argument}}}"):
        return False
    uses_argument = ref.operator in (":-", "-", ":+", "+")
    return not uses_argument or not ref.argument or _is_reference(ref.argument)
