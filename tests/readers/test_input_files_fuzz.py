"""Hostile and broken input to the loaders not fuzzed elsewhere: key files, the PARS column map,
certificate PDFs given to verify, and ledger files with hand-made JSON; plus size limits that
hold for files that have no size (devices, pipes).

Series files, meeting reports and damaged ledger bytes have their own fuzz tests
(test_series_file_fuzz.py, test_reports.py, test_ledger.py); scripts/fuzz-stats counts the
examples every fuzz test tried.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfWriter

from balint_cme.certificates.keys import SigningKey, load_key, load_key_ring
from balint_cme.certificates.pdf import render_pdf
from balint_cme.certificates.verification import MAX_PDF_BYTES, METADATA_KEY, verify_pdf
from balint_cme.errors import BalintCmeError, DataFileError, VerificationError
from balint_cme.io.pars import (
    PARS_FIELDS,
    ParsColumns,
    ParsLearner,
    ParsReport,
    format_pars_tsv,
    load_pars_columns,
    render_pars_xlsx,
)
from balint_cme.io.series_file import MAX_SERIES_FILE_BYTES, load_series
from balint_cme.ledger import Ledger
from balint_cme.workflow import certify, read_pdf_bytes
from tests.certificate_helpers import OTHER_KEY, TEST_KEY, certificate_for
from tests.command_helpers import REPORTS_2020, SERIES_2020
from tests.conftest import ROOT
from tests.strategies import mutate_bytes

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

_SCRATCH = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the generated files of a module's examples (hypothesis reuses it)."""
    return tmp_path_factory.mktemp("fuzz")


def _private_file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    os.chmod(path, 0o600)
    return path


# ---------------------------------------------------------------------------------------------
# Key files

_SECRET = hashlib.sha256(b"balint-cme fuzz key, never a real one").digest()
_SECRET_TEXT = base64.urlsafe_b64encode(_SECRET).decode("ascii").rstrip("=")
_ORIGINAL_MAC = SigningKey("fuzz", _SECRET).mac(b"x")
KEY_FILE = (
    "# balint-cme certificate signing key.\n"
    'format = "balint-cme-key/1"\n'
    'key_id = "fuzz"\n'
    f'secret = "{_SECRET_TEXT}"\n'
).encode()


def _load_key_or_refuse(path: Path) -> SigningKey | None:
    """load_key(); a refusal must be our error naming the file and must not show the secret."""
    try:
        return load_key(path)
    except (DataFileError, VerificationError) as err:
        message = str(err)
        assert str(path) in message
        assert "\n" not in message
        for start in range(0, len(_SECRET_TEXT) - 8, 4):  # no 8-character piece of it
            assert _SECRET_TEXT[start : start + 8] not in message
        return None


def test_the_unmutated_key_file_loads(scratch: Path) -> None:
    key = load_key(_private_file(scratch, "good.key", KEY_FILE))
    assert key == SigningKey("fuzz", _SECRET)


@_SCRATCH
@given(st.binary(max_size=5000))
def test_any_bytes_as_a_key_file_raise_only_our_errors(scratch: Path, data: bytes) -> None:
    assert _load_key_or_refuse(_private_file(scratch, "random.key", data)) is None


@_SCRATCH
@given(st.data())
def test_a_mutated_key_file_raises_only_our_errors_and_never_shows_the_secret(
    scratch: Path, data: st.DataObject
) -> None:
    path = _private_file(scratch, "mutated.key", mutate_bytes(data, KEY_FILE))
    key = _load_key_or_refuse(path)
    event("refused" if key is None else "loaded")
    if key is not None:  # a comment or spacing changed, or the secret became another secret
        assert load_key(path) == key
        assert (key == SigningKey("fuzz", _SECRET)) == (key.mac(b"x") == _ORIGINAL_MAC)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("x = " + "[" * 2000 + "]" * 2000, "nested too deeply"),
        ("x = " + "{a = " * 600 + "1" + "}" * 600, "not a key file"),
        (KEY_FILE.decode() + "# " + "x" * 5000 + "\n", "larger than 4096 bytes"),
        (KEY_FILE.decode().replace(_SECRET_TEXT, _SECRET_TEXT * 100)[:4000], "not a key file"),
    ],
    ids=["nested-arrays", "nested-tables", "over-4k", "huge-secret"],
)
def test_deep_or_huge_key_files_are_refused_by_name(
    scratch: Path, content: str, problem: str
) -> None:
    path = _private_file(scratch, "odd.key", content.encode())
    with pytest.raises(BalintCmeError, match=problem) as caught:
        load_key(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "latin-1"])
