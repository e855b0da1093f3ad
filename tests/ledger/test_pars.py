"""PARS learner export: consent, missing identifiers, the column map, TSV/XLSX, formula safety."""

from __future__ import annotations

import io
import stat
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from pydantic import ValidationError

from balint_cme import AttendanceRegister, CreditAward, DataFileError, Series, award_series
from balint_cme.io.pars import (
    PARS_FIELDS,
    ParsColumns,
    ParsReport,
    build_pars_report,
    format_pars_tsv,
    load_pars_columns,
    render_pars_xlsx,
    save_pars_export,
    split_name,
)
from balint_cme.storage import neutralise_cell
from tests.conftest import attend

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def columns() -> ParsColumns:
    return load_pars_columns()


def pars_series(series: Series, **p01: object) -> Series:
    """series_2020 with reporting details: p01 complete, p02 with an NPI but no birth date."""
    people = {p.id: p for p in series.participants}
    ana = people["p01"].evolve(
        license_state="CA", license_number="A123456", birth_month=7, birth_day=4, **p01
    )
    # The example roster gives p02 a licence and a birth date: cleared, so she has an NPI only.
    zoe = people["p02"].evolve(
        npi="1234567893",
        license_state=None,
        license_number=None,
        birth_month=None,
        birth_day=None,
    )
    return series.evolve(
        participants=tuple(
            ana if p.id == "p01" else zoe if p.id == "p02" else p for p in series.participants
        )
    )


def awards_of(series: Series) -> tuple[CreditAward, ...]:
    records = [attend(series, pid, n, 0, 60) for pid in ("p01", "p02", "p03") for n in (1, 2)]
    records.append(attend(series, "p01", 3, 0, 45))
    return award_series(series, AttendanceRegister(records))


def report_for(series: Series, consenting: set[str], columns: ParsColumns) -> ParsReport:
    return build_pars_report(
        [(series, awards_of(series))],
        consenting,
        activity_ids={series.id: "202612345"},
        columns=columns,
    )


# ---------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ana Ruiz", ("Ana", "Ruiz")),
        ("Zoë Ångström", ("Zoë", "Ångström")),
        ("Mary Ann  Lopez-Smith", ("Mary Ann", "Lopez-Smith")),
        ("Anna van der Berg", ("Anna", "van der Berg")),
        ("Luis King Jr.", ("Luis", "King Jr.")),
        ("Ruiz, Ana María", ("Ana María", "Ruiz")),
        ("van Morrison", ("van", "Morrison")),
        ("Cher", None),
        (", Ana", None),
    ],
)
def test_split_name_follows_the_documented_rule(
    name: str, expected: tuple[str, str] | None
) -> None:
    assert split_name(name) == expected


@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzÅé-'", min_size=1), min_size=2))
def test_split_name_keeps_every_word_in_order(words: list[str]) -> None:
    parts = split_name(" ".join(words))
    assert parts is not None
    first, last = parts
    assert first
    assert last
    assert f"{first} {last}".split() == words


# ---------------------------------------------------------------------------------------------
# Rows and the report


def test_pars_rows_only_for_consenting_physicians_with_credit(
    series_2020: Series, columns: ParsColumns
) -> None:
    series = pars_series(series_2020)
    report = report_for(series, {"p01", "p03"}, columns)
    (ana,) = report.learners
    assert (ana.first_name, ana.last_name) == ("Ana", "Ruiz")
    assert ana.birth_month_day == "07/04"
    assert ana.credits == Decimal("2.75")
    assert ana.completion_date == date(2020, 11, 11)  # session 3, the last attended for credit
    assert ana.activity_id == "202612345"
    assert report.without_consent == ((series.id, "p02"),)  # p03 is an NP: not reported
    assert report.missing == ()


def test_learners_missing_an_identifier_are_reported_not_dropped(
    series_2020: Series, columns: ParsColumns
) -> None:
    series = pars_series(series_2020)
    people = [p.evolve(license_state=None, license_number=None) for p in series.participants]
    report = report_for(series.evolve(participants=tuple(people)), {"p01", "p02"}, columns)
    assert report.learners == ()
    by_id = {problem.participant_id: problem for problem in report.missing}
    assert by_id["p01"].missing == ("licence state and ID, or NPI",)
    assert by_id["p02"].missing == ("birth month/day",)
    assert by_id["p01"].describe().startswith("Ana Ruiz (p01, ssvms-balint-2020): missing licence")


def test_npi_alone_is_an_identifier(series_2020: Series, columns: ParsColumns) -> None:
    series = pars_series(series_2020)
    people = [
        p.evolve(birth_month=1, birth_day=31) if p.id == "p02" else p for p in series.participants
    ]
    report = report_for(series.evolve(participants=tuple(people)), {"p02"}, columns)
    (zoe,) = report.learners
    assert (zoe.npi, zoe.license_number) == ("1234567893", None)


def test_given_and_family_name_override_the_split(
    series_2020: Series, columns: ParsColumns
) -> None:
    series = pars_series(series_2020, given_name="Ana María", family_name="Ruiz Gómez")
    (ana,) = report_for(series, {"p01"}, columns).learners
    assert (ana.first_name, ana.last_name) == ("Ana María", "Ruiz Gómez")


def test_a_single_word_name_is_reported_as_missing_its_parts(
    series_2020: Series, columns: ParsColumns
) -> None:
    series = pars_series(series_2020, name="Ana")
    (problem,) = report_for(series, {"p01"}, columns).missing
    assert problem.missing[0].startswith("first name")


