"""Compose's size notation: what `mem_limit: 512m` and the platform's maximum both mean."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from platform_lib.models.sizes import MemorySize, SizeError, format_size, parse_size

KIB = 1024


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512m", 512 * KIB**2),
        ("1g", KIB**3),
        ("1G", KIB**3),
        ("1gb", KIB**3),
        ("1GiB", KIB**3),
        ("1.5g", 3 * KIB**3 // 2),
        ("100k", 100 * KIB),
        ("2 MB", 2 * KIB**2),
        ("1t", KIB**4),
        ("1p", KIB**5),
        ("1000", 1000),
        ("0", 0),
        (" 64m ", 64 * KIB**2),
        (1073741824, KIB**3),
        (0, 0),
        (-1, -1),  # Compose's "no limit": the caller refuses it
    ],
)
def test_sizes_read_as_compose_reads_them(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text", ["", "m", "1x", "1mm", "-1m", "1.g", "1e9", "1,5g", "8e", "8192p", None, True]
)
def test_what_is_not_a_size(text: object) -> None:
    with pytest.raises(SizeError):
        parse_size(text)


@given(st.integers(min_value=1, max_value=2**53))  # beyond, Compose's float drops digits too
def test_format_size_reads_back_to_the_same_bytes(size: int) -> None:
    assert parse_size(format_size(size)) == size


@given(st.integers(min_value=0, max_value=2**20), st.sampled_from(["", "k", "m", "g", "t"]))
def test_a_whole_number_with_a_unit_is_that_many_units(number: int, unit: str) -> None:
    factor = KIB ** ("kmgt".index(unit) + 1) if unit else 1
    assert parse_size(f"{number}{unit}") == number * factor
    assert parse_size(f"{number}{unit.upper()}iB") == number * factor


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=999))
def test_a_fraction_is_truncated_after_the_float_product_as_in_compose(
    whole: int, thousandths: int
) -> None:
    text = f"{whole}.{thousandths:03d}"
    assert parse_size(f"{text}m") == int(float(text) * KIB**2)
    assert abs(parse_size(f"{text}m") - (whole * 1000 + thousandths) * KIB**2 / 1000) <= 1


def test_format_size_names_the_largest_exact_unit() -> None:
    assert [format_size(n) for n in (512 * KIB**2, 4 * KIB**3, 1536 * KIB, 1000)] == [
        "512m",
        "4g",
        "1536k",
        "1000",
    ]


def test_a_memory_limit_is_above_zero() -> None:
    adapter: TypeAdapter[int] = TypeAdapter(MemorySize)
    assert adapter.validate_python("512m") == 512 * KIB**2
    for no_limit in ("0", 0, -1):
        with pytest.raises(ValidationError):
            adapter.validate_python(no_limit)