def test_a_key_file_in_another_encoding_is_refused_or_read_alike(
    scratch: Path, encoding: str
) -> None:
    path = _private_file(scratch, f"{encoding}.key", KEY_FILE.decode().encode(encoding))
    if encoding == "latin-1":  # the file is ASCII: the same bytes
        assert load_key(path) == SigningKey("fuzz", _SECRET)
    else:
        with pytest.raises(DataFileError, match="not UTF-8"):
            load_key(path)


def test_a_key_ring_folder_with_one_bad_file_names_that_file(scratch: Path) -> None:
    folder = scratch / "ring"
    folder.mkdir()
    _private_file(folder, "good.key", KEY_FILE)
    bad = _private_file(folder, "bad.key", b"\x00\xff" * 10)
    with pytest.raises(DataFileError) as caught:
        load_key_ring([folder])
    assert caught.value.path == bad


# ---------------------------------------------------------------------------------------------
# The PARS column map

PACKAGED_COLUMNS = (ROOT / "src" / "balint_cme" / "io" / "pars_columns.toml").read_bytes()
_LEARNER = ParsLearner(
    activity_id="=cmd|' /C calc'!A0",
    activity_title="+Balint",
    series_id="s-1",
    participant_id="p01",
    first_name="-Ana",
    last_name="@Ruiz",
    birth_month=4,
    birth_day=17,
    license_state="CA",
    license_number="\tA123456",
    npi=None,
    email="\rana@example.org",
    completion_date=date(2020, 11, 11),
    credits=Decimal("4.75"),
    credit_type="AMA PRA Category 1 Credit",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _export_both_ways(columns: ParsColumns) -> None:
    """A loaded map always exports: no text cell starts like a formula; the .xlsx reopens."""
    report = ParsReport(learners=(_LEARNER,), missing=(), without_consent=())
    for line in format_pars_tsv(report, columns).split("\r\n")[:-1]:
        for text in line.split("\t"):
            assert not text.startswith(_FORMULA_STARTS), text
    sheet = load_workbook(io.BytesIO(render_pars_xlsx(report, columns))).active
    assert sheet is not None
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(_FORMULA_STARTS), cell.value


def _columns_or_refusal(path: Path) -> ParsColumns | None:
    problem: DataFileError | None = None
    try:
        columns = load_pars_columns(path)
    except DataFileError as err:
        problem = err
    if problem is not None:
        assert problem.path == path
        assert str(problem).startswith(str(path))
        event("refused")
        return None
    event("loaded and exported")
    _export_both_ways(columns)
    return columns


@_SCRATCH
@given(st.binary(max_size=3000))
def test_any_bytes_as_a_column_map_raise_only_data_file_error(scratch: Path, data: bytes) -> None:
    _columns_or_refusal(_private_file(scratch, "random.toml", data))


@_SCRATCH
@given(st.data())
def test_a_mutated_column_map_is_refused_or_exports_safely(
    scratch: Path, data: st.DataObject
) -> None:
    _columns_or_refusal(
        _private_file(scratch, "mutated.toml", mutate_bytes(data, PACKAGED_COLUMNS))
    )


_TOML_VALUES = st.recursive(
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=40)
    | st.sampled_from(["%m/%d/%Y", "npi", "identifier", "first_name", "Learners", "'x", "=1+1"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@_SCRATCH
@given(
    st.fixed_dictionaries(
        {"format": st.just("balint-cme-pars-columns/1")},
        optional={
            "date_format": _TOML_VALUES,
            "sheet_name": _TOML_VALUES,
            "required": _TOML_VALUES,
            "columns": st.lists(
                st.fixed_dictionaries(
                    {"header": _TOML_VALUES},
                    optional={"field": _TOML_VALUES, "value": _TOML_VALUES},
                ),
                max_size=5,
            ),
        },
    )
)
def test_any_column_map_document_is_refused_or_exports_safely(
    scratch: Path, document: dict[str, Any]
) -> None:
    text = tomli_w.dumps(document)
    _columns_or_refusal(_private_file(scratch, "document.toml", text.encode()))


_CELL_TEXT = st.text(max_size=30) | st.sampled_from(["=SUM(A1)", "+1", "-1", "@x", "\tx", "\rx"])


@_SCRATCH
@given(
    columns=st.lists(
        st.tuples(_CELL_TEXT, st.none() | st.sampled_from(PARS_FIELDS), _CELL_TEXT),
        min_size=1,
        max_size=6,
    ),
    sheet_name=st.text(min_size=1, max_size=31),
    date_format=st.text(max_size=12).map(lambda text: "%d" + text),
)
def test_a_column_map_with_any_headers_and_values_exports_no_formula(
    scratch: Path, columns: list[tuple[str, str | None, str]], sheet_name: str, date_format: str
) -> None:
    document = {
        "format": "balint-cme-pars-columns/1",
        "date_format": date_format,
        "sheet_name": sheet_name,
        "columns": [
            {"header": header, "field": field} if field else {"header": header, "value": value}
            for header, field, value in columns
        ],
    }
    text = tomli_w.dumps(document)
    _columns_or_refusal(_private_file(scratch, "hostile.toml", text.encode()))


@pytest.mark.parametrize(
    "content",
    [
        "x = " + "[" * 5000 + "]" * 5000,
        "x = " + "{a = " * 2000 + "1" + "}" * 2000,
        'format = "balint-cme-pars-columns/1"\n[[columns]]\nheader = "' + "H" * 100_000 + '"\n',
        "# " + "x" * 300_000,
    ],
    ids=["nested-arrays", "nested-tables", "huge-header", "over-256k"],
)
def test_deep_or_huge_column_maps_are_refused_by_name(scratch: Path, content: str) -> None:
    path = _private_file(scratch, "odd.toml", content.encode())
    with pytest.raises(DataFileError) as caught:
        load_pars_columns(path)
    assert caught.value.path == path


@pytest.mark.parametrize("sheet_name", ["a\x00b", "tab\there", "\x7f"])
def test_a_sheet_name_that_would_corrupt_the_workbook_is_refused(
    scratch: Path, sheet_name: str
) -> None:
    text = PACKAGED_COLUMNS.decode().replace(
        'sheet_name = "Learners"', f"sheet_name = {json.dumps(sheet_name)}"
    )
    with pytest.raises(DataFileError, match="sheet_name"):
        load_pars_columns(_private_file(scratch, "sheet.toml", text.encode()))


# ---------------------------------------------------------------------------------------------
# Certificate PDFs given to verify


@pytest.fixture(scope="module")
def genuine_pdf(series_2020: Any) -> bytes:
    return render_pdf(certificate_for(series_2020), key=TEST_KEY)


def _verify_never_raises(data: bytes, genuine: bytes) -> None:
    """verify_pdf returns a result for any bytes; "valid" only for the genuine claims."""
    result = verify_pdf(data, [TEST_KEY, OTHER_KEY])
    event(result.status)
    if result.is_valid:
        original = verify_pdf(genuine, TEST_KEY)
        assert result.claims == original.claims
        assert result.code == original.code


@given(st.binary(max_size=4000))
def test_any_bytes_given_to_verify_are_unknown(data: bytes) -> None:
    result = verify_pdf(data, TEST_KEY)
    assert result.status == "unknown"
    assert result.problems


@settings(max_examples=60)
@given(st.data())
def test_a_mutated_certificate_never_verifies_other_claims(
    genuine_pdf: bytes, data: st.DataObject
) -> None:
    _verify_never_raises(mutate_bytes(data, genuine_pdf, most=6), genuine_pdf)


def _pdf_with_claims(record: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({METADATA_KEY: record})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["format", "claims", "seal", "name", "number", "key_id", "code"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=15,
)


@settings(max_examples=40)
@given(_JSON)
def test_any_embedded_claims_document_is_never_valid(document: object) -> None:
    result = verify_pdf(_pdf_with_claims(json.dumps(document)), TEST_KEY)
    assert result.status in ("unknown", "altered", "wrong-key")


@pytest.mark.parametrize("depth", [50, 100_000])
def test_deeply_nested_embedded_claims_are_reported_not_raised(depth: int) -> None:
    result = verify_pdf(_pdf_with_claims("[" * depth + "]" * depth), TEST_KEY)
    assert result.status in ("unknown", "altered")


# ---------------------------------------------------------------------------------------------
# Ledger files holding hand-made JSON


@pytest.fixture(scope="module")
def certified_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A ledger after a real certify run of the 2020 example (six certificates)."""
    folder = tmp_path_factory.mktemp("ledger")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BALINT_CME_CACHE_DIR", str(ROOT / ".venv" / "balint-cme-cache"))
        with Ledger.open(folder / "ledger.sqlite3") as ledger:
            certify(
                SERIES_2020,
                [(path, None) for path in REPORTS_2020],
                folder / "out",
                key=TEST_KEY,
                ledger=ledger,
                issued_on=date(2021, 1, 20),
                actor="fuzz",
                workers=1,
            )
        yield folder / "ledger.sqlite3"


def _json_cells(path: Path) -> list[tuple[str, str, int]]:
    """(table, column, rowid) of one stored JSON array or object per column."""
    connection = sqlite3.connect(path)
    cells = []
    try:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            columns = [r[1] for r in connection.execute(f"PRAGMA table_info({table})")]
            for column in columns:
                row = connection.execute(
                    f"SELECT rowid FROM {table} WHERE substr({column}, 1, 1) IN ('[', '{{') "
                    "AND typeof({column}) = 'text' LIMIT 1".replace("{column}", column)
                ).fetchone()
                if row is not None:
                    cells.append((table, column, row[0]))
    finally:
        connection.close()
    return cells


def test_the_ledger_holds_json_in_the_expected_columns(certified_ledger: Path) -> None:
    found = {(table, column) for table, column, _ in _json_cells(certified_ledger)}
    assert {("audit", "details"), ("audit", "changes"), ("certificates", "claims")} <= found


def _use(path: Path) -> BalintCmeError | None:
    try:
        with Ledger.open(path, create=False, timeout_seconds=1) as ledger:
            ledger.check_chain()
            numbers = [c.number for c in ledger.certificates()]
            for number in numbers[:2]:
                ledger.status(number)
            for certificate in ledger.certificates(state="issued")[:2]:
                if certificate.verification_code:
                    ledger.certificate_by_code(certificate.verification_code)
            ledger.attendance_for("p01")
            ledger.find_people("Ana Ruiz")
            ledger.audit_events()
            ledger.consenting()
    except BalintCmeError as err:  # anything else fails the test
        return err
    return None


@pytest.mark.parametrize("depth", [3, 100_000])
def test_hand_made_json_in_any_ledger_column_raises_only_our_errors(
    certified_ledger: Path, depth: int
) -> None:
    cells = _json_cells(certified_ledger)
    assert cells
    with tempfile.TemporaryDirectory() as folder:
        for table, column, rowid in cells:
            copy = Path(folder) / f"{table}-{column}.sqlite3"
            shutil.copy(certified_ledger, copy)
            connection = sqlite3.connect(copy)
            connection.execute(
                f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                ("[" * depth + "]" * depth, rowid),
            )
            connection.commit()
            connection.close()
            _use(copy)


# ---------------------------------------------------------------------------------------------
# Size limits hold for files without a size: a pipe says 0 bytes and may never end


class _Stream:
    """A named pipe fed with zeros by a thread, up to `cap` bytes, until the reader closes it.

    A reader that respects its limit stops early; one that reads whole takes everything (the
    cap keeps a regression from filling the machine's memory).
    """

    def __init__(self, folder: Path, cap: int) -> None:
        self.path = folder / "endless"
        os.mkfifo(self.path)
        self.cap = cap
        self.written = 0
        self._thread = threading.Thread(target=self._feed, daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        chunk = bytes(65536)
        with contextlib.suppress(BrokenPipeError), self.path.open("wb") as pipe:
            while self.written < self.cap:
                pipe.write(chunk)
                self.written += len(chunk)

    def close(self) -> int:
        """Bytes the reader took (the thread ends once the reader has closed the pipe)."""
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()
        return self.written


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


@needs_fifo
@pytest.mark.parametrize(
    ("load", "limit", "problem"),
    [
        (load_series, MAX_SERIES_FILE_BYTES, "a series file is at most"),
        (load_pars_columns, 256 * 1024, "too large for a column map"),
        (read_pdf_bytes, MAX_PDF_BYTES, "a certificate PDF is far smaller"),
    ],
    ids=["series", "column-map", "pdf"],
)
def test_a_file_without_a_size_is_refused_after_its_limit_not_read_whole(
    tmp_path: Path, load: Callable[[Path], object], limit: int, problem: str
) -> None:
    stream = _Stream(tmp_path, cap=3 * limit)
    with pytest.raises(DataFileError, match=problem) as caught:
        load(stream.path)
    assert caught.value.path == stream.path
    assert stream.close() <= limit + 2 * 1024 * 1024  # the limit plus what the pipe buffers


@needs_fifo
def test_a_key_file_that_is_a_pipe_is_refused_unread(tmp_path: Path) -> None:
    stream = _Stream(tmp_path, cap=1024 * 1024)
    with pytest.raises(VerificationError, match="not a regular file"):
        load_key(stream.path)
    assert stream.close() <= 2 * 1024 * 1024
