"""Compose variable interpolation: find `$VAR` / `${VAR...}` references and substitute them.

The syntax follows compose-go: `$$` is a literal `$`; a `$` followed by anything but `$`, `{` or
a name is literal too; `${NAME<operator>argument}` ends at the `}` that balances its `${`
(compose counts every `${`, even one right after `$$`, and every `}`), and its argument may hold
nested references. Deliberate differences from Compose: an unset plain reference is an error,
not a warning; an argument is only evaluated when it is used; and a reference whose braces never
balance by that count is rejected as unterminated (compose-go falls back to a regex there).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATOR = re.compile(r":?[-?+]")


class InterpolationSyntaxError(ValueError):
    """A malformed reference; `offset` is the index of its `$` in the whole string."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class MissingVariable(LookupError):
    """A variable the string requires is unset (or empty, for `:?`)."""

    def __init__(self, name: str, message: str = "") -> None:
        text = f"required variable {name} is missing a value"
        super().__init__(f"{text}: {message}" if message else text)
        self.name = name
        self.message = message


@dataclass(frozen=True)
class VarRef:
    """One reference: `$NAME` or `${NAME<operator><argument>}` starting at `offset`."""

    name: str
    operator: str  # "", ":-", "-", ":?", "?", ":+" or "+"
    argument: str  # raw text after the operator
    offset: int
    nested: bool = False  # inside another reference's argument

    @property
    def required(self) -> bool:
        """Compose fails, or substitutes an empty string, when the variable is unset."""
        return self.operator in ("", ":?", "?")


def find_references(value: str) -> tuple[VarRef, ...]:
    """Every reference in `value`, nested ones right after the reference holding them."""
    return tuple(_references(value, 0, nested=False))


def substitute(value: str, variables: Mapping[str, str]) -> str:
    """`value` with its references replaced as Compose would, `$$` becoming `$`.

    Raises InterpolationSyntaxError for any malformed reference (even in an unused default) and
    MissingVariable for an unset plain reference or a failing `:?` / `?`.
    """
    find_references(value)
    return _evaluate(value, 0, variables)


def _references(text: str, base: int, *, nested: bool) -> Iterator[VarRef]:
    for token in _scan(text, base, nested):
        if isinstance(token, VarRef):
            yield token
            if token.argument:
                yield from _references(token.argument, _argument_offset(token), nested=True)


def _scan(text: str, base: int, nested: bool) -> Iterator[str | VarRef]:
    """The literal text (`$$` unescaped) and top-level references of `text`, in order."""
    i = 0
    while (dollar := text.find("$", i)) >= 0:
        yield text[i:dollar]
        after = dollar + 1
        if text.startswith("$", after):
            yield "$"
            i = after + 1
        elif text.startswith("{", after):
            ref, i = _braced(text, dollar, base, nested)
            yield ref
        elif name := _NAME.match(text, after):
            yield VarRef(name[0], "", "", base + dollar, nested)
            i = name.end()
        else:
            yield "$"
            i = after
    yield text[i:]


def _braced(text: str, start: int, base: int, nested: bool) -> tuple[VarRef, int]:
    """The `${...}` reference at `start` and the index just after it."""
    end = _closing_brace(text, start)
    if end < 0:
        raise InterpolationSyntaxError(
            "unterminated reference: '${' has no matching '}'", base + start
        )
    source, body = text[start : end + 1], text[start + 2 : end]
    name = _NAME.match(body)
    if name is None:
        raise InterpolationSyntaxError(
            f"invalid variable name in {source!r}: a name starts with a letter or '_'", base + start
        )
    operator = _OPERATOR.match(body, name.end())
    if operator is None and name.end() < len(body):
        raise InterpolationSyntaxError(
            f"unexpected {body[name.end()]!r} after {name[0]} in {source!r}; "
            "expected '}' or one of :- - :? ? :+ +",
            base + start,
        )
    op, argument = (operator[0], body[operator.end() :]) if operator else ("", "")
    return VarRef(name[0], op, argument, base + start, nested), end + 1


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` closing the `${` at `start`, counted as compose-go does, or -1."""
    depth = 0
    i = start
    while i < len(text):
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        elif text.startswith("${", i):
            depth += 1
            i += 1
        i += 1
    return -1


def _argument_offset(ref: VarRef) -> int:
    return ref.offset + 2 + len(ref.name) + len(ref.operator)


def _evaluate(text: str, base: int, variables: Mapping[str, str]) -> str:
    return "".join(
        token if isinstance(token, str) else _resolve(token, variables)
        for token in _scan(text, base, nested=False)
    )


def _resolve(ref: VarRef, variables: Mapping[str, str]) -> str:
    value = variables.get(ref.name)
    missing = value is None or (ref.operator.startswith(":") and value == "")
    if ref.required:
        if value is None or missing:
            message = _message(ref, variables) if ref.operator else ""
            raise MissingVariable(ref.name, message)
        return value
    if ref.operator in (":-", "-"):
        if value is None or missing:
            return _evaluate(ref.argument, _argument_offset(ref), variables)
        return value
    return "" if missing else _evaluate(ref.argument, _argument_offset(ref), variables)


def _message(ref: VarRef, variables: Mapping[str, str]) -> str:
    """The `:?` / `?` message, substituted where it can be."""
    try:
        return _evaluate(ref.argument, _argument_offset(ref), variables)
    except MissingVariable:
        return ref.argument
