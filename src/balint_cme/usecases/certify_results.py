"""What certify() did: the certificates it wrote, the people it left out, and manifest.json."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from balint_cme.io.reports import UnmatchedRow
from balint_cme.model import DomainModel, Series
from balint_cme.usecases.presentation import unmatched_document

__all__ = ["CertifyResult", "IssuedCertificate", "SkippedPerson", "manifest_bytes"]


class IssuedCertificate(DomainModel):
    """One certificate written by certify(), as the manifest lists it."""

    number: str
    version: int
    participant_id: str
    name: str
    kind: Literal["credit", "participation"]
    credits: Decimal | None
    hours: Decimal | None
    session_dates: tuple[date, ...]
    issued_on: date
    file: str
    """Relative to the output directory (the merged PDF's name when --merged)."""
    page: int
    sha256: str
    verification_code: str
    outcome: Literal["new", "new-version", "resumed", "unchanged"]


class SkippedPerson(DomainModel):
    """A roster person who gets no certificate, and why."""

    participant_id: str
    name: str
    reason: str


class CertifyResult(DomainModel):
    """What certify() did."""

    series_id: str
    out_dir: Path
    issued: tuple[IssuedCertificate, ...]
    skipped: tuple[SkippedPerson, ...]
    manifest: Path
    warnings: tuple[str, ...] = ()
    unmatched: tuple[UnmatchedRow, ...] = ()
    """Report rows that matched nobody (they earned nothing; add an alias and re-run)."""

    @property
    def new_count(self) -> int:
        """Certificates (or versions) issued by this run."""
        return sum(1 for item in self.issued if item.outcome != "unchanged")


def manifest_bytes(
    series: Series,
    issued: Sequence[IssuedCertificate],
    skipped: Sequence[SkippedPerson],
    unmatched: Sequence[UnmatchedRow],
) -> bytes:
    document = {
        "series": series.id,
        "title": series.title,
        "certificates": [
            {
                "number": item.number,
                "version": item.version,
                "person": item.participant_id,
                "name": item.name,
                "kind": item.kind,
                "credits": None if item.credits is None else f"{item.credits:.2f}",
                "hours": None if item.hours is None else f"{item.hours:.2f}",
                "session_dates": [d.isoformat() for d in item.session_dates],
                "issued_on": item.issued_on.isoformat(),
                "file": item.file,
                "page": item.page,
                "sha256": item.sha256,
                "verification_code": item.verification_code,
            }
            for item in issued
        ],
        "no_certificate": [
            {"person": s.participant_id, "name": s.name, "reason": s.reason} for s in skipped
        ],
        "unmatched": unmatched_document(unmatched),
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
