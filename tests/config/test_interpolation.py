"""find_references and substitute: Compose's `$VAR` / `${VAR...}` syntax and semantics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platform_lib.config.interpolation import (
    InterpolationSyntaxError,
    MissingVariable,
    VarRef,
    find_references,
    substitute,
)

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]*", fullmatch=True)
TEXT = st.text(st.characters())


@pytest.mark.parametrize(
    ("value", "refs"),
    [
        ("plain text", ()),
        ("$A", (VarRef("A", "", "", 0),)),
        ("x-${A}-y", (VarRef("A", "", "", 2),)),
        ("$A_1.b", (VarRef("A_1", "", "", 0),)),
        ("${A:-d}", (VarRef("A", ":-", "d", 0),)),
        ("${A-d}", (VarRef("A", "-", "d", 0),)),
        ("${A:?must be set}", (VarRef("A", ":?", "must be set", 0),)),
        ("${A?}", (VarRef("A", "?", "", 0),)),
        ("${A:+on}", (VarRef("A", ":+", "on", 0),)),
        ("${A+on}", (VarRef("A", "+", "on", 0),)),
        ("${A:-a:-b}", (VarRef("A", ":-", "a:-b", 0),)),
        ("${A-x:?y}", (VarRef("A", "-", "x:?y", 0),)),
    ],
)
def test_find_references(value: str, refs: tuple[VarRef, ...]) -> None:
    assert find_references(value) == refs


@pytest.mark.parametrize("value", ["$$", "$$A", "$${A}", "price: 5$", "$1", "$ x", "a$-b", "$$$$"])
def test_escaped_and_stray_dollars_are_no_references(value: str) -> None:
    assert find_references(value) == ()


def test_escape_then_reference() -> None:
    assert find_references("$$$A") == (VarRef("A", "", "", 2),)


def test_nested_references() -> None:
    value = "x ${A:-${B:-$C}} ${D:?need $E} $F"
    assert find_references(value) == (
        VarRef("A", ":-", "${B:-$C}", 2),
        VarRef("B", ":-", "$C", 7, nested=True),
        VarRef("C", "", "", 12, nested=True),
        VarRef("D", ":?", "need $E", 17),
        VarRef("E", "", "", 27, nested=True),
        VarRef("F", "", "", 31),
    )
    for ref in find_references(value):
        assert value.startswith("$" + ref.name, ref.offset) or value.startswith(
            "${" + ref.name, ref.offset
        )


def test_braces_close_as_compose_counts_them() -> None:
    # compose-go counts every `${` (even after `$`) and every `}`.
    assert find_references("${A:-$${B}}") == (VarRef("A", ":-", "$${B}", 0),)
    assert find_references("${A:-{x}}") == (VarRef("A", ":-", "{x", 0),)
    assert substitute("${A:-{x}}", {}) == "{x}"
    assert substitute("${A:-$${B}}", {"A": "a"}) == "a"


def test_unbalanced_braces_are_rejected() -> None:
    # compose-go's brace count never balances here; we do not copy its regex fallback.
    with pytest.raises(InterpolationSyntaxError) as caught:
        find_references("${A:-$${}")
    assert caught.value.offset == 0


@pytest.mark.parametrize(
    ("operator", "required"),
    [
        ("", True),
        (":?", True),
        ("?", True),
        (":-", False),
        ("-", False),
        (":+", False),
        ("+", False),
    ],
)
def test_required(operator: str, required: bool) -> None:
    assert VarRef("A", operator, "", 0).required is required


@pytest.mark.parametrize(
    ("value", "offset", "message"),
    [
        ("${", 0, "unterminated reference: '${' has no matching '}'"),
        ("abc ${VAR", 4, "unterminated reference: '${' has no matching '}'"),
        ("${A:-${B}", 0, "unterminated reference: '${' has no matching '}'"),
        ("${1A}", 0, "invalid variable name in '${1A}': a name starts with a letter or '_'"),
        ("x${}", 1, "invalid variable name in '${}': a name starts with a letter or '_'"),
        (
            "${A:x}",
            0,
            "unexpected ':' after A in '${A:x}'; expected '}' or one of :- - :? ? :+ +",
        ),
        (
            "${A B}",
            0,
            "unexpected ' ' after A in '${A B}'; expected '}' or one of :- - :? ? :+ +",
        ),
        ("${A:-${1}}", 5, "invalid variable name in '${1}': a name starts with a letter or '_'"),
    ],
)
def test_syntax_errors(value: str, offset: int, message: str) -> None:
    with pytest.raises(InterpolationSyntaxError) as caught:
        find_references(value)
    assert (caught.value.offset, caught.value.message, str(caught.value)) == (
        offset,
        message,
        message,
    )
    with pytest.raises(InterpolationSyntaxError):
        substitute(value, {"A": "set"})


@pytest.mark.parametrize(
    ("value", "variables", "result"),
    [
        ("$A/${B}", {"A": "a", "B": "b"}, "a/b"),
        ("${A}", {"A": ""}, ""),
        ("$$A costs $$5", {}, "$A costs $5"),
        ("$1 and $", {}, "$1 and $"),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A:-d}", {"A": "a"}, "a"),
        ("${A-d}", {}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A-d}", {"A": "a"}, "a"),
        ("${A:+alt}", {}, ""),
        ("${A:+alt}", {"A": ""}, ""),
        ("${A:+alt}", {"A": "a"}, "alt"),
        ("${A+alt}", {}, ""),
        ("${A+alt}", {"A": ""}, "alt"),
        ("${A+alt}", {"A": "a"}, "alt"),
        ("${A:?msg}", {"A": "a"}, "a"),
        ("${A?msg}", {"A": ""}, ""),
        ("${A:-${B:-$C}}", {"C": "c"}, "c"),
        ("${A:-$${B}}", {}, "${B}"),
        ("${A:-$B}", {"A": "a"}, "a"),  # an unused default is not evaluated
        ("${A:+$B}", {}, ""),
    ],
)
def test_substitute(value: str, variables: dict[str, str], result: str) -> None:
    assert substitute(value, variables) == result


@pytest.mark.parametrize(
    ("value", "variables", "name", "message"),
    [
        ("$A", {}, "A", ""),
        ("${A}", {}, "A", ""),
        ("${A:-$B}", {}, "B", ""),
        ("${A:?set A in .env}", {}, "A", "set A in .env"),
        ("${A:?set A}", {"A": ""}, "A", "set A"),
        ("${A?set A}", {}, "A", "set A"),
        ("${A?set $B}", {"B": "it"}, "A", "set it"),
        ("${A?set $B}", {}, "A", "set $B"),
    ],
)
def test_missing_variable(value: str, variables: dict[str, str], name: str, message: str) -> None:
    with pytest.raises(MissingVariable) as caught:
        substitute(value, variables)
    assert (caught.value.name, caught.value.message) == (name, message)
    expected = f"required variable {name} is missing a value"
    assert str(caught.value) == (f"{expected}: {message}" if message else expected)


@given(TEXT.filter(lambda text: "$" not in text), st.dictionaries(NAMES, TEXT))
def test_text_without_dollar_is_unchanged(text: str, variables: dict[str, str]) -> None:
    assert substitute(text, variables) == text
    assert find_references(text) == ()


@given(TEXT, st.dictionaries(NAMES, TEXT))
def test_escaped_text_substitutes_back(text: str, variables: dict[str, str]) -> None:
    escaped = text.replace("$", "$$")
    assert find_references(escaped) == ()
    assert substitute(escaped, variables) == text


@given(NAMES, TEXT, TEXT.filter(lambda text: "{" not in text and "}" not in text))
def test_soft_default(name: str, value: str, default: str) -> None:
    template = f"${{{name}:-{default.replace('$', '$$')}}}"
    assert substitute(template, {}) == default
    assert substitute(template, {name: value}) == (value or default)
    assert find_references(template) == (VarRef(name, ":-", default.replace("$", "$$"), 0),)
