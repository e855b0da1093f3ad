"""What `verify` may believe in a ledger, and how a kept anchor proves its history.

Rows are tampered with as an attacker with an SQLite tool would (one UPDATE, a deleted row, an
edited and re-hashed event, a whole history rewritten consistently), then the real command is
asked. Also: a ledger (or its -wal/-shm journal) that others can read, or that another user
owns, is refused with the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from balint_cme.cli import main
from balint_cme.commands.verify import VERIFY_COULD_NOT_CHECK
from balint_cme.errors import DataFileError, LedgerTamperedError
from balint_cme.io.series_file import parse_series
from balint_cme.ledger import Ledger, opening, schema
from balint_cme.ledger.chain import GENESIS_HASH, event_hash, event_json
from balint_cme.ledger.schema import TABLES
from tests.command_helpers import isolate, run, write_roster
from tests.conftest import EXAMPLES

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

_ANCHOR_LINE = re.compile(r"^ledger anchor: (\d+:[0-9a-f]{64})$", re.MULTILINE)


@pytest.fixture(scope="module")
def issued_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace where certify issued three certificates into out/ (made once per module)."""
    template = tmp_path_factory.mktemp("issued")
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(template, monkeypatch)
        series, sheet = write_roster(template / "in", ["Ana Ruiz", "Ben Okafor", "Chen Li"])
        argv = ["certify", str(series), "--attendance", str(sheet), "--out", str(template / "out")]
        assert main(argv) == 0
    return template


@pytest.fixture
def issued_copy(workspace: Path, issued_template: Path) -> Path:
    """A copy of `issued` (ledger, key, inputs, certificates) that a test may spoil."""
    for name in ("keys", "in", "out"):
        shutil.copytree(issued_template / name, workspace / name, dirs_exist_ok=True)
    for path in issued_template.glob("ledger.sqlite3*"):
        shutil.copy2(path, workspace / path.name)
    return workspace


def _issued(workspace: Path) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = json.loads(
        (workspace / "out" / "manifest.json").read_text("utf-8")
    )["certificates"]
    return listed


def _sql(ledger: Path, statement: str, *values: object) -> None:
    connection = sqlite3.connect(ledger)
    try:
        connection.execute(statement, values)
        connection.commit()
    finally:
        connection.close()


# ---------------------------------------------------------------------------------------------
# verify checks the rows it relies on


