"""Certificate numbers and versions: reserve → (caller writes the PDF) → confirm; revoke.

One number per person per series, allocated from a global sequence inside the write
transaction, so two processes never get the same one and a rolled-back transaction loses none.
A version is "pending" until confirm() records the PDF's SHA-256, so a crash between the two
leaves a reservation that the next run completes, never a recorded certificate without a file.
A certificate's status (the verification answer) is a read: queries.read_status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from balint_cme.errors import LedgerError
from balint_cme.ledger.certificate_rows import (
    NUMBER_PATTERN,
    Confirmation,
    PreparedClaims,
    Redrawn,
    certificate_from_row,
    check_confirmation,
    check_page_digest,
    claims_fingerprint,
    format_number,
    normalise_number,
    page_digests_of,
    pending_certificate_row,
    prepare_claims,
    version_with_code,
    versions_of,
)
from balint_cme.ledger.certificate_rows import changed_claims as _changed_claims
from balint_cme.ledger.certificate_rows import claim_view as _claim_view
from balint_cme.ledger.records import (
    CertificateRecord,
    Reservation,
)
from balint_cme.ledger.writer import Writer, fetch_row

# The numbers, claims and row forms live in certificate_rows.py; they are re-exported here so
# `from balint_cme.ledger.issuing import X` keeps working for every name issuing.py had.
__all__ = [
    "NUMBER_PATTERN",
    "Confirmation",
    "PreparedClaims",
    "Redrawn",
    "ReservationRequest",
    "certificate_from_row",
    "check_confirmation",
    "check_page_digest",
    "claims_fingerprint",
    "confirm",
    "format_number",
    "normalise_number",
    "page_digests_of",
    "pending_certificate_row",
    "prepare_claims",
    "prepare_reservations",
    "record_redrawn",
    "reserve",
    "reserve_many",
    "revoke",
    "version_with_code",
    "versions_of",
]


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
