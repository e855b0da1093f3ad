"""Hostile and broken series files: the only exception is DataFileError, naming the file.

Each property records how many inputs it tried (see `note` output with -s, and the counts in
the README's hardening section come from `hypothesis --hypothesis-show-statistics`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balint_cme.errors import DataFileError
from balint_cme.io.series_file import MAX_SERIES_FILE_BYTES, load_series, parse_series
from tests.conftest import EXAMPLES
from tests.strategies import mutate_bytes

VALID_TOML = (EXAMPLES / "ssvms-balint-2020.toml").read_bytes()


def _parse_or_data_error(data: bytes, name: str) -> None:
    """Parse; a failure must be our error, naming the file, with its problems listed."""
    problem: DataFileError | None = None
    try:
        parse_series(data, Path(name))
    except DataFileError as err:
        problem = err
    if problem is not None:
        assert str(problem).startswith(name)
        assert problem.problems


@given(st.binary(max_size=4096), st.sampled_from(["s.toml", "s.json"]))
def test_random_bytes_raise_only_data_file_error(data: bytes, name: str) -> None:
    _parse_or_data_error(data, name)


@given(st.data())
def test_mutated_valid_file_raises_only_data_file_error(data: st.DataObject) -> None:
    _parse_or_data_error(mutate_bytes(data, VALID_TOML, widest=1), "mutated.toml")


@given(st.text(max_size=300))
def test_any_text_value_in_a_field_raises_only_data_file_error(value: str) -> None:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    text = VALID_TOML.decode("utf-8").replace('"Ana Ruiz"', f'"{escaped}"')
    _parse_or_data_error(text.encode("utf-8", "surrogatepass"), "field.toml")


@pytest.mark.parametrize("depth", [50, 5000])
def test_deeply_nested_json_is_refused_cleanly(depth: int) -> None:
    data = ("[" * depth + "]" * depth).encode()
    with pytest.raises(DataFileError, match=r"deep\.json"):
        parse_series(data, Path("deep.json"))


@pytest.mark.parametrize("depth", [50, 5000])
def test_deeply_nested_toml_is_refused_cleanly(depth: int) -> None:
    data = ("x = " + "[" * depth + "]" * depth + "\n").encode()
    with pytest.raises(DataFileError, match=r"deep\.toml"):
        parse_series(data, Path("deep.toml"))


def test_huge_field_is_refused_with_the_field_named() -> None:
    text = VALID_TOML.decode("utf-8").replace('"Ana Ruiz"', '"' + "A" * 100_000 + '"')
    with pytest.raises(DataFileError, match="participants"):
        parse_series(text.encode(), Path("huge.toml"))


def test_file_larger_than_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    with path.open("wb") as handle:
        handle.truncate(MAX_SERIES_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(DataFileError, match="a series file is at most"):
        load_series(path)


def test_directory_instead_of_file_is_a_data_file_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="is a directory"):
        load_series(tmp_path)


def test_wrong_encoding_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(VALID_TOML.decode("utf-8").encode("latin-1", "replace"))
    with pytest.raises(DataFileError, match="is not UTF-8 text"):
        load_series(path)


@settings(max_examples=20)
@given(st.sampled_from(["s.toml", "s.json"]))
def test_utf16_file_is_refused_as_not_utf8(name: str) -> None:
    with pytest.raises(DataFileError, match="not UTF-8"):
        parse_series(VALID_TOML.decode("utf-8").encode("utf-16"), Path(name))
