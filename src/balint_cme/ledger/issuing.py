"""Certificate numbers and versions: reserve → (caller writes the PDF) → confirm; revoke; status.

One number per person per series, allocated from a global sequence inside the write
transaction, so two processes never get the same one and a rolled-back transaction loses none.
A version is "pending" until confirm() records the PDF's SHA-256, so a crash between the two
leaves a reservation that the next run completes, never a recorded certificate without a file.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from balint_cme.errors import LedgerError
from balint_cme.ledger.chain import canonical_json
from balint_cme.ledger.records import (
    CertificateRecord,
    CertificateStatus,
    Reservation,
)
from balint_cme.ledger.schema import TABLES
from balint_cme.ledger.writer import Writer, fetch_row, parse_time

__all__ = [
    "NUMBER_PATTERN",
    "Confirmation",
    "PreparedClaims",
    "Redrawn",
    "ReservationRequest",
    "certificate_from_row",
    "check_confirmation",
    "claims_fingerprint",
    "confirm",
    "format_number",
    "normalise_number",
    "pending_certificate_row",
    "prepare_claims",
    "prepare_reservations",
    "read_status",
    "record_redrawn",
    "reserve",
    "reserve_many",
    "revoke",
]

NUMBER_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,9}-\d{4}-\d{6,}")
"""A certificate number: PREFIX-YEAR-SEQUENCE, e.g. "BC-2026-000123"."""

_CERTIFICATE_COLUMNS = ", ".join(TABLES["certificates"].columns)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PAGE_DIGEST = re.compile(r"[0-9a-f]{32,128}")


def format_number(prefix: str, year: int, seq: int) -> str:
    """ "BC-2026-000123": the prefix, the year of first issue and the global sequence number."""
    return f"{prefix}-{year:04d}-{seq:06d}"


def normalise_number(text: str) -> str:
    """A number as typed ("bc-2026-000123 ") in its stored form ("BC-2026-000123")."""
    return text.strip().upper()


def _credits_text(credits: Decimal) -> str:
    if not isinstance(credits, Decimal) or not credits.is_finite() or credits < 0:
        raise ValueError(f"credits must be a non-negative Decimal, not {credits!r}")
    if credits % Decimal("0.25") != 0:
        raise ValueError(f"credits {credits} is not a multiple of 0.25")
    return f"{credits:.2f}"


def _claim_view(
    kind: str, credits_text: str, session_dates: Sequence[str], claims: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "kind": kind,
        "credits": credits_text,
        "session_dates": list(session_dates),
        "claims": dict(claims),
    }


def claims_fingerprint(
    kind: str, credits: Decimal, session_dates: Sequence[date], claims: Mapping[str, Any]
) -> str:
    """SHA-256 of what a certificate states (besides number, version, date and code)."""
    view = _claim_view(kind, _credits_text(credits), [d.isoformat() for d in session_dates], claims)
    return hashlib.sha256(canonical_json(view).encode("utf-8")).hexdigest()


def _changed_claims(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    changed = [name for name in ("kind", "credits", "session_dates") if old[name] != new[name]]
    old_claims, new_claims = old["claims"], new["claims"]
    changed.extend(
        sorted(
            key
            for key in set(old_claims) | set(new_claims)
            if old_claims.get(key) != new_claims.get(key)
        )
    )
    return tuple(changed)


def certificate_from_row(
    row: Mapping[str, Any], page_digests: Sequence[str] = ()
) -> CertificateRecord:
    """A certificates-table row as a record (with the version's recorded page digests)."""
    return CertificateRecord(
        number=row["number"],
        version=row["version"],
        series_id=row["series_id"],
        participant_id=row["participant_id"],
        kind=row["kind"],
        credits=Decimal(row["credits"]),
        session_dates=tuple(date.fromisoformat(d) for d in json.loads(row["session_dates"])),
        issued_on=date.fromisoformat(row["issued_on"]),
        claims=json.loads(row["claims"]),
        claims_fingerprint=row["claims_fingerprint"],
        series_sha256=row["series_sha256"],
        reason=row["reason"],
        state=row["state"],
        reserved_at=parse_time(row["reserved_at"]),
        confirmed_at=parse_time(row["confirmed_at"]),
        verification_code=row["verification_code"],
        pdf_sha256=row["pdf_sha256"],
        file_name=row["file_name"],
        superseded_by=row["superseded_by"],
        superseded_at=parse_time(row["superseded_at"]),
        revoked_at=parse_time(row["revoked_at"]),
        revoked_reason=row["revoked_reason"],
        revoked_by=row["revoked_by"],
        page_digests=tuple(page_digests),
    )


def page_digests_of(connection: sqlite3.Connection, number: str) -> dict[int, tuple[str, ...]]:
    """Version → the page digests recorded for it."""
    found: dict[int, list[str]] = {}
    for version, digest in connection.execute(
        "SELECT version, digest FROM page_digests WHERE number = ? ORDER BY version, digest",
        (number,),
    ):
        found.setdefault(version, []).append(digest)
    return {version: tuple(digests) for version, digests in found.items()}


def _put_page_digest(writer: Writer, row: Mapping[str, Any], digest: str) -> bool:
    """Record `digest` for the version `row` (in the caller's event); False if it was known."""
    key = [row["number"], row["version"], digest]
    if fetch_row(writer.connection, "page_digests", key) is not None:
        return False
    writer.put(
        "page_digests",
        {
            "number": row["number"],
            "version": row["version"],
            "digest": digest,
            "series_id": row["series_id"],
            "recorded_at": writer.at,
        },
    )
    return True


def version_with_code(connection: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """The version row printed with verification `code`, or None."""
    row = connection.execute(
        f"SELECT {_CERTIFICATE_COLUMNS} FROM certificates WHERE verification_code = ?",
        (code,),
    ).fetchone()
    columns = TABLES["certificates"].columns
    return None if row is None else dict(zip(columns, row, strict=True))


def versions_of(connection: sqlite3.Connection, number: str) -> list[dict[str, Any]]:
    """Every version row of `number`, oldest first."""
    cursor = connection.execute(
        f"SELECT {_CERTIFICATE_COLUMNS} FROM certificates WHERE number = ? ORDER BY version",
        (number,),
    )
    columns = TABLES["certificates"].columns
    return [dict(zip(columns, values, strict=True)) for values in cursor]


class Confirmation(NamedTuple):
    """One item of Ledger.confirm_many(): the arguments of Ledger.confirm()."""

    number: str
    version: int
    pdf_sha256: str
    file_name: str
    verification_code: str
    page_digest: str | None = None
    """page_seal.page_digest of the file (hex), recorded so verify can tell its page from
    another one sealed for the same claims; None for a page of a merged file."""


class Redrawn(NamedTuple):
    """An issued version drawn again with unchanged claims (Ledger.confirm_many(redrawn=))."""

    number: str
    version: int
    pdf_sha256: str
    page_digest: str


class PreparedClaims(NamedTuple):
    """A certificate's claims checked and in stored form, before any transaction starts."""

    kind: str
    credits_text: str
    dates: list[str]
    view: dict[str, Any]
    fingerprint: str
    claims_text: str


def prepare_claims(
    kind: str, credits: Decimal, session_dates: Sequence[date], claims: Mapping[str, Any]
) -> PreparedClaims:
    """Check the arguments of reserve() and compute the fingerprint.

    Raises:
        ValueError: unknown kind, credits not a non-negative multiple of 0.25, dates out of
            order, or claims that are not JSON values.
    """
    if kind not in ("credit", "participation"):
        raise ValueError(f"kind must be 'credit' or 'participation', not {kind!r}")
    credits_text = _credits_text(credits)
    dates = [d.isoformat() for d in session_dates]
    if dates != sorted(set(dates)):
        raise ValueError("session_dates must be distinct and in date order")
    view = _claim_view(kind, credits_text, dates, claims)
    fingerprint = hashlib.sha256(canonical_json(view).encode("utf-8")).hexdigest()
    return PreparedClaims(
        kind, credits_text, dates, view, fingerprint, canonical_json(dict(claims))
    )


def check_page_digest(page_digest: str | None) -> None:
    """Raises ValueError unless `page_digest` is None or lowercase hexadecimal of a digest."""
    if page_digest is not None and (
        not isinstance(page_digest, str) or not _PAGE_DIGEST.fullmatch(page_digest)
    ):
        raise ValueError("page_digest must be 32-128 lowercase hexadecimal digits")


def check_confirmation(
    pdf_sha256: str, file_name: str, verification_code: str, page_digest: str | None = None
) -> None:
    """Check the arguments of confirm() before any transaction starts.

    Raises:
        ValueError: a malformed hash, file name, code or page digest.
    """
    check_page_digest(page_digest)
    if not isinstance(pdf_sha256, str) or not _SHA256.fullmatch(pdf_sha256):
        raise ValueError("pdf_sha256 must be 64 lowercase hexadecimal digits")
    if not file_name or "\x00" in file_name or len(file_name) > 1000:
        raise ValueError("file_name must be 1-1000 characters without NUL")
    if not verification_code or len(verification_code) > 500:
        raise ValueError("verification_code must be 1-500 characters")


def pending_certificate_row(
    *,
    number: str,
    version: int,
    series_id: str,
    participant_id: str,
    kind: str,
    credits: str,
    session_dates: Sequence[str],
    issued_on: str,
    claims: str,
    claims_fingerprint: str,
    series_sha256: str,
    reason: str | None,
    reserved_at: str,
) -> dict[str, object]:
    """A `certificates` row for a newly reserved (pending) version, in stored form."""
    return {
        "number": number,
        "version": version,
        "series_id": series_id,
        "participant_id": participant_id,
        "kind": kind,
        "credits": credits,
        "session_dates": canonical_json(list(session_dates)),
        "issued_on": issued_on,
        "claims": claims,
        "claims_fingerprint": claims_fingerprint,
        "series_sha256": series_sha256,
        "reason": reason,
        "state": "pending",
        "reserved_at": reserved_at,
        "confirmed_at": None,
        "verification_code": None,
        "pdf_sha256": None,
        "file_name": None,
        "superseded_by": None,
        "superseded_at": None,
        "revoked_at": None,
        "revoked_reason": None,
        "revoked_by": None,
    }


def reserve(
    writer: Writer,
    prepared: PreparedClaims,
    *,
    number_prefix: str,
    series_id: str,
    participant_id: str,
    issued_on: date,
    reason: str | None,
) -> Reservation:
    """Phase one of issuing (see Ledger.reserve)."""
    kind, credits_text, dates, view, fingerprint, claims_text = prepared
    connection = writer.connection

    series = fetch_row(connection, "series", [series_id])
    if series is None:
        raise LedgerError(f"series {series_id!r} is not in the ledger: record the series first")
    if series["purged_at"] is not None:
        raise LedgerError(f"series {series_id!r} was purged on {series['purged_at'][:10]}")
    if fetch_row(connection, "enrollments", [series_id, participant_id]) is None:
        raise LedgerError(f"{participant_id!r} is not enrolled in series {series_id!r}")

    def new_row(number: str, version: int) -> dict[str, object]:
        return pending_certificate_row(
            number=number,
            version=version,
            series_id=series_id,
            participant_id=participant_id,
            kind=kind,
            credits=credits_text,
            session_dates=dates,
            issued_on=issued_on.isoformat(),
            claims=claims_text,
            claims_fingerprint=fingerprint,
            series_sha256=series["current_sha256"],
            reason=reason,
            reserved_at=writer.at,
        )

    holder = connection.execute(
        "SELECT number FROM numbers WHERE series_id = ? AND participant_id = ?",
        (series_id, participant_id),
    ).fetchone()
    if holder is None:
        seq = connection.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM numbers").fetchone()[0]
        number = format_number(number_prefix, issued_on.year, seq)
        writer.put(
            "numbers",
            {
                "number": number,
                "seq": seq,
                "series_id": series_id,
                "participant_id": participant_id,
                "purged_at": None,
            },
        )
        row = new_row(number, 1)
        writer.put("certificates", row)
        writer.event(
            "certificate.reserved",
            number,
            {"version": 1, "series_id": series_id, "participant_id": participant_id},
        )
        return Reservation(outcome="new", certificate=certificate_from_row(row))

    number = holder[0]
    rows = versions_of(connection, number)
    latest = rows[-1]
    revoked = [r for r in rows if r["state"] == "revoked"]
    if revoked:
        return Reservation(outcome="revoked", certificate=certificate_from_row(revoked[-1]))
    issued = [r for r in rows if r["state"] == "issued"]

    def view_of(r: Mapping[str, Any]) -> dict[str, Any]:
        return _claim_view(
            r["kind"], r["credits"], json.loads(r["session_dates"]), json.loads(r["claims"])
        )

    if latest["state"] == "pending":
        if latest["claims_fingerprint"] == fingerprint:
            return Reservation(outcome="resumed", certificate=certificate_from_row(latest))
        if issued and issued[-1]["claims_fingerprint"] == fingerprint:
            # The change that caused the pending version was undone before it was issued.
            writer.delete("certificates", [number, latest["version"]])
            writer.event(
                "certificate.reservation-abandoned",
                number,
                {"version": latest["version"], "reason": "claims back to the issued version"},
            )
            return Reservation(outcome="unchanged", certificate=certificate_from_row(issued[-1]))
        changed = _changed_claims(view_of(latest), view)
        base = view_of(issued[-1]) if issued else None
        row = new_row(number, latest["version"])
        if issued:
            row["reason"] = reason or "changed: " + ", ".join(_changed_claims(base or {}, view))
        writer.put("certificates", row)
        writer.event(
            "certificate.reservation-updated",
            number,
            {"version": latest["version"], "changed": list(changed)},
        )
        return Reservation(
            outcome="resumed", certificate=certificate_from_row(row), changed=changed
        )

    current = issued[-1]
    if current["claims_fingerprint"] == fingerprint:
        return Reservation(outcome="unchanged", certificate=certificate_from_row(current))
    changed = _changed_claims(view_of(current), view)
    version = latest["version"] + 1
    row = new_row(number, version)
    row["reason"] = reason or "changed: " + ", ".join(changed)
    writer.put("certificates", row)
    writer.event(
        "certificate.reserved",
        number,
        {
            "version": version,
            "series_id": series_id,
            "participant_id": participant_id,
            "supersedes": current["version"],
            "changed": list(changed),
        },
    )
    return Reservation(
        outcome="new-version", certificate=certificate_from_row(row), changed=changed
    )


def confirm(
    writer: Writer,
    *,
    number: str,
    version: int,
    pdf_sha256: str,
    file_name: str,
    verification_code: str,
    page_digest: str | None = None,
) -> CertificateRecord:
    """Phase two of issuing (see Ledger.confirm); arguments checked by check_confirmation()."""
    rows = versions_of(writer.connection, number)
    target = next((r for r in rows if r["version"] == version), None)
    if target is None:
        raise LedgerError(f"certificate {number} version {version} was never reserved")
    if target["state"] == "issued":
        if (target["pdf_sha256"], target["verification_code"]) == (pdf_sha256, verification_code):
            return certificate_from_row(target)
        raise LedgerError(
            f"certificate {number} version {version} was already issued with a different PDF "
            "or code; the file on disk may have been replaced"
        )
    if target["state"] != "pending":
        raise LedgerError(
            f"certificate {number} version {version} is {target['state']}; it cannot be issued"
        )
    target = {
        **target,
        "state": "issued",
        "confirmed_at": writer.at,
        "pdf_sha256": pdf_sha256,
        "file_name": file_name,
        "verification_code": verification_code,
    }
    writer.put("certificates", target)
    if page_digest is not None:
        _put_page_digest(writer, target, page_digest)
    superseded: list[int] = []
    for row in rows:
        if row["state"] == "issued" and row["version"] < version:
            writer.put(
                "certificates",
                {
                    **row,
                    "state": "superseded",
                    "superseded_by": version,
                    "superseded_at": writer.at,
                },
            )
            superseded.append(row["version"])
    writer.event(
        "certificate.issued",
        number,
        {
            "version": version,
            "pdf_sha256": pdf_sha256,
            "file_name": file_name,
            "supersedes": superseded,
            "reason": target["reason"],
            **({"page_digest": page_digest} if page_digest is not None else {}),
        },
    )
    return certificate_from_row(target, () if page_digest is None else (page_digest,))


def record_redrawn(writer: Writer, redrawn: Redrawn) -> bool:
    """Record the page digest of an issued version drawn again with unchanged claims (another
    layout or balint_cme version), so verify accepts that page too; False if already known.

    Raises:
        LedgerError: the version is not issued (a superseded or revoked page is never re-drawn).
    """
    row = fetch_row(writer.connection, "certificates", [redrawn.number, redrawn.version])
    if row is None or row["state"] != "issued":
        state = "never reserved" if row is None else row["state"]
        raise LedgerError(
            f"certificate {redrawn.number} version {redrawn.version} is {state}; its page "
            "cannot be recorded as re-drawn"
        )
    if not _put_page_digest(writer, row, redrawn.page_digest):
        return False
    writer.event(
        "certificate.redrawn",
        redrawn.number,
        {
            "version": redrawn.version,
            "pdf_sha256": redrawn.pdf_sha256,
            "page_digest": redrawn.page_digest,
        },
    )
    return True


def revoke(writer: Writer, *, number: str, reason: str) -> CertificateRecord:
    """Revoke the issued (and any pending) version of `number` (see Ledger.revoke)."""
    rows = versions_of(writer.connection, number)
    if not rows:
        raise LedgerError(f"no certificate {number!r} in the ledger")
    live = [r for r in rows if r["state"] in ("issued", "pending")]
    if not live:
        revoked = [r for r in rows if r["state"] == "revoked"]
        if revoked:
            raise LedgerError(
                f"certificate {number} was already revoked on {revoked[-1]['revoked_at'][:10]}: "
                f"{revoked[-1]['revoked_reason']}"
            )
        raise LedgerError(f"certificate {number} has no current version to revoke")
    last: dict[str, Any] = live[-1]
    for row in live:
        last = {
            **row,
            "state": "revoked",
            "revoked_at": writer.at,
            "revoked_reason": reason,
            "revoked_by": writer.actor,
        }
        writer.put("certificates", last)
    writer.event(
        "certificate.revoked",
        number,
        {"versions": [r["version"] for r in live], "reason": reason},
    )
    return certificate_from_row(last)


def read_status(
    connection: sqlite3.Connection, number: str, version: int | None, pdf_sha256: str | None
) -> CertificateStatus:
    """The verification answer for `number` (see Ledger.status)."""
    rows = versions_of(connection, number)
    if not rows:
        purged = connection.execute(
            "SELECT purged_at FROM numbers WHERE number = ?", (number,)
        ).fetchone()
        if purged is not None and purged[0] is not None:
            return CertificateStatus(number=number, state="purged")
        return CertificateStatus(number=number, state="unknown")
    digests = page_digests_of(connection, number)
    records = [certificate_from_row(r, digests.get(r["version"], ())) for r in rows]
    current = next((r for r in reversed(records) if r.state == "issued"), None)
    revoked = next((r for r in reversed(records) if r.state == "revoked"), None)
    if version is None:
        target = current or revoked or records[-1]
    else:
        found = next((r for r in records if r.version == version), None)
        if found is None:
            return CertificateStatus(
                number=number,
                state="unknown",
                version=version,
                current_version=current.version if current else None,
                reason=f"certificate {number} has no version {version}",
                current=current,
            )
        target = found
    common: dict[str, Any] = {
        "number": number,
        "version": target.version,
        "current_version": current.version if current else None,
        "certificate": target,
        "current": current,
    }
    if revoked is not None and current is None:
        return CertificateStatus(state="revoked", reason=revoked.revoked_reason, **common)
    if target.state == "pending":
        return CertificateStatus(state="pending", **common)
    if pdf_sha256 is not None and target.pdf_sha256 != pdf_sha256.lower():
        return CertificateStatus(
            state="altered",
            reason="the file's SHA-256 differs from the PDF recorded when it was issued",
            **common,
        )
    if target.state == "superseded":
        newer = next((r for r in records if r.version == target.superseded_by), None)
        return CertificateStatus(
            state="superseded", reason=newer.reason if newer else None, **common
        )
    return CertificateStatus(state="valid", **common)


class ReservationRequest(NamedTuple):
    """One item of Ledger.reserve_many(): the arguments of Ledger.reserve() (without reason)."""

    series_id: str
    participant_id: str
    kind: str
    credits: Decimal
    session_dates: Sequence[date]
    claims: Mapping[str, Any]
    issued_on: date


def prepare_reservations(
    requests: Sequence[ReservationRequest],
) -> list[tuple[ReservationRequest, PreparedClaims]]:
    """Check every request of a batch (prepare_claims) before any transaction starts.

    Raises:
        ValueError: as prepare_claims(), for the first request refused.
    """
    return [
        (
            request,
            prepare_claims(request.kind, request.credits, request.session_dates, request.claims),
        )
        for request in requests
    ]


def reserve_many(
    writer: Writer,
    prepared: Sequence[tuple[ReservationRequest, PreparedClaims]],
    *,
    number_prefix: str,
) -> tuple[Reservation, ...]:
    """reserve() for a whole batch inside the caller's ONE transaction, in order (see
    Ledger.reserve_many): every reservation is made, or none."""
    return tuple(
        reserve(
            writer,
            claims,
            number_prefix=number_prefix,
            series_id=request.series_id,
            participant_id=request.participant_id,
            issued_on=request.issued_on,
            reason=None,
        )
        for request, claims in prepared
    )
