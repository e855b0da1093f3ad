"""The Ledger: one SQLite file (WAL mode) holding six years of records, opened by path.

This module opens and closes the file and runs the transactions; each public method is a
thin entry point that delegates the work to the module of its concern, passing the connection
(reads) or a Writer (changes): recording.py (series, attendance), issuing.py (certificate
numbers and versions), consent.py, retention.py, queries.py (people, participation,
certificate lookups, the audit log) and chain.py (the hash-chain check).

Longer than 400 lines on purpose: this is the ledger's public face, some 35 methods that each
delegate in a line or two, and their docstrings are the API reference (arguments, what is
written, what is raised). Splitting the class would scatter that reference, not the work.

Every public method that changes something runs in one `BEGIN IMMEDIATE` transaction with
its audit events, so a failure leaves nothing half-written and two processes take turns.
Times come from the clock given to open() (the real UTC clock by default), read once per
transaction at this boundary and nowhere deeper.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, Self, TypeVar

from balint_cme import places
from balint_cme.attendance import AttendanceRecord
from balint_cme.credit import CreditAward
from balint_cme.errors import DataFileError, InvalidArgumentError, LedgerError
from balint_cme.ledger import consent as pars_consent
from balint_cme.ledger import issuing, queries, recording, retention
from balint_cme.ledger.chain import check_chain, format_anchor, parse_anchor
from balint_cme.ledger.identity import record_roster
from balint_cme.ledger.issuing import Confirmation, Redrawn
from balint_cme.ledger.opening import (
    check_private,
    initialise,
    owner_only_files,
    prepare_file,
    rollback,
)
from balint_cme.ledger.records import (
    AuditEvent,
    CertificateRecord,
    CertificateStatus,
    ChainReport,
    ConsentRecord,
    ParticipationRecord,
    PersonRecord,
    PurgeReport,
    Reservation,
    SeriesSnapshot,
)
from balint_cme.ledger.retention import DEFAULT_RETENTION_YEARS, retention_ends_on
from balint_cme.ledger.writer import Writer, fetch_row, format_time
from balint_cme.model import Series

__all__ = [
    "DEFAULT_RETENTION_YEARS",
    "LEDGER_FILE_ENV",
    "Ledger",
    "default_ledger_path",
    "retention_ends_on",
]

LEDGER_FILE_ENV = places.LEDGER_FILE_ENV
"""Environment variable naming the ledger file, overriding default_ledger_path()."""

_P = ParamSpec("_P")
_R = TypeVar("_R")

_PREFIX = re.compile(r"[A-Z][A-Z0-9]{0,9}")


def default_ledger_path() -> Path:
    """$BALINT_CME_LEDGER, else `ledger.sqlite3` in the per-user data folder
    (`places.ledger_file()`): one ledger per user, whatever the directory."""
    return places.ledger_file()


_DAMAGE = (ValueError, TypeError, KeyError, IndexError, RecursionError)
"""What reading a stored record raises when the file was damaged or edited by hand."""


def _damaged(path: Path, err: Exception) -> LedgerError:
    return LedgerError(
        f"{path}: the ledger holds a damaged record ({type(err).__name__}: {err}); "
        "run `balint-cme ledger check`"
    )


def _reading(
    method: Callable[Concatenate[Ledger, _P], _R],
) -> Callable[Concatenate[Ledger, _P], _R]:
    """A read method: a damaged stored record becomes a LedgerError naming the file."""

    @functools.wraps(method)
    def read(self: Ledger, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except _DAMAGE as err:
            raise _damaged(self.path, err) from err

    return read


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _text(value: str, what: str, *, max_length: int = 500) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > max_length or "\x00" in text:
        raise LedgerError(f"{what} must be 1-{max_length} characters of text")
    return text


class Ledger:
    """The durable record of a provider's series, attendance, certificates and consent.

    Open with `Ledger.open(path)` (created on first use) and use as a context manager. Methods
    that change anything take `actor`, the name recorded in the audit log.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        *,
        clock: Callable[[], datetime],
        number_prefix: str,
        retention_years: int,
        upgrade_notes: Sequence[str] = (),
    ) -> None:
        """Use Ledger.open()."""
        self._connection = connection
        self._clock = clock
        self.path = path
        self.number_prefix = number_prefix
        """The first part of every certificate number ("BC"), fixed when the file was made."""
        self.retention_years = retention_years
        self.upgrade_notes = tuple(upgrade_notes)
        """What opening changed in a file written by an older balint_cme (people it had joined
        and this version split, consents to record again); empty otherwise. Show them."""

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        create: bool = True,
        clock: Callable[[], datetime] | None = None,
        timeout_seconds: float = 30.0,
        number_prefix: str = "BC",
        retention_years: int = DEFAULT_RETENTION_YEARS,
        read_only: bool = False,
    ) -> Self:
        """Open the ledger at `path` (default_ledger_path() if None), creating it if allowed.

        `read_only` opens an existing file through a read-only SQLite connection (never created
        or upgraded; every change is refused): for the public verification server, which reads
        while a coordinator may be certifying into the same file.

        `number_prefix` and `retention_years` apply only when the file is created; afterwards
        the file's own values hold. `timeout_seconds` is how long to wait for another process
        that is writing.

        Raises:
            DataFileError: the file is not a ledger, is from a newer balint_cme, cannot be read
                or created, or does not exist and `create` is False.
        """
        path = Path(path) if path is not None else default_ledger_path()
        if not _PREFIX.fullmatch(number_prefix):
            raise InvalidArgumentError(
                "number_prefix is 1-10 capital letters and digits, e.g. 'BC'"
            )
        if not 1 <= retention_years <= 100:
            raise InvalidArgumentError("retention_years must be between 1 and 100")
        prepare_file(path, create=create and not read_only)
        # SQLite makes the -wal and -shm files as it needs them; whatever it makes is owner-only.
        with owner_only_files():
            try:
                connection = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro" if read_only else path,
                    timeout=timeout_seconds,
                    isolation_level=None,
                    check_same_thread=True,
                    uri=read_only,
                )
            except sqlite3.Error as err:
                raise DataFileError(path, f"cannot open the ledger: {err}") from err
        try:
            with owner_only_files():
                meta, notes = initialise(
                    connection,
                    path,
                    clock or _utc_now,
                    number_prefix,
                    retention_years,
                    read_only=read_only,
                )
            prefix, years = meta["number_prefix"], int(meta["retention_years"])
            check_private(path)  # a ledger holds birth dates and licence numbers
        except sqlite3.OperationalError as err:
            connection.close()
            raise DataFileError(path, f"cannot use the ledger: {err}") from err
        except sqlite3.DatabaseError as err:
            connection.close()
            raise DataFileError(path, f"not a readable balint_cme ledger: {err}") from err
        except _DAMAGE as err:  # e.g. an undecodable message from a damaged file, a bad meta row
            connection.close()
            raise DataFileError(path, f"a damaged balint_cme ledger: {err}") from err
        except BaseException:
            connection.close()
            raise
        return cls(
            connection,
            path,
            clock=clock or _utc_now,
            number_prefix=prefix,
            retention_years=years,
            upgrade_notes=notes,
        )

    def close(self) -> None:
        """Close the file."""
        self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    # -- transactions ----------------------------------------------------------------------

    def _now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None:
            raise InvalidArgumentError("the ledger clock must return time-zone aware datetimes")
        return moment

    @contextmanager
    def _write(self, actor: str) -> Iterator[Writer]:
        actor = _text(actor, "the actor (who makes the change)", max_length=200)
        at = format_time(self._now())
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise LedgerError(f"{self.path}: cannot start a change: {err}") from err
        try:
            writer = Writer(connection, at=at, actor=actor)
            yield writer
            writer.finish()
            connection.execute("COMMIT")
        except sqlite3.Error as err:
            rollback(connection)
            raise LedgerError(f"{self.path}: the change was refused and undone: {err}") from err
        except _DAMAGE as err:
            # Arguments are checked before the transaction starts, so this is stored data.
            rollback(connection)
            raise _damaged(self.path, err) from err
        except BaseException:
            rollback(connection)
            raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same snapshot."""
        connection = self._connection
        try:
            connection.execute("BEGIN")
            yield connection
            connection.execute("COMMIT")
        except sqlite3.Error as err:
            rollback(connection)
            raise LedgerError(f"{self.path}: cannot read the ledger: {err}") from err
        except BaseException:
            rollback(connection)
            raise

    # -- series, enrollment, attendance (recording.py) -------------------------------------

    def record_series(
        self, series: Series, *, content: bytes, file_name: str, actor: str
    ) -> SeriesSnapshot:
        """Keep the series file as used (`content`, its name) and its roster.

        Records the snapshot (once per distinct content), the series' title and last session,
        each roster person's details, which ledger person each roster entry is, and their
        enrollment (see ledger/identity.py for the rules). Unchanged data writes nothing.

        Raises:
            IdentityConflictError: a roster entry contradicts the people on record (a roster
                id reused for someone else, an NPI or e-mail of another person); nothing is
                written.
            LedgerError: the series was purged.
        """
        file_name = _text(file_name, "file_name", max_length=1000)
        with self._write(actor) as writer:
            return recording.record_series(writer, series, content=content, file_name=file_name)

    def check_roster(self, series: Series) -> None:
        """Refuse, before anything is written, a roster that record_series() would refuse.

        Runs the same identity rules in a transaction that is always rolled back.

        Raises:
            IdentityConflictError: as record_series().
            LedgerError: the series was purged.
        """
        recording.refuse_purged(self.series_row(series.id), series.id)
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise LedgerError(f"{self.path}: cannot check the roster: {err}") from err
        try:
            writer = Writer(connection, at=format_time(self._now()), actor="check")
            record_roster(writer, series)
        except sqlite3.Error as err:
            raise LedgerError(f"{self.path}: cannot check the roster: {err}") from err
        except _DAMAGE as err:
            raise _damaged(self.path, err) from err
        finally:
            rollback(connection)

    @_reading
    def series_row(self, series_id: str) -> dict[str, Any] | None:
        """The series' ledger row (title, last session, current snapshot, purge), or None."""
        with self._read() as connection:
            return fetch_row(connection, "series", [series_id])

    @_reading
    def series_content(self, series_id: str, sha256: str | None = None) -> bytes | None:
        """The series file as recorded (the current one unless `sha256` names another)."""
        with self._read() as connection:
            return recording.series_content(connection, series_id, sha256)

    def record_attendance(
        self,
        series_id: str,
        awards: Iterable[CreditAward],
        records: Iterable[AttendanceRecord],
        *,
        sources: Mapping[str, str] | None = None,
        only_sessions: Collection[int] | None = None,
        actor: str,
    ) -> int:
        """Keep the attendance evidence and credit results behind `awards`.

        For each enrolled person: their award (kind, points, hours, shortfalls) and, per
        attended session, the minutes, credit, the join/leave intervals used and their sources
        (file name, its SHA-256 from `sources`, platform, line numbers), and the records
        themselves (series_attendance() returns them). Sessions no longer attended are
        removed. With `only_sessions`, only those sessions' evidence is written or removed
        (the reports of this run cover them); the rest stays as recorded. Unchanged data
        writes nothing. Returns how many people changed.

        Raises:
            LedgerError: the series is not recorded (or was purged), or a person is not enrolled.
        """
        awards = tuple(awards)
        for award in awards:
            if award.series_id != series_id:
                raise InvalidArgumentError(
                    f"award for series {award.series_id!r}, not {series_id!r}"
                )
        file_hashes = dict(sources or {})
        with self._write(actor) as writer:
            return recording.record_attendance(
                writer,
                series_id,
                awards,
                records,
                file_hashes=file_hashes,
                only_sessions=only_sessions,
            )

    @_reading
    def series_attendance(self, series_id: str) -> tuple[AttendanceRecord, ...]:
        """Every attendance record kept for `series_id`, as record_attendance() was given it
        (aware times in their own zone, Evidence included), in one query: ordered by roster
        id, session, then time. Empty for a series not recorded or purged.

        Attendance recorded by a balint_cme before ledger schema 4 comes back as the union of
        its intervals in whole seconds, without evidence (that is all such a ledger kept).
        """
        with self._read() as connection:
            return recording.series_attendance(connection, series_id)

    # -- certificates (issuing.py; lookups in queries.py) ----------------------------------

    def reserve(
        self,
        *,
        series_id: str,
        participant_id: str,
        kind: Literal["credit", "participation"],
        credits: Decimal,
        session_dates: Sequence[date],
        claims: Mapping[str, Any],
        issued_on: date,
        actor: str,
        reason: str | None = None,
    ) -> Reservation:
        """Phase one of issuing: the number, version and issue date to print, idempotently.

        `claims` is everything else the certificate states (name, title, provider, ...) as JSON
        values; with kind, credits and session_dates it makes the claims fingerprint. Unchanged
        claims return the issued version with its ORIGINAL issue date ("unchanged"); changed
        claims reserve a new version of the same number ("new-version", with `reason` or
        "changed: <claim names>"); a reservation left by a crash is returned ("resumed").
        When `Reservation.needs_file`, write the PDF atomically, then confirm().

        Raises:
            LedgerError: the series is not recorded, was purged, or the person is not enrolled.
            ValueError: credits are not a non-negative multiple of 0.25, claims are not JSON
                values, or session_dates are not in order.
        """
        prepared = issuing.prepare_claims(kind, credits, session_dates, claims)
        why = _text(reason, "reason") if reason is not None else None
        with self._write(actor) as writer:
            return issuing.reserve(
                writer,
                prepared,
                number_prefix=self.number_prefix,
                series_id=series_id,
                participant_id=participant_id,
                issued_on=issued_on,
                reason=why,
            )

    def confirm(
        self,
        number: str,
        version: int,
        *,
        pdf_sha256: str,
        file_name: str,
        verification_code: str,
        actor: str,
        page_digest: str | None = None,
    ) -> CertificateRecord:
        """Phase two: record that the PDF of a reserved version is written; it is now issued.

        Call only after the file is in place (storage.write_atomically). Earlier issued
        versions of the number become superseded in the same transaction. Confirming an issued
        version again with the same hash and code changes nothing.

        Raises:
            LedgerError: no such reservation; it was revoked; or it was issued with another
                PDF or code.
        """
        issuing.check_confirmation(pdf_sha256, file_name, verification_code, page_digest)
        with self._write(actor) as writer:
            return issuing.confirm(
                writer,
                number=issuing.normalise_number(number),
                version=version,
                pdf_sha256=pdf_sha256,
                file_name=file_name,
                verification_code=verification_code,
                page_digest=page_digest,
            )

    def confirm_many(
        self,
        confirmations: Sequence[Confirmation],
        *,
        actor: str,
        redrawn: Sequence[Redrawn] = (),
    ) -> tuple[CertificateRecord, ...]:
        """confirm() for a whole batch in ONE transaction: every version is issued, or none.

        Each item is (number, version, pdf_sha256, file_name, verification_code, page_digest).
        A batch whose files are published together is confirmed together, so a failure (e.g.
        one of them revoked while the batch was drawn) leaves every one pending and the caller
        can take every file back. `redrawn` lists issued versions drawn again with unchanged
        claims: their new page digests are recorded in the same transaction.

        Raises:
            LedgerError: as confirm(), for the first item refused; nothing is confirmed.
        """
        for item in confirmations:
            issuing.check_confirmation(
                item.pdf_sha256, item.file_name, item.verification_code, item.page_digest
            )
        for again in redrawn:
            issuing.check_page_digest(again.page_digest)
            issuing.check_confirmation(again.pdf_sha256, "-", "-")
        with self._write(actor) as writer:
            records = tuple(
                issuing.confirm(
                    writer,
                    number=issuing.normalise_number(item.number),
                    version=item.version,
                    pdf_sha256=item.pdf_sha256,
                    file_name=item.file_name,
                    verification_code=item.verification_code,
                    page_digest=item.page_digest,
                )
                for item in confirmations
            )
            for again in redrawn:
                issuing.record_redrawn(
                    writer, again._replace(number=issuing.normalise_number(again.number))
                )
            return records

    def revoke(self, number: str, *, reason: str, actor: str) -> CertificateRecord:
        """Revoke a certificate (its issued and any pending version); returns the revoked record.

        A revoked number is never issued again (reserve() answers "revoked").

        Raises:
            LedgerError: unknown number, already revoked, or an empty reason.
        """
        reason = _text(reason, "the reason for revoking")
        with self._write(actor) as writer:
            return issuing.revoke(writer, number=issuing.normalise_number(number), reason=reason)

    @_reading
    def status(
        self, number: str, version: int | None = None, *, pdf_sha256: str | None = None
    ) -> CertificateStatus:
        """Verification: "valid", "superseded" (by current_version), "revoked" (reason),
        "pending", "altered" (given `pdf_sha256` differs from the issued PDF's), "purged"
        (deleted after retention) or "unknown". Without `version`, the current version."""
        key = issuing.normalise_number(number)
        if not issuing.NUMBER_PATTERN.fullmatch(key):
            return CertificateStatus(number=number.strip()[:60], state="unknown")
        with self._read() as connection:
            return queries.read_status(connection, key, version, pdf_sha256)

    @_reading
    def certificate_status(
        self, number: str, version: int | None = None, *, pdf_sha256: str | None = None
    ) -> CertificateStatus:
        """status(), answered only from rows proven against the audit chain.

        The number's `numbers` row and every version row of it (state, revocation,
        supersession, hashes, code) must each equal what the last audit event that wrote it
        recorded, and the event chain must re-compute to its head. This is what `verify` asks:
        an UPDATE that un-revokes a certificate, a deleted version, a re-hashed event, all
        raise rather than answer.

        Raises:
            LedgerTamperedError: a row or event differs from the chain (the message names it).
        """
        key = issuing.normalise_number(number)
        if not issuing.NUMBER_PATTERN.fullmatch(key):
            return CertificateStatus(number=number.strip()[:60], state="unknown")
        with self._read() as connection:
            return queries.proven_status(connection, self.path, key, version, pdf_sha256)

    @_reading
    def certificate(self, number: str, version: int | None = None) -> CertificateRecord | None:
        """One version of a certificate (the latest if `version` is None), or None."""
        with self._read() as connection:
            return queries.certificate(connection, issuing.normalise_number(number), version)

    @_reading
    def certificate_by_code(self, code: str) -> CertificateRecord | None:
        """The certificate version printed with verification `code` (as issued), or None."""
        with self._read() as connection:
            return queries.certificate_by_code(connection, code)

    @_reading
    def certificates(
        self,
        *,
        series_id: str | None = None,
        participant_id: str | None = None,
        state: str | None = None,
    ) -> tuple[CertificateRecord, ...]:
        """Every certificate version matching the filters, by number then version."""
        with self._read() as connection:
            return queries.certificates(
                connection, series_id=series_id, participant_id=participant_id, state=state
            )

    def certificate_for(self, series_id: str, participant_id: str) -> CertificateRecord | None:
        """The latest version of a person's certificate for a series, or None."""
        found = self.certificates(series_id=series_id, participant_id=participant_id)
        return found[-1] if found else None

    def pending(self) -> tuple[CertificateRecord, ...]:
        """Reservations not yet confirmed (left by an interrupted run)."""
        return self.certificates(state="pending")

    def check_files(self, directory: Path) -> tuple[str, ...]:
        """Problems with the PDFs of issued certificates under `directory`: missing or changed."""
        problems = []
        for record in self.certificates(state="issued"):
            assert record.file_name is not None
            # A page of a merged PDF is recorded as "file.pdf#page=3"; the hash is the file's.
            path = Path(directory) / record.file_name.split("#", 1)[0]
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as err:
                problems.append(
                    f"{record.number} v{record.version}: {path}: {err.strerror or 'unreadable'}"
                )
                continue
            if digest != record.pdf_sha256:
                problems.append(
                    f"{record.number} v{record.version}: {path} differs from the issued PDF"
                )
        return tuple(problems)

    # -- people and participation (queries.py) ---------------------------------------------

    @_reading
    def find_people(self, query: str, *, by_name: bool = True) -> tuple[PersonRecord, ...]:
        """The ledger people `query` names.

        First, everyone it names exactly: a ledger person id (P000001), `SERIES:ROSTER_ID`, an
        NPI, an e-mail (any case; the person's e-mail or an e-mail alias), or a roster id in
        any series (`p01`: one person per series that uses it). Failing those, and if
        `by_name`, people whose name or an alias matches it (any case, spaces collapsed). More
        than one result means the query is ambiguous (see resolve_person).
        """
        with self._read() as connection:
            return queries.find_people(connection, query, by_name=by_name)

    @_reading
    def resolve_person(self, query: str, *, by_name: bool = True) -> PersonRecord:
        """The one ledger person `query` names (see find_people for what it may be).

        Raises:
            LedgerError: nobody matches, or several people do (the message lists each with
                the ids that name them uniquely).
        """
        with self._read() as connection:
            return queries.resolve_person(connection, query, by_name=by_name)

    @_reading
    def person(self, person_id: str) -> PersonRecord | None:
        """The person with this ledger person id, or None."""
        with self._read() as connection:
            return queries.person(connection, person_id)

    @_reading
    def roster_entry(self, series_id: str, participant_id: str) -> PersonRecord | None:
        """The ledger person that roster id `participant_id` of `series_id` is, or None."""
        with self._read() as connection:
            return queries.roster_entry(connection, series_id, participant_id)

    @_reading
    def attendance_for(self, person: str) -> tuple[ParticipationRecord, ...]:
        """Participation across series of everyone `person` names (see find_people); for
        one person exactly, resolve_person() then attendance_of().

        For verification requests: each series with its sessions (dates, minutes, credit),
        the award and every certificate version; oldest series first.
        """
        with self._read() as connection:
            return queries.participation_of(connection, queries.find_people(connection, person))

    @_reading
    def attendance_of(self, person_id: str) -> tuple[ParticipationRecord, ...]:
        """One ledger person's participation in every series whose roster entry is linked to
        them (same NPI or e-mail), whatever roster ids the files use; oldest series first."""
        with self._read() as connection:
            who = queries.person(connection, person_id)
            return () if who is None else queries.participation_of(connection, [who])

    # -- consent (consent.py) --------------------------------------------------------------

    @_reading
    def _consenter(self, person: str) -> str:
        with self._read() as connection:
            return pars_consent.consenter(connection, person)

    def record_consent(
        self, person: str, *, wording_version: str, given_at: datetime, actor: str
    ) -> ConsentRecord:
        """Record that a person agreed (at `given_at`, to wording `wording_version`) to have
        completions reported to ACCME PARS. Replaces an earlier consent or withdrawal.

        `person` is a ledger person id, or anything else resolve_person() takes except a
        name: SERIES:ROSTER_ID, NPI, e-mail, or a roster id only one person uses. The consent is
        that person's, in every series they are linked to, and nobody else's.

        Raises:
            LedgerError: the person is not in the ledger, or `person` names several people.
        """
        wording = _text(wording_version, "wording_version", max_length=100)
        given_text = format_time(given_at)
        person_id = self._consenter(person)
        with self._write(actor) as writer:
            return pars_consent.record_consent(
                writer, person_id, wording=wording, given_text=given_text
            )

    def withdraw_consent(self, person: str, *, withdrawn_at: datetime, actor: str) -> ConsentRecord:
        """Record that a person (as for record_consent) withdrew consent to PARS reporting.

        Raises:
            LedgerError: no consent on record for the person, or no such person.
        """
        withdrawn_text = format_time(withdrawn_at)
        person_id = self._consenter(person)
        with self._write(actor) as writer:
            return pars_consent.withdraw_consent(writer, person_id, withdrawn_text=withdrawn_text)

    @_reading
    def consent(self, person: str) -> ConsentRecord | None:
        """The person's consent record (given or withdrawn), or None (also for no person)."""
        try:
            person_id = self._consenter(person)
        except LedgerError:
            return None
        with self._read() as connection:
            return pars_consent.stored_consent(connection, person_id)

    @_reading
    def consenting(self, *, series_id: str | None = None) -> dict[str, ConsentRecord]:
        """Consents that stand: ledger person id → consent; with `series_id`, that series'
        roster id → consent of the person the roster entry is. Pass the latter (per series)
        to balint_cme.io.pars as the consent mapping: a consent covers only its own person."""
        with self._read() as connection:
            return pars_consent.consenting(connection, series_id=series_id)

    # -- retention (retention.py) ----------------------------------------------------------

    @_reading
    def retention_ends_on(self, series_id: str) -> date | None:
        """The first day the series' records may be purged; None if no session was held.

        Raises:
            LedgerError: the series is not in the ledger.
        """
        with self._read() as connection:
            return retention.retention_end(connection, series_id, self.retention_years)

    def purge_series(
        self, series_id: str, *, reason: str, actor: str, today: date | None = None
    ) -> PurgeReport:
        """Delete a series' records once its retention period is over; the purge is audited.

        Deletes the snapshots, enrollments, attendance, awards and certificates of the series
        (certificate numbers stay reserved and verify as "purged"), and the personal data of
        people left with no other series. The audit log keeps ids and hashes only.

        Raises:
            RetentionError: the retention period is not over; the message names the date
                purging becomes allowed.
            LedgerError: the series is unknown or already purged.
        """
        reason = _text(reason, "the reason for purging")
        with self._write(actor) as writer:
            return retention.purge_series(
                writer, series_id, reason=reason, years=self.retention_years, today=today
            )

    # -- the audit chain -------------------------------------------------------------------

    def check_chain(
        self, *, expected_head: str | None = None, anchor: str | None = None
    ) -> ChainReport:
        """Verify every audit event's hash link and every covered row against the log.

        `anchor` is "SEQ:HASH" as printed after a change (anchor()): events 1..SEQ must be
        unchanged; events added since are fine. `expected_head` is a head hash kept elsewhere;
        the log must still END with it (so it fails after any legitimate change too).

        Raises:
            ValueError: `anchor` is not "SEQ:HASH".
        """
        kept = parse_anchor(anchor) if anchor is not None else None
        return self._check_chain(expected_head, kept)

    @_reading
    def _check_chain(self, expected_head: str | None, kept: tuple[int, str] | None) -> ChainReport:
        with self._read() as connection:
            return check_chain(connection, expected_head=expected_head, anchor=kept)

    def anchor(self) -> str:
        """ "SEQ:HASH" of the last audit event: keep it elsewhere; check_chain(anchor=...)
        later proves that events 1..SEQ were not rewritten."""
        return format_anchor(*self.head())

    @_reading
    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the last audit event."""
        with self._read() as connection:
            return queries.head(connection)

    @_reading
    def audit_events(
        self, *, subject: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> tuple[AuditEvent, ...]:
        """Audit events in order, optionally only those about `subject` (an id or number)."""
        with self._read() as connection:
            return queries.audit_events(
                connection, subject=subject, after_seq=after_seq, limit=limit
            )

    def reserve_many(
        self, requests: Sequence[issuing.ReservationRequest], *, actor: str
    ) -> tuple[Reservation, ...]:
        """reserve() for a whole batch in ONE transaction (one disk sync), in order: every
        reservation is made, or none. See reserve() for each answer.

        Raises:
            LedgerError: as reserve(), for the first request refused; nothing is reserved.
            ValueError: as reserve(), checked for every request before the transaction.
        """
        prepared = issuing.prepare_reservations(requests)
        with self._write(actor) as writer:
            return issuing.reserve_many(writer, prepared, number_prefix=self.number_prefix)
