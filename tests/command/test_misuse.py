"""Misuse of the command, end to end: hostile names never become paths, exported cells never run
as formulas, the signing key never shows, personal identifiers stay in the ledger and the PARS
export, PDF metadata holds only the claims, and one certificate's code never verifies another.

Library-level twins: test_batch.py (file names), test_pars.py (neutralised cells),
test_verification.py (key in reprs, codes), test_pdf.py (metadata, markup printed literally).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import sqlite3
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from balint_cme.certificates.archive import ATTACHMENT_NAME
from balint_cme.certificates.keys import create_key
from balint_cme.certificates.verification import (
    CLAIM_NAMES,
    CLAIMS_FORMAT,
    METADATA_KEY,
    PAGE_SEAL_KEY,
)
from balint_cme.io.pars import PARS_FIELDS
from balint_cme.ledger import Ledger
from tests.command_helpers import (
    REPORTS_2020,
    SERIES_2020,
    assert_one_line_error,
    roster_series_toml,
    run,
    sign_in_csv,
    write_roster,
)

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow


def certify(
    capsys: pytest.CaptureFixture[str], series: Path, report: Path, out: Path, *extra: str | Path
) -> tuple[str, str]:
    code, stdout, stderr = run(
        capsys,
        "certify",
        series,
        "--attendance",
        report,
        "--out",
        out,
        "--issued-on",
        "2021-01-20",
        *extra,
    )
    assert code == 0, stderr
    return stdout, stderr


def manifest(out: Path) -> dict[str, list[dict[str, object]]]:
    document: dict[str, list[dict[str, object]]] = json.loads(
        (out / "manifest.json").read_text(encoding="utf-8")
    )
    return document


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


# ---------------------------------------------------------------------------------------------
# Output paths

HOSTILE_NAMES = [
    "../../x",
    "../../../../etc/passwd",
    "/etc/passwd",
    "..\\..\\Windows\\System32\\evil",
    "C:\\Users\\Public\\evil",
    "CON",
    "NUL",
    "LPT1",
    "aux.pdf",
    "~/.ssh/authorized_keys",
    "manifest.json",
    "Ana " + "Ruiz-Ortega " * 25,  # 300 characters
    "$(touch pwned) `touch pwned2`",
    "%s%n%x {0} ${HOME}",
]
_SAFE_FILE = re.compile(r"[a-z0-9][a-z0-9-]*\.pdf")


@pytest.mark.parametrize("merged", [False, True], ids=["separate", "merged"])
def test_names_never_become_paths_at_the_command_line(
    workspace: Path, capsys: pytest.CaptureFixture[str], merged: bool
) -> None:
    assert len(HOSTILE_NAMES[11].strip()) >= 300
    series, sheet = write_roster(workspace / "inputs", HOSTILE_NAMES)
    out = workspace / "deep" / "out"
    before = files_under(workspace)
    certify(capsys, series, sheet, out, *(["--merged"] if merged else []))

    created = files_under(workspace) - before
    in_out = {path for path in created if path.parent == out}
    elsewhere = {path.relative_to(workspace) for path in created - in_out}
    assert elsewhere <= {
        Path("ledger.sqlite3"),
        Path("ledger.sqlite3-wal"),
        Path("ledger.sqlite3-shm"),
    }
    names = {path.name for path in in_out}
    assert "manifest.json" in names
    pdfs = names - {"manifest.json"}
    assert pdfs == ({"certificates.pdf"} if merged else pdfs)
    assert len(pdfs) == (1 if merged else len(HOSTILE_NAMES))
    assert all(_SAFE_FILE.fullmatch(name) for name in pdfs), pdfs
    listed = manifest(out)["certificates"]
    assert sorted(str(c["name"]) for c in listed) == sorted(n.strip() for n in HOSTILE_NAMES)
    assert {str(c["file"]) for c in listed} == pdfs
    if not merged:  # named from the number the ledger gave, whatever the person is called
        assert all(c["file"] == f"{str(c['number']).lower()}.pdf" for c in listed)
    assert not list(Path.cwd().glob("pwned*"))


@pytest.mark.parametrize("character", ["\x00", "\x7f", "\u202e", "\x1b[31m"])
def test_a_name_with_control_characters_is_refused_in_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str], character: str
) -> None:
    series, sheet = write_roster(workspace / "inputs", ["Ana Ruiz", f"Eve{character}Mallory"])
    out = workspace / "out"
    code, stdout, stderr = run(capsys, "certify", series, "--attendance", sheet, "--out", out)
    assert code == 1
    assert stdout == ""
    assert_one_line_error(stderr)
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Spreadsheet formula injection in what the command exports

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
INJECTIONS = ['=HYPERLINK("http://x.example","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


def test_every_exported_cell_is_neutralised_at_the_command_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = []
    for index, attack in enumerate(INJECTIONS, start=1):
        people.append(
            "\n".join(
                [
                    "[[participants]]",
                    f'id = "p{index:04d}"',
                    f'name = "Ana Ruiz{index}"',
                    f"given_name = {json.dumps(attack)}",
                    f"family_name = {json.dumps(attack)}",
                    'credentials = "MD"',
                    f"email = {json.dumps(f'{attack.strip()}@example.org'.lstrip('=+-@'))}",
                    'license_state = "CA"',
                    f"license_number = {json.dumps(attack.strip() or 'A1')}",
                    "birth_month = 4",
                    "birth_day = 17",
                ]
            )
        )
    head = roster_series_toml([]).replace(
        'title = "2020 Balint Group"', "title = \"=cmd|' /C calc'!A0\""
    )
    series = workspace / "series.toml"
    series.write_text(head + "\n\n".join(people) + "\n", encoding="utf-8")
    sheet = workspace / "sign-in.csv"
    sheet.write_text(sign_in_csv(len(INJECTIONS)), encoding="utf-8")
    certify(capsys, series, sheet, workspace / "out")
    for index in range(1, len(INJECTIONS) + 1):
        code, _, err = run(capsys, "consent", "--person", f"p{index:04d}")
        assert code == 0, err

    columns = workspace / "columns.toml"  # every field, plus a hostile header and constant
    columns.write_text(
        'format = "balint-cme-pars-columns/1"\n'
        + "".join(f'[[columns]]\nheader = "{f}"\nfield = "{f}"\n' for f in PARS_FIELDS)
        + '[[columns]]\nheader = "-Provider"\nvalue = "=1+2"\n',
        encoding="utf-8",
    )
    for name in ("pars.txt", "pars.tsv", "pars.xlsx"):
        code, out, err = run(
            capsys, "pars", series, "--out", workspace / name, "--columns", columns
        )
        assert code == 0, err
        assert f"wrote {len(INJECTIONS)} learner row(s)" in out
    cells: list[str] = []
    for name in ("pars.txt", "pars.tsv"):
        lines = (workspace / name).read_bytes().decode("utf-8").split("\r\n")[:-1]
        assert len(lines) == 1 + len(INJECTIONS)
        cells += [cell for line in lines for cell in line.split("\t")]
    sheet_rows = load_workbook(workspace / "pars.xlsx").active
    assert sheet_rows is not None
    for row in sheet_rows.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                cells.append(cell.value)
    assert not [cell for cell in cells if cell.startswith(_TRIGGERS)]
    # The text is kept, behind the apostrophe, not dropped: a regression cannot pass by omission.
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    assert any(cell.startswith("'=cmd|") for cell in cells)
    assert {"'-Provider", "'=1+2"} <= set(cells)


# ---------------------------------------------------------------------------------------------
# The signing key never shows


def _secret_forms(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    encoded = re.search(r'secret = "([^"]+)"', text)
    assert encoded is not None
    raw = base64.urlsafe_b64decode(encoded[1] + "=" * (-len(encoded[1]) % 4))
    return [
        encoded[1],
        encoded[1][:16],
        encoded[1][-16:],
        base64.b64encode(raw).decode("ascii").rstrip("="),
        raw.hex(),
        raw.hex().upper(),
        raw.decode("latin-1"),
    ]


def test_the_key_never_appears_in_any_output_log_file_or_error(
    workspace: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    default_key = workspace / "keys" / "signing.key"
    other_key = workspace / "other" / "other.key"
    create_key(other_key, key_id="other")
    forms = _secret_forms(default_key) + _secret_forms(other_key)
    seen: list[str] = []

    def command(*argv: str | Path) -> int:
        code, out, err = run(capsys, *argv)
        seen.extend([out, err])
        return code

    out_a, out_b = workspace / "a", workspace / "b"
    reports: list[str | Path] = ["--attendance", *REPORTS_2020, "--issued-on", "2021-01-20"]
    assert command("certify", SERIES_2020, *reports, "--out", out_a) == 0
    # A ledger re-draws a certificate with the key that sealed it: another key, another ledger.
    other_ledger = workspace / "other.sqlite3"
    other: list[str | Path] = ["--key-file", other_key, "--ledger", other_ledger]
    assert command("certify", SERIES_2020, *reports, "--out", out_b, *other) == 0
    pdf = out_a / str(manifest(out_a)["certificates"][0]["file"])
    code = str(manifest(out_a)["certificates"][0]["verification_code"])
    assert command("verify", pdf) == 0
    assert command("verify", code) == 0
    assert command("verify", pdf, "--key-file", default_key, "--key-file", other_key) == 0
    assert command("verify", pdf, "--key-file", other_key) == 1  # wrong key: says so
    assert command("credits", SERIES_2020, *reports[:-2], "--json") == 0
    assert command("attendance", "--person", "p01") == 0
    assert command("transcript", "--person", "p01") == 0
    assert command("ledger", "check") == 0

    # Errors that involve the key file itself.
    os.chmod(default_key, 0o644)
    assert command("certify", SERIES_2020, *reports, "--out", workspace / "c") == 1
    assert command("verify", pdf) == 3  # could not check: the key file is refused
    os.chmod(default_key, 0o600)
    broken = workspace / "broken.key"
    broken.write_text(default_key.read_text(encoding="utf-8")[:-10] + '!!"\n', encoding="utf-8")
    os.chmod(broken, 0o600)
    assert command("verify", pdf, "--key-file", broken) == 3
    twin = workspace / "twin" / "twin.key"  # another secret under the id "other"
    create_key(twin, key_id="other")
    forms += _secret_forms(twin)
    assert command("verify", pdf, "--key-file", other_key, "--key-file", twin) == 3
    assert "two different keys share the key id 'other'" in seen[-1]
    assert "chmod 600" in "".join(seen)

    seen.append(caplog.text)
    for text in seen:
        for form in forms:
            assert form not in text
    for folder in (out_a, out_b):  # the certificates, the manifest and the ledger
        for path in [*files_under(folder), workspace / "ledger.sqlite3", other_ledger]:
            data = path.read_bytes()
            for form in forms:
                assert form.encode("latin-1") not in data, path


# ---------------------------------------------------------------------------------------------
# Birth date and licence numbers: only in the ledger and the PARS export

LICENCE = "QZ7731946"
NPI = "1234567893"
_PERSONAL = [
    re.compile(LICENCE),
    re.compile(NPI),
    re.compile(r"(?<!\d)0?2\s*[/.-]\s*29(?!\d)"),  # 2/29, 02-29
    re.compile(r"(?<!\d)29\s*[/.-]\s*0?2(?!\d)"),  # 29.02
    re.compile(r"Feb(ruary)?\.?\s+29|29\s+Feb", re.IGNORECASE),
    re.compile(r"birth|licen[cs]e_number|\bnpi\b", re.IGNORECASE),
]


def _leaks(text: str) -> list[str]:
    """Each match with some context, so a failure shows where the identifier surfaced."""
    return [
        text[max(0, found.start() - 60) : found.end() + 60]
        for pattern in _PERSONAL
        for found in pattern.finditer(text)
    ]


def _pdf_texts(path: Path) -> list[str]:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    texts = [page.extract_text() for page in reader.pages]
    texts += [f"{key}={value}" for key, value in (reader.metadata or {}).items()]
    # PDF/A: the XMP packet and the embedded claims file are searched too.
    if reader.xmp_metadata is not None:
        texts.append(reader.xmp_metadata.stream.get_data().decode("utf-8"))
    texts += [data.decode("utf-8") for items in reader.attachments.values() for data in items]
    return texts


_EXTENSION_SCHEMAS = "{http://www.aiim.org/pdfa/ns/extension/}schemas"


def _xmp_values(reader: PdfReader) -> set[str]:
    """Every text value in the XMP packet, except the constant PDF/A extension-schema
    declarations (which describe balint_cme's properties, the same in every file)."""
    assert reader.xmp_metadata is not None
    root = ET.fromstring(reader.xmp_metadata.stream.get_data())
    skipped = {id(e) for s in root.iter(_EXTENSION_SCHEMAS) for e in s.iter()}
    return {
        element.text.strip()
        for element in root.iter()
        if id(element) not in skipped and element.text and element.text.strip()
    }


def test_birth_date_and_licence_appear_only_in_the_ledger_and_the_pars_export(
    workspace: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    extra = [
        'license_state = "CA"',
        f'license_number = "{LICENCE}"',
        f'npi = "{NPI}"',
        "birth_month = 2",
        "birth_day = 29",
    ]
    # One person: an NPI names one person, so two roster entries cannot share it.
    series, sheet = write_roster(workspace / "inputs", ["Ana Ruiz"], extra=extra)
    seen: list[str] = []

    def command(*argv: str | Path) -> None:
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        seen.extend([out, err])

    separate, merged = workspace / "separate", workspace / "merged"
    for out, extra_args in ((separate, ()), (merged, ("--merged",))):
        command(
            "certify",
            series,
            "--attendance",
            sheet,
            "--out",
            out,
            "--issued-on",
            "2021-01-20",
            *extra_args,
        )
    code = str(manifest(separate)["certificates"][0]["verification_code"])
    pdf = separate / str(manifest(separate)["certificates"][0]["file"])
    command("credits", series, "--attendance", sheet, "--json")
    command("credits", series, "--attendance", sheet)
    command("verify", pdf)
    command("verify", code)
    command("attendance", "--person", "p0001")
    command("attendance", "--person", NPI)  # looking someone up by NPI does not print it
    command("transcript", "--person", "p0001")
    command("consent", "--person", "p0001")
    command("ledger", "check")
    command("pars", series, "--out", workspace / "pars.txt")
    seen.append(caplog.text)
    for folder in (separate, merged):
        for path in files_under(folder):
            if path.suffix == ".pdf":
                seen.extend(_pdf_texts(path))
            else:
                seen.append(path.read_text(encoding="utf-8"))
    # (The workspace's own path is named after this test, "birth" and all.)
    leaks = {leak for text in seen for leak in _leaks(text.replace(str(workspace), "<ws>"))}
    assert leaks == set(), leaks

    # Where they belong, they are: the search above would have found them.
    export = (workspace / "pars.txt").read_bytes().decode("utf-8")
    assert LICENCE in export
    assert "\t2\t29\t" in export
    connection = sqlite3.connect(workspace / "ledger.sqlite3")
    try:
        stored = connection.execute(
            "SELECT license_number, npi, birth_month, birth_day FROM people JOIN person_links "
            "USING (person_id) WHERE participant_id = 'p0001'"
        ).fetchone()
    finally:
        connection.close()
    assert stored == (LICENCE, NPI, 2, 29)


# ---------------------------------------------------------------------------------------------
# PDF metadata holds only the claims


def test_pdf_metadata_holds_only_the_certificates_claims(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = workspace / "out"
    certify(capsys, SERIES_2020, REPORTS_2020[0], out)
    for listed in manifest(out)["certificates"]:
        reader = PdfReader(io.BytesIO((out / str(listed["file"])).read_bytes()))
        info = dict(reader.metadata or {})
        assert set(info) <= {
            "/Author",
            "/Title",
            "/Subject",
            "/Creator",
            "/Producer",
            "/CreationDate",
            "/ModDate",
            "/Trapped",
            METADATA_KEY,
            PAGE_SEAL_KEY,
        }
        record = json.loads(str(info[METADATA_KEY]))
        assert set(record) == {"format", "claims", "seal"}
        claims = record["claims"]
        assert set(claims) == set(CLAIM_NAMES)
        assert set(record["seal"]) == {"key_id", "code", "key_check", "claim_tags"}
        assert {name for name, _ in record["seal"]["claim_tags"]} == set(CLAIM_NAMES)
        # The readable fields repeat claims and nothing else.
        assert str(info["/Author"]) == claims["provider"]
        assert str(info["/Subject"]) == claims["series_title"]
        kind = "credit" if claims["kind"] == "credit" else "participation"
        assert str(info["/Title"]) == f"Certificate of {kind} {claims['number']}: {claims['name']}"
        assert str(info["/CreationDate"]).startswith("D:" + claims["issued_on"].replace("-", ""))
        assert claims["number"] == listed["number"]
        assert claims["name"] == listed["name"]
        # The XMP repeats the document information and names the claims file, nothing more;
        # the one embedded file is the same record.
        issued = f"{claims['issued_on']}T00:00:00+00:00"
        assert _xmp_values(reader) <= {
            *(str(v) for k, v in info.items() if k not in (METADATA_KEY, PAGE_SEAL_KEY)),
            "application/pdf",
            issued,
            "3",
            "B",
            claims["number"],
            CLAIMS_FORMAT,
            ATTACHMENT_NAME,
        }
        assert reader.attachments == {ATTACHMENT_NAME: [str(info[METADATA_KEY]).encode()]}


# ---------------------------------------------------------------------------------------------
# One certificate's code never verifies another


def test_each_code_verifies_only_its_own_certificate(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = workspace / "out"
    certify(capsys, SERIES_2020, REPORTS_2020[0], out, "--quiet")
    listed = manifest(out)["certificates"]
    assert len(listed) >= 4
    codes = [str(c["verification_code"]) for c in listed]
    for certificate in listed:
        code, stdout, _ = run(capsys, "verify", str(certificate["verification_code"]))
        assert code == 0
        assert stdout.startswith("valid")
        assert f"certificate {certificate['number']} " in stdout
        assert str(certificate["name"]) in stdout
        for other in listed:
            if other is not certificate:
                assert f"certificate {other['number']} " not in stdout
    for code_text in codes:  # one character changed: not valid, whichever position
        for position in (len(code_text) - 1, len(code_text) - 9, code_text.index(".") + 1):
            letter = code_text[position]
            changed = (
                code_text[:position] + ("B" if letter != "B" else "C") + code_text[position + 1 :]
            )
            assert changed not in codes
            code, stdout, _ = run(capsys, "verify", changed)
            assert code == 1
            assert not stdout.startswith("valid")
    # A PDF carrying another certificate's code in its seal is altered, not valid.
    first, second = listed[0], listed[1]
    data = (out / str(second["file"])).read_bytes()
    swapped_code = str(first["verification_code"]).encode()
    assert len(swapped_code) == len(str(second["verification_code"]).encode())
    swapped = workspace / "swapped.pdf"
    swapped.write_bytes(data.replace(str(second["verification_code"]).encode(), swapped_code))
    assert swapped.read_bytes() != data
    code, stdout, _ = run(capsys, "verify", swapped)
    assert code == 1
    assert stdout.startswith("altered")


# ---------------------------------------------------------------------------------------------
# Owner-only files


def test_the_ledger_its_journal_and_its_folder_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "ledger.sqlite3"
    with Ledger.open(path) as ledger:
        assert ledger.check_chain().is_intact  # open: its WAL files exist now
        journal = sorted(path.parent.iterdir())
        assert [p.name for p in journal] == [
            "ledger.sqlite3",
            "ledger.sqlite3-shm",
            "ledger.sqlite3-wal",
        ]
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in journal}
    assert set(modes.values()) == {0o600}, modes
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