# ---------------------------------------------------------------------------------------------
# Writing


def test_tsv_has_the_mapped_columns_in_order(series_2020: Series, columns: ParsColumns) -> None:
    text = format_pars_tsv(report_for(pars_series(series_2020), {"p01"}, columns), columns)
    header, row, end = text.split("\r\n")
    assert end == ""
    assert header.split("\t") == [c.header for c in columns.columns]
    assert row.split("\t") == [
        "202612345",
        "Ana",
        "Ruiz",
        "7",
        "4",
        "CA",
        "A123456",
        "",
        "11/11/2020",
        "2.75",
        "AMA PRA Category 1 Credit",
    ]


def test_xlsx_holds_the_same_rows_with_numbers_as_numbers(
    series_2020: Series, columns: ParsColumns
) -> None:
    report = report_for(pars_series(series_2020), {"p01"}, columns)
    sheet = load_workbook(io.BytesIO(render_pars_xlsx(report, columns))).active
    assert sheet is not None
    assert sheet.title == "Learners"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(c.header for c in columns.columns)
    assert rows[1][1:3] == ("Ana", "Ruiz")
    assert rows[1][3] == 7
    assert rows[1][9] == 2.75


def test_hostile_names_are_neutralised_in_tsv_and_xlsx(
    series_2020: Series, columns: ParsColumns
) -> None:
    hostile = {
        "given_name": '=HYPERLINK("http://example.com","x")',
        "family_name": "+1 cmd|' /C calc'!A0",
    }
    with pytest.raises(ValidationError, match="U\\+0009"):  # a tab is refused in a name
        pars_series(series_2020, family_name="+1\tcmd")
    report = report_for(pars_series(series_2020, **hostile), {"p01"}, columns)
    row = format_pars_tsv(report, columns).split("\r\n")[1].split("\t")
    assert len(row) == len(columns.columns)
    assert row[1] == "'" + hostile["given_name"]
    assert row[2] == "'+1 cmd|' /C calc'!A0"
    sheet = load_workbook(io.BytesIO(render_pars_xlsx(report, columns))).active
    assert sheet is not None
    cells = next(iter(sheet.iter_rows(min_row=2)))
    assert all(cell.data_type != "f" for cell in cells)
    assert cells[1].value == "'" + hostile["given_name"]


@given(st.text(min_size=1, max_size=30).filter(lambda t: t.strip() != ""))
def test_no_exported_text_cell_starts_like_a_formula(text: str) -> None:
    cell = neutralise_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell.removeprefix("'") == text or cell == text


def test_save_pars_export_writes_owner_only_files(
    series_2020: Series, columns: ParsColumns, tmp_path: Path
) -> None:
    report = report_for(pars_series(series_2020), {"p01"}, columns)
    for name in ("pars.txt", "pars.tsv", "pars.xlsx"):
        save_pars_export(tmp_path / name, report, columns)
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert (tmp_path / "pars.txt").read_text(encoding="utf-8").startswith("Activity ID\t")
    with pytest.raises(DataFileError, match=r"\.xlsx, \.txt or \.tsv"):
        save_pars_export(tmp_path / "pars.csv", report, columns)


# ---------------------------------------------------------------------------------------------
# The column map


def test_the_packaged_column_map_names_only_known_fields(columns: ParsColumns) -> None:
    fields = {c.field for c in columns.columns if c.field is not None}
    assert fields <= set(PARS_FIELDS)
    assert "identifier" in columns.required


def test_a_user_column_map_changes_the_layout_without_code(
    series_2020: Series, tmp_path: Path
) -> None:
    path = tmp_path / "columns.toml"
    path.write_text(
        'format = "balint-cme-pars-columns/1"\n'
        'date_format = "%Y-%m-%d"\n'
        'required = ["last_name", "identifier"]\n'
        '[[columns]]\nheader = "Surname"\nfield = "last_name"\n'
        '[[columns]]\nheader = "DOB"\nfield = "birth_month_day"\n'
        '[[columns]]\nheader = "Done"\nfield = "completion_date"\n'
        '[[columns]]\nheader = "Provider"\nvalue = "FMMS"\n',
        encoding="utf-8",
    )
    columns = load_pars_columns(path)
    text = format_pars_tsv(report_for(pars_series(series_2020), {"p01"}, columns), columns)
    assert text.split("\r\n")[:2] == [
        "Surname\tDOB\tDone\tProvider",
        "Ruiz\t07/04\t2020-11-11\tFMMS",
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('format = "other/1"\n[[columns]]\nheader = "A"\nfield = "npi"\n', "format"),
        ('format = "balint-cme-pars-columns/1"\n[[columns]]\nheader = "A"\nfield = "dob"\n', "dob"),
        ('format = "balint-cme-pars-columns/1"\n[[columns]]\nheader = "A"\n', "exactly one"),
        (
            'format = "balint-cme-pars-columns/1"\nrequired = ["ssn"]\n[[columns]]\nheader = "A"\nvalue = ""\n',
            "ssn",
        ),
        ("format = [unclosed\n", "not valid TOML"),
    ],
)
def test_a_bad_column_map_is_a_data_file_error_naming_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "columns.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFileError, match=problem) as caught:
        load_pars_columns(path)
    assert str(path) in str(caught.value)


def test_a_missing_column_map_is_a_data_file_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read"):
        load_pars_columns(tmp_path / "absent.toml")
