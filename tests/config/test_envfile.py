"""parse_env_file: the dotenv dialect, its problems, and that secret values never leak."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platform_lib.config.envfile import EnvEntry, EnvFile, parse_env_file
from platform_lib.errors import Location, Problem

FILE = "tenants/shop/.env.production"
FORM_HINT = (
    "write one assignment per line as KEY=value (or export KEY=value); a name starts with a "
    "letter or '_' and continues with letters, digits, '_', '.' or '-'"
)


def parse(text: str) -> EnvFile:
    return parse_env_file(text, FILE)


def only_problem(text: str) -> Problem:
    problems = parse(text).problems
    assert len(problems) == 1, problems
    return problems[0]


def test_assignments_comments_and_export() -> None:
    env = parse(
        "# settings\n"
        "\n"
        "APP_ENV=production\n"
        "export  LOG_LEVEL = info\n"
        "  INDENTED=yes  \n"
        "EMPTY=\n"
        "dotted.name-x=1\r\n"
    )
    assert env.entries == (
        EnvEntry("APP_ENV", "production", line=3, column=1, quoted=False),
        EnvEntry("LOG_LEVEL", "info", line=4, column=9, quoted=False),
        EnvEntry("INDENTED", "yes", line=5, column=3, quoted=False),
        EnvEntry("EMPTY", "", line=6, column=1, quoted=False),
        EnvEntry("dotted.name-x", "1", line=7, column=1, quoted=False),
    )
    assert env.problems == ()
    assert env.file == FILE


def test_a_key_named_export_is_not_a_prefix() -> None:
    assert parse("export=1\n").values() == {"export": "1"}


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("URL=http://x/#anchor", "http://x/#anchor"),
        ("URL=http://x/ # the site", "http://x/"),
        ("URL=a\t# tab is no comment start", "a\t# tab is no comment start"),
        ("URL=#not-a-comment", "#not-a-comment"),
        (
            "URL=   # leading blanks go first, as in Compose",
            "# leading blanks go first, as in Compose",
        ),
        ("URL=a=b", "a=b"),
        ("URL=${HOST:-localhost}", "${HOST:-localhost}"),
        ("URL=it's", "it's"),
    ],
)
def test_unquoted_values(line: str, value: str) -> None:
    env = parse(line)
    assert env.values() == {"URL": value}
    assert env.entries[0].quoted is False
    assert env.problems == ()


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("V='a #b  '", "a #b  "),
        ("V='no \\n escapes'", "no \\n escapes"),
        ("V='${LITERAL}'  # comment", "${LITERAL}"),
        ('V="line\\nbreak"', "line\nbreak"),
        ('V="say \\"hi\\""', 'say "hi"'),
        ('V="back\\\\slash"', "back\\slash"),
        ('V="other \\t \\$ kept"', "other \\t \\$ kept"),
        ('V="#x" #comment', "#x"),
        ('V = ""', ""),
    ],
)
def test_quoted_values(line: str, value: str) -> None:
    env = parse(line)
    assert env.values() == {"V": value}
    assert env.entries[0].quoted is True
    assert env.problems == ()


def test_values_last_wins_and_keys_in_first_order() -> None:
    env = parse("A=1\nB=2\nA=3\n")
    assert env.values() == {"A": "3", "B": "2"}
    assert env.keys() == ("A", "B")
    assert [e.value for e in env.entries] == ["1", "2", "3"]


def test_syntax_line_without_equals() -> None:
    assert only_problem("A=1\n  JUST_A_NAME\n") == Problem(
        Location(FILE, 2, 3), "env.syntax", "expected KEY=value but found no '='", FORM_HINT
    )


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("1ST=x", 1, "a variable name cannot start with '1'"),
        ("export MY KEY=x", 10, "a variable name cannot contain ' '"),
        ("A$B=x", 2, "a variable name cannot contain '$'"),
        ("  =x", 3, "missing variable name before '='"),
    ],
)
def test_syntax_invalid_key(line: str, column: int, message: str) -> None:
    assert only_problem(line) == Problem(
        Location(FILE, 1, column), "env.syntax", message, FORM_HINT
    )


@pytest.mark.parametrize(
    ("line", "column", "kind"),
    [
        ('A=1\nTEXT= "abc', 7, "double"),
        ("A=1\nTEXT='abc", 6, "single"),
        ('A=1\nTEXT="a\\"', 6, "double"),
    ],
)
def test_syntax_unterminated_quote(line: str, column: int, kind: str) -> None:
    problem = only_problem(line + '\nNEXT="x"\n')
    assert problem.location == Location(FILE, 2, column)
    assert problem.rule == "env.syntax"
    assert problem.message == f"unterminated {kind} quote in the value of TEXT"
    assert problem.hint.startswith("close the quote on the same line")


def test_syntax_text_after_closing_quote() -> None:
    problem = only_problem("NAME='a' b\n")
    assert problem.location == Location(FILE, 1, 10)
    assert (problem.rule, problem.message) == (
        "env.syntax",
        "unexpected text after the closing quote of NAME",
    )


def test_syntax_problems_are_all_collected_and_good_lines_kept() -> None:
    env = parse("BAD\nGOOD=1\n2BAD=x\nALSO='open\n")
    assert [(p.rule, p.location.line) for p in env.problems] == [
        ("env.syntax", 1),
        ("env.syntax", 3),
        ("env.syntax", 4),
    ]
    assert env.values() == {"GOOD": "1"}


def test_duplicate_key() -> None:
    assert only_problem("A=1\nB=2\n\n  export A=3\n") == Problem(
        Location(FILE, 4, 10),
        "env.duplicate-key",
        "A is already set on line 1",
        "remove one of the assignments; Compose would use the last one",
    )


def test_duplicate_key_names_the_first_line_each_time() -> None:
    env = parse("A=1\nA=2\nA=3\n")
    assert [p.message for p in env.problems] == [
        "A is already set on line 1",
        "A is already set on line 1",
    ]


def test_literal_secret() -> None:
    assert only_problem("APP=shop\nPAYMENT_API_KEY=sk_live_51Habc\n") == Problem(
        Location(FILE, 2, 1),
        "env.literal-secret",
        "PAYMENT_API_KEY looks like a secret but has a literal value",
        "declare PAYMENT_API_KEY under secrets: in project.yml, remove the value from "
        "tenants/shop/.env.production, and set PAYMENT_API_KEY in the deploy environment "
        "(a GitHub environment secret)",
    )


@pytest.mark.parametrize(
    "line",
    [
        "DB_PASSWORD=Xq7hunter2Zz",
        "db_password=Xq7hunter2Zz",
        "export CLIENT_SECRET='Xq7hunter2Zz'",
        'GITHUB_TOKEN="Xq7hunter2Zz" # ci',
        "SIGNING_KEY=Xq7hunter2Zz",
        "SESSION_SECRET=${ENV}Xq7hunter2Zz",
        "AUTH_TOKEN=${AUTH_TOKEN:-Xq7hunter2Zz}",
        "AUTH_TOKEN=${UNUSED:+Xq7hunter2Zz}",
        "AUTH_TOKEN='${AUTH_TOKEN}'",
        "AUTH_TOKEN=$${AUTH_TOKEN}",
        "AUTH_TOKEN=${AUTH_TOKEN",
    ],
)
def test_literal_secret_never_shows_the_value(line: str) -> None:
    env = parse(line + "\n")
    assert [p.rule for p in env.problems] == ["env.literal-secret"]
    for problem in env.problems:
        for text in (problem.message, problem.hint, str(problem.location)):
            assert "Xq7hunter2Zz" not in text
            assert "hunter" not in text


@pytest.mark.parametrize(
    "line",
    [
        "DB_PASSWORD=",
        "DB_PASSWORD=''",
        "DB_PASSWORD=${DB_PASSWORD}",
        "DB_PASSWORD=$DB_PASSWORD",
        'DB_PASSWORD="${PG_PASSWORD:?set PG_PASSWORD}"',
        "DB_PASSWORD=${PG_PASSWORD:-${FALLBACK_PASSWORD}}",
        "DB_PASSWORD=${PG_PASSWORD-}",
        "KEY=plain",  # only names *ending* in _KEY count
        "KEYS=plain",
        "MONKEY=plain",
    ],
)
def test_not_a_literal_secret(line: str) -> None:
    assert parse(line).problems == ()


def test_secret_words_match_anywhere_in_the_name() -> None:
    assert [p.rule for p in parse("TOKENIZER_MODE=fast").problems] == ["env.literal-secret"]


def test_a_line_can_have_several_problems() -> None:
    env = parse("API_KEY=${API_KEY}\nAPI_KEY=abc123\n")
    assert [(p.rule, p.location.line) for p in env.problems] == [
        ("env.duplicate-key", 2),
        ("env.literal-secret", 2),
    ]


def test_byte_order_mark_and_empty_text() -> None:
    assert parse("\ufeffA=1").values() == {"A": "1"}
    assert parse("") == EnvFile(FILE, (), ())


KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]*", fullmatch=True)
NO_NEWLINE = st.text(st.characters(exclude_characters="\n\r"))


@given(
    KEYS,
    NO_NEWLINE.filter(lambda v: v == v.strip() and " #" not in v and not v.startswith(("'", '"'))),
)
def test_unquoted_round_trip(key: str, value: str) -> None:
    env = parse(f"{key}={value}")
    assert env.entries == (EnvEntry(key, value, 1, 1, quoted=False),)
    assert {p.rule for p in env.problems} <= {"env.literal-secret"}


@given(KEYS, st.text(st.characters()))
def test_double_quoted_round_trip(key: str, value: str) -> None:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    env = parse(f'{key}="{escaped}"\n')
    assert env.entries == (EnvEntry(key, value, 1, 1, quoted=True),)
    assert {p.rule for p in env.problems} <= {"env.literal-secret"}
