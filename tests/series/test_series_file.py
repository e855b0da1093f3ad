"""Series files: the README's exact TOML loads, round-trips are lossless, errors name the line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given

from balint_cme import Series
from balint_cme.errors import DataFileError
from balint_cme.io.series_file import (
    format_series,
    load_series,
    parse_series,
    save_series,
    series_schema,
)
from balint_cme.testing import series
from tests.conftest import EXAMPLES


def test_example_series_loads_with_the_seed_values(series_2020: Series) -> None:
    assert series_2020.title == "2020 Balint Group"
    assert series_2020.provider.accredited == "Fresno Madera Medical Society"
    assert series_2020.provider.joint == ("Sierra Sacramento Valley Medical Society",)
    assert series_2020.credit.per_session == Decimal("1.00")
    assert series_2020.credit.series_maximum == Decimal("5.00")
    assert len(series_2020.sessions) == 5
    assert [f.name for f in series_2020.facilitators] == ["Rochelle Frank", "Marissa Pierce"]
    assert series_2020.participants[1].aliases == ("Zoe Angstrom",)


def test_tbd_series_loads_with_undated_sessions(series_2023: Series) -> None:
    assert len(series_2023.sessions) == 4
    assert not any(s.is_dated for s in series_2023.sessions)
    assert series_2023.eligibility == "physicians"
    assert series_2023.schedule_note == "Monthly, 6:45-7:45 PM Pacific. Dates: 2023 TBD"


def test_credits_may_be_numbers_instead_of_strings(tmp_path: Path) -> None:
    text = (EXAMPLES / "ssvms-balint-2020.toml").read_text(encoding="utf-8")
    text = text.replace('per_session = "1.0"', "per_session = 1.0").replace(
        'series_maximum = "5.0"', "series_maximum = 5"
    )
    path = tmp_path / "numbers.toml"
    path.write_text(text, encoding="utf-8")
    assert load_series(path).credit.series_maximum == Decimal("5.00")


def test_explicit_sessions_load_with_their_own_duration_and_credit(tmp_path: Path) -> None:
    text = (EXAMPLES / "ssvms-balint-2020.toml").read_text(encoding="utf-8")
    text = text.replace('series_maximum = "5.0"', 'series_maximum = "2.5"')
    head, _, tail = text.partition("[schedule]")
    tail = tail.split("[[facilitators]]", 1)[1]
    text = (
        head
        + '[[sessions]]\nstart = 2021-11-18T19:00:00\nduration_minutes = 90\ncredit = "1.5"\n\n'
        + "[[sessions]]\nstart = 2021-12-16T19:00:00\n\n[[facilitators]]"
        + tail
    )
    path = tmp_path / "explicit.toml"
    path.write_text(text, encoding="utf-8")
    loaded = load_series(path)
    assert [s.duration_minutes for s in loaded.sessions] == [90, 60]
    assert [s.credit for s in loaded.sessions] == [Decimal("1.50"), Decimal("1.00")]
    assert load_series(path) == parse_series(format_series(loaded), Path("again.toml"))


@pytest.mark.parametrize("name", ["ssvms-balint-2020.toml", "ssvms-balint-2023.toml"])
@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_example_series_survive_save_and_load(tmp_path: Path, name: str, suffix: str) -> None:
    original = load_series(EXAMPLES / name)
    path = tmp_path / f"copy{suffix}"
    save_series(original, path)
    assert load_series(path) == original


@given(series())
def test_any_series_survives_toml_and_json_round_trips(subject: Series) -> None:
    for name in ("s.toml", "s.json"):
        as_json = name.endswith(".json")
        assert parse_series(format_series(subject, as_json=as_json), Path(name)) == subject
    assert Series.model_validate_json(subject.model_dump_json()) == subject


def test_bad_value_names_file_line_and_field(tmp_path: Path) -> None:
    text = (EXAMPLES / "ssvms-balint-2020.toml").read_text(encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('credentials = "NP"', 'credentials = ""'), encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_series(path)
    lines = text.splitlines()
    expected_line = lines.index('credentials = "NP"') + 1
    assert caught.value.line == expected_line
    assert str(caught.value).startswith(f"{path} line {expected_line}: participants[3].credentials")


def test_every_problem_is_listed(tmp_path: Path) -> None:
    text = (EXAMPLES / "ssvms-balint-2020.toml").read_text(encoding="utf-8")
    text = text.replace('timezone = "America/Los_Angeles"', 'timezone = "Mars/Olympus"')
    text = text.replace('per_session = "1.0"', 'per_session = "0.3"')
    path = tmp_path / "two.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_series(path)
    assert len(caught.value.problems) == 2
    assert "timezone" in caught.value.problems[0]
    assert "credit.per_session" in caught.value.problems[1]


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "syntax.toml"
    path.write_text('id = "x"\ntitle = \n', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"syntax\.toml line 2: not valid TOML"):
        load_series(path)


def test_missing_file_is_a_data_file_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read file"):
        load_series(tmp_path / "absent.toml")


def test_physicians_only_file_with_a_nurse_names_the_person(tmp_path: Path) -> None:
    text = (EXAMPLES / "ssvms-balint-2023.toml").read_text(encoding="utf-8")
    text += '\n[[participants]]\nid = "p13"\nname = "Grace Lindqvist"\ncredentials = "NP"\n'
    path = tmp_path / "nurse.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError, match=r"Grace Lindqvist \(p13, NP\) cannot enroll"):
        load_series(path)


def test_schedule_error_in_file_is_reported_as_data_file_error(tmp_path: Path) -> None:
    text = (EXAMPLES / "ssvms-balint-2020.toml").read_text(encoding="utf-8")
    path = tmp_path / "rule.toml"
    path.write_text(text.replace("BYDAY=+2WE", "BYDAY=+2XX"), encoding="utf-8")
    with pytest.raises(DataFileError, match="BYDAY"):
        load_series(path)


def test_schema_describes_the_file() -> None:
    schema = series_schema()
    assert schema["title"] == "balint_cme series file"
    assert {"id", "title", "timezone", "provider", "credit"} <= set(schema["required"])
    json.dumps(schema)  # serialisable as published


def test_explicit_session_in_a_daylight_saving_gap_names_the_time(tmp_path: Path) -> None:
    text = (EXAMPLES / "ssvms-balint-2020.toml").read_text(encoding="utf-8")
    head, _, tail = text.partition("[schedule]")
    tail = tail.split("[[facilitators]]", 1)[1]
    text = head.replace('series_maximum = "5.0"', 'series_maximum = "1.0"')
    text += "[[sessions]]\nstart = 2021-03-14T02:30:00\n\n[[facilitators]]" + tail
    path = tmp_path / "gap.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        DataFileError, match="2021-03-14 02:30 does not exist in America/Los_Angeles"
    ):
        load_series(path)