def test_verify_never_says_valid_after_one_update_un_revokes_a_certificate(
    issued_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued_copy / "out"
    first = _issued(issued_copy)[0]
    pdf = out / str(first["file"])
    assert run(capsys, "revoke", str(first["number"]), "--reason", "issued in error")[0] == 0
    code, stdout, _ = run(capsys, "verify", pdf)
    assert (code, stdout.splitlines()[0]) == (1, "revoked: issued in error")

    # The attacker's one statement: the certificate looks issued again.
    _sql(
        issued_copy / "ledger.sqlite3",
        "UPDATE certificates SET state = 'issued', revoked_at = NULL, revoked_reason = NULL, "
        "revoked_by = NULL WHERE number = ?",
        first["number"],
    )
    code, stdout, stderr = run(capsys, "verify", pdf)
    assert code == VERIFY_COULD_NOT_CHECK  # 3: never 0 (valid) nor 4 (revocation unchecked)
    assert not stdout.startswith("valid")
    assert "could not check" in stderr
    assert "changed outside balint_cme" in stderr
    assert f"certificates row '{first['number']}/1' differs from the audit log" in stderr


def _tampers(number: str, other: str) -> dict[str, list[tuple[str, tuple[object, ...]]]]:
    return {
        "un-revoked": [
            (
                "UPDATE certificates SET state = 'issued', revoked_at = NULL WHERE number = ?",
                (number,),
            )
        ],
        "pdf hash swapped": [
            ("UPDATE certificates SET pdf_sha256 = ? WHERE number = ?", ("0" * 64, number))
        ],
        "credits raised": [
            ("UPDATE certificates SET credits = '9.75' WHERE number = ?", (number,))
        ],
        "version deleted": [("DELETE FROM certificates WHERE number = ?", (number,))],
        "number marked purged": [
            ("UPDATE numbers SET purged_at = '2020-01-01' WHERE number = ?", (number,))
        ],
        "row copied from another number": [
            ("DELETE FROM certificates WHERE number = ?", (number,)),
            (
                "INSERT INTO certificates SELECT ?, version, series_id, participant_id, kind, "
                "credits, session_dates, issued_on, claims, claims_fingerprint, series_sha256, "
                "reason, state, reserved_at, confirmed_at, verification_code, pdf_sha256, "
                "file_name, superseded_by, superseded_at, revoked_at, revoked_reason, revoked_by "
                "FROM certificates WHERE number = ?",
                (number, other),
            ),
        ],
        "revoke event edited": [
            (
                "UPDATE audit SET details = replace(details, 'issued in error', 'typo') "
                "WHERE action = 'certificate.revoked'",
                (),
            )
        ],
        "revoke event and row deleted": [
            ("DELETE FROM audit WHERE action = 'certificate.revoked'", ()),
            (
                "UPDATE certificates SET state = 'issued', revoked_at = NULL WHERE number = ?",
                (number,),
            ),
        ],
    }


@pytest.mark.parametrize(
    "tamper",
    [
        "un-revoked",
        "pdf hash swapped",
        "credits raised",
        "version deleted",
        "number marked purged",
        "row copied from another number",
        "revoke event edited",
        "revoke event and row deleted",
    ],
)
def test_certificate_status_refuses_to_answer_from_a_tampered_row(
    issued_copy: Path, capsys: pytest.CaptureFixture[str], tamper: str
) -> None:
    listed = _issued(issued_copy)
    number, other = str(listed[0]["number"]), str(listed[1]["number"])
    assert run(capsys, "revoke", number, "--reason", "issued in error")[0] == 0
    ledger_file = issued_copy / "ledger.sqlite3"
    with Ledger.open(ledger_file, create=False) as ledger:  # the positive control
        assert ledger.certificate_status(number).state == "revoked"
        assert ledger.certificate_status(other).state == "valid"
    for statement, values in _tampers(number, other)[tamper]:
        _sql(ledger_file, statement, *values)
    with Ledger.open(ledger_file, create=False) as ledger:
        with pytest.raises(LedgerTamperedError) as caught:
            ledger.certificate_status(number)
        assert caught.value.subject == number
        assert "ledger check" in str(caught.value)


@pytest.mark.parametrize("column", TABLES["certificates"].columns)
def test_any_edit_of_any_column_of_a_certificate_row_is_caught(
    issued_copy: Path, capsys: pytest.CaptureFixture[str], column: str
) -> None:
    number = str(_issued(issued_copy)[0]["number"])
    ledger_file = issued_copy / "ledger.sqlite3"
    connection = sqlite3.connect(ledger_file)
    try:
        value = connection.execute(
            f"SELECT {column} FROM certificates WHERE number = ?", (number,)
        ).fetchone()[0]
        changed = {
            "state": "revoked",
            "kind": "participation" if value == "credit" else "credit",
        }.get(column, value + 1 if isinstance(value, int) else (value or "") + "x")
        if column == "superseded_by":  # an INTEGER column, NULL while the version is current
            changed = 7
        connection.execute(
            f"UPDATE certificates SET {column} = ? WHERE number = ?", (changed, number)
        )
        connection.commit()
    finally:
        connection.close()
    with Ledger.open(ledger_file, create=False) as ledger, pytest.raises(LedgerTamperedError):
        ledger.certificate_status(number)


# ---------------------------------------------------------------------------------------------
# Anchors: SEQ:HASH proves events 1..SEQ


def _anchor(stderr: str) -> str:
    found = _ANCHOR_LINE.findall(stderr)
    assert len(found) == 1, stderr
    return str(found[0])


def test_every_command_that_changes_the_ledger_prints_its_anchor(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series, sheet = write_roster(workspace / "in", ["Ana Ruiz", "Ben Okafor"])
    out = workspace / "out"
    commands: list[list[str | Path]] = [
        ["certify", series, "--attendance", sheet, "--out", out, "--quiet"],
        ["consent", "--person", "p0001", "--wording", "v1"],
        ["revoke", "FIRST", "--reason", "issued in error"],
    ]
    for argv in commands:
        if argv[1] == "FIRST":
            manifest = json.loads((out / "manifest.json").read_text("utf-8"))
            argv[1] = manifest["certificates"][0]["number"]
        code, _, err = run(capsys, *argv)
        assert code == 0, err
        with Ledger.open(workspace / "ledger.sqlite3", create=False) as ledger:
            assert _anchor(err) == ledger.anchor()
    # Commands that change nothing print none (and --json output is never touched).
    unchanging: list[list[str | Path]] = [
        ["ledger", "check"],
        ["attendance", "--person", "p0001"],
        ["credits", series, "--attendance", sheet, "--json"],
    ]
    for argv in unchanging:
        code, stdout, err = run(capsys, *argv)
        assert code == 0
        assert "ledger anchor" not in err
    json.loads(stdout)  # the last one: --json stdout is JSON alone


def _rewrite_history(ledger_file: Path, seq: int) -> None:
    """Change event `seq`'s actor and re-hash it and every later event, as an attacker who
    knows the format would: the ledger is consistent on its own afterwards."""
    connection = sqlite3.connect(ledger_file)
    try:
        connection.execute("UPDATE audit SET actor = 'someone else' WHERE seq = ?", (seq,))
        previous = GENESIS_HASH
        for row in connection.execute(
            "SELECT seq, at, actor, action, subject, details, changes FROM audit ORDER BY seq"
        ).fetchall():
            previous = event_hash(previous, event_json(*row))
            connection.execute("UPDATE audit SET hash = ? WHERE seq = ?", (previous, row[0]))
        connection.execute("UPDATE chain_head SET hash = ? WHERE id = 1", (previous,))
        connection.commit()
    finally:
        connection.close()


def test_an_anchor_holds_after_legitimate_growth_and_fails_after_a_rewrite(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series, sheet = write_roster(workspace / "in", ["Ana Ruiz", "Ben Okafor"])
    code, _, err = run(capsys, "certify", series, "--attendance", sheet, "--out", workspace / "o")
    assert code == 0
    kept = _anchor(err)
    ledger_file = workspace / "ledger.sqlite3"
    before_growth = workspace / "before.sqlite3"
    shutil.copy2(ledger_file, before_growth)

    for person in ("p0001", "p0002"):  # two ordinary consent commands
        assert run(capsys, "consent", "--person", person)[0] == 0
    code, stdout, _ = run(capsys, "ledger", "check", "--anchor", kept)
    assert code == 0, stdout
    assert f"anchor {kept} holds" in stdout
    # A kept head hash cannot tell growth from a rewrite: it fails here already.
    assert run(capsys, "ledger", "check", "--expected-head", kept.split(":")[1])[0] == 1

    # A cut tail: the anchor names an event the (older) ledger does not have.
    later = _anchor(run(capsys, "consent", "--person", "p0001", "--wording", "v2")[2])
    code, stdout, _ = run(capsys, "ledger", "check", "--ledger", before_growth, "--anchor", later)
    assert code == 1
    assert "events cut off" in stdout

    # A consistent rewrite of history: `ledger check` alone is fooled, the anchor is not.
    _rewrite_history(ledger_file, seq=2)
    assert run(capsys, "ledger", "check")[0] == 0
    code, stdout, _ = run(capsys, "ledger", "check", "--anchor", kept)
    assert code == 1
    assert "TAMPERED" in stdout
    assert "rewritten" in stdout


def test_a_malformed_anchor_is_a_usage_error(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Ledger.open(workspace / "ledger.sqlite3").close()
    with pytest.raises(SystemExit) as caught:
        run(capsys, "ledger", "check", "--anchor", "12:not-a-hash")
    assert caught.value.code == 2
    with Ledger.open(workspace / "ledger.sqlite3", create=False) as ledger:
        with pytest.raises(ValueError, match="not a ledger anchor"):
            ledger.check_chain(anchor="0:" + "0" * 64)
        assert ledger.check_chain(anchor=ledger.anchor()).is_intact


# ---------------------------------------------------------------------------------------------
# Owner-only ledger files


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_a_ledger_or_its_journal_readable_by_others_is_refused_with_the_fix(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger.open(path):  # open: its -wal and -shm files exist
        loose = path.with_name(path.name + suffix)
        assert loose.exists()
        os.chmod(loose, 0o644)
        with pytest.raises(DataFileError, match=re.escape(f"chmod 600 {loose}")) as caught:
            Ledger.open(path)
        assert caught.value.path == loose
        assert "mode 0644" in str(caught.value)


def test_a_ledger_readable_by_others_is_refused_by_the_command_in_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Ledger.open(workspace / "ledger.sqlite3").close()
    os.chmod(workspace / "ledger.sqlite3", 0o640)
    for argv in (["ledger", "check"], ["attendance", "--person", "p0001"]):
        code, stdout, stderr = run(capsys, *argv)
        assert (code, stdout) == (1, "")
        assert stderr.count("\n") == 1
        assert "chmod 600" in stderr


def test_ledger_journal_files_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        with Ledger.open(tmp_path / "ledger.sqlite3"):  # its -wal and -shm exist while open
            modes = {
                path.name: stat.S_IMODE(path.stat().st_mode)
                for path in tmp_path.iterdir()
                if path.name.startswith("ledger.sqlite3")
            }
    finally:
        os.umask(previous)
    assert set(modes) == {"ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm"}
    assert set(modes.values()) == {0o600}


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs root to chown")
def test_a_ledger_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger.open(path).close()
    os.chown(path, 4242, 4242)
    with pytest.raises(DataFileError, match="belongs to another user"):
        Ledger.open(path)


def test_the_status_check_reads_only_the_numbers_rows(
    issued_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows of other certificates do not matter to one certificate's answer (but they do to
    `ledger check`): the check is about the rows verify relies on."""
    listed = _issued(issued_copy)
    number, other = str(listed[0]["number"]), str(listed[1]["number"])
    _sql(
        issued_copy / "ledger.sqlite3",
        "UPDATE certificates SET credits = '9.75' WHERE number = ?",
        other,
    )
    with Ledger.open(issued_copy / "ledger.sqlite3", create=False) as ledger:
        assert ledger.certificate_status(number).state == "valid"
        assert not ledger.check_chain().is_intact
        with pytest.raises(LedgerTamperedError):
            ledger.certificate_status(other)
    assert (
        hashlib.sha256((issued_copy / "out" / str(listed[0]["file"])).read_bytes()).hexdigest()
        == (listed[0]["sha256"])
    )


def test_a_purged_certificate_is_proven_purged_and_an_un_purge_is_caught(
    issued_copy: Path,
) -> None:
    number = str(_issued(issued_copy)[0]["number"])
    ledger_file = issued_copy / "ledger.sqlite3"
    with Ledger.open(ledger_file, create=False) as ledger:
        ledger.purge_series(
            "ssvms-balint-2020", reason="retention over", actor="t", today=date(2030, 1, 1)
        )
        assert ledger.certificate_status(number).state == "purged"
    _sql(ledger_file, "UPDATE numbers SET purged_at = NULL WHERE number = ?", number)
    with Ledger.open(ledger_file, create=False) as ledger, pytest.raises(LedgerTamperedError):
        ledger.certificate_status(number)


# ---------------------------------------------------------------------------------------------
# Page digests (schema 3): the page certify drew for each version, covered by the chain


@pytest.mark.parametrize("tamper", ["added", "edited", "deleted"])
def test_a_page_digest_added_edited_or_deleted_outside_is_caught(
    issued_copy: Path, tamper: str
) -> None:
    number = str(_issued(issued_copy)[0]["number"])
    ledger_file = issued_copy / "ledger.sqlite3"
    with Ledger.open(ledger_file, create=False) as ledger:  # the positive control
        status = ledger.certificate_status(number)
        assert status.state == "valid"
        assert status.certificate is not None
        (recorded,) = status.certificate.page_digests
    forged = "f" * len(recorded)
    statement, values = {
        # A key thief's page made acceptable by writing its digest into the ledger file.
        "added": (
            "INSERT INTO page_digests SELECT number, version, ?, series_id, recorded_at "
            "FROM page_digests WHERE number = ?",
            (forged, number),
        ),
        "edited": ("UPDATE page_digests SET digest = ? WHERE number = ?", (forged, number)),
        "deleted": ("DELETE FROM page_digests WHERE number = ?", (number,)),
    }[tamper]
    _sql(ledger_file, statement, *values)
    with Ledger.open(ledger_file, create=False) as ledger, pytest.raises(LedgerTamperedError):
        ledger.certificate_status(number)


def test_a_schema2_ledger_is_upgraded_and_its_certificates_have_no_page_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.sqlite3"
    content = (EXAMPLES / "ssvms-balint-2020.toml").read_bytes()
    series = parse_series(content, Path("s.toml"))
    person = series.participants[0].id
    moment = datetime(2022, 2, 1, tzinfo=UTC)
    with monkeypatch.context() as old:  # the file as balint_cme with ledger schema 2 wrote it
        old.setattr(schema, "SCHEMA_VERSION", 2)
        old.setattr(opening, "SCHEMA_VERSION", 2)
        with Ledger.open(path, clock=lambda: moment) as ledger:
            ledger.record_series(series, content=content, file_name="s.toml", actor="old")
            reserved = ledger.reserve(
                series_id=series.id,
                participant_id=person,
                kind="participation",
                credits=Decimal("1.5"),
                session_dates=(date(2020, 9, 9),),
                claims={"name": "x"},
                issued_on=date(2021, 1, 20),
                actor="old",
            ).certificate
            ledger.confirm(
                reserved.number,
                reserved.version,
                pdf_sha256="a" * 64,
                file_name="x.pdf",
                verification_code="k.CODE",
                actor="old",
            )
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
    connection.close()
    with Ledger.open(path, create=False) as ledger:
        assert any("no recorded page digest" in note for note in ledger.upgrade_notes)
        assert ledger.check_chain().is_intact
        status = ledger.certificate_status(reserved.number)
        assert status.state == "valid"
        assert status.certificate is not None
        assert status.certificate.page_digests == ()
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        plan = connection.execute(
            "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM audit WHERE seq >= 1"
        ).fetchall()
        assert "audit_by_seq" in str(plan)  # the tail is counted in the index, not the rows
    finally:
        connection.close()
