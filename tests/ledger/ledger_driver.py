"""A certify-like batch over the ledger, run as a subprocess by the crash and concurrency tests.

    python ledger_driver.py LEDGER OUT_DIR --series ID --people 0:40 [--reverse] [--claims 2]
        [--go FILE]

Records a generated series, then for each person: reserve → write a small deterministic
"PDF" atomically → confirm, printing "ready" once and then one line per person
("done <id> <number> <version> <outcome>"). With --go it waits for FILE to exist after "ready",
so two drivers can start their batches together. --claims 2 changes every name (new versions).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from balint_cme import CreditDesignation, Participant, Provider, Series, Session
from balint_cme.ledger import Ledger
from balint_cme.storage import write_atomically

ISSUED_ON = date(2026, 1, 15)
SESSION_ON = date(2025, 1, 8)


def build_series(series_id: str, people: range) -> Series:
    return Series(
        id=series_id,
        title=f"Driver series {series_id}",
        timezone="UTC",
        provider=Provider(accredited="Example Medical Society", accreditor="ACCME"),
        credit=CreditDesignation(per_session=Decimal(1), series_maximum=Decimal(1)),
        sessions=(
            Session(
                number=1,
                starts_at=datetime(2025, 1, 8, 18, 0, tzinfo=UTC),
                duration_minutes=60,
                credit=Decimal(1),
            ),
        ),
        participants=tuple(
            Participant(id=f"p{i:04d}", name=f"Person {i}", credentials="MD") for i in people
        ),
    )


def fake_pdf(number: str, version: int, fingerprint: str) -> bytes:
    return f"%PDF-driver {number} v{version} {fingerprint}\n".encode() * 20


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("ledger", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--series", default="driver-series")
    parser.add_argument("--people", default="0:40")
    parser.add_argument("--reverse", action="store_true")
    parser.add_argument("--claims", type=int, default=1)
    parser.add_argument("--go", type=Path)
    args = parser.parse_args(argv)
    start, end = (int(part) for part in args.people.split(":"))
    series = build_series(args.series, range(start, end))
    people = list(series.participants)
    if args.reverse:
        people.reverse()
    with Ledger.open(
        args.ledger, clock=lambda: datetime(2026, 1, 15, 12, 0, tzinfo=UTC), timeout_seconds=60
    ) as ledger:
        ledger.record_series(
            series,
            content=series.model_dump_json().encode(),
            file_name=f"{args.series}.json",
            actor="driver",
        )
        print("ready", flush=True)
        while args.go is not None and not args.go.exists():
            time.sleep(0.005)
        for person in people:
            name = person.name if args.claims == 1 else f"{person.name} (v{args.claims})"
            reservation = ledger.reserve(
                series_id=series.id,
                participant_id=person.id,
                kind="credit",
                credits=Decimal("1.00"),
                session_dates=[SESSION_ON],
                claims={"name": name},
                issued_on=ISSUED_ON,
                actor="driver",
            )
            certificate = reservation.certificate
            if reservation.needs_file:
                pdf = fake_pdf(
                    certificate.number, certificate.version, certificate.claims_fingerprint
                )
                file_name = f"{certificate.number}-v{certificate.version}.pdf"
                write_atomically(args.out / file_name, pdf)
                ledger.confirm(
                    certificate.number,
                    certificate.version,
                    pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                    file_name=file_name,
                    verification_code=f"code-{certificate.number}-{certificate.version}",
                    actor="driver",
                )
            print(
                "done",
                person.id,
                certificate.number,
                certificate.version,
                reservation.outcome,
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
