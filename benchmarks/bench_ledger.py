"""Ledger benchmark: 100,000 issued certificates and 1,000,000 audit events.

Run by hand (`.venv/bin/python benchmarks/bench_ledger.py`); never part of the test suite.
Builds the ledger directly with executemany in large transactions, using the ledger's own
row and event hashing so the chain is valid, then times verification lookups
(Ledger.status by number, target under 5 ms; Ledger.certificate_status, which verify asks and
which counts the events since the certificate's first one, target under 1 s) and a full Ledger.check_chain() (target under
10 s). The data: 1,000 series of 5 sessions with 100 enrolled each, 20,000 people, 500,000
attendance rows, 100,000 certificate numbers (20,000 re-issued as version 2, 1,000 revoked),
consent for every person, and withdrawals to make exactly the number of events asked for.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from balint_cme.ledger import Ledger
from balint_cme.ledger.chain import canonical_json, event_hash, event_json, row_hash, row_key
from balint_cme.ledger.issuing import pending_certificate_row
from balint_cme.ledger.schema import TABLES

SERIES = 1_000
PER_SERIES = 100
PEOPLE = 20_000
SESSIONS = 5
ACTOR = "benchmark"
CHUNK = 50_000


class Builder:
    """Appends events and final rows in bulk, keeping the hash chain."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.seq, self.previous = connection.execute(
            "SELECT seq, hash FROM chain_head WHERE id = 1"
        ).fetchone()
        self.events: list[tuple[Any, ...]] = []
        self.rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
        self.at = ""

    def change(self, table: str, row: dict[str, Any]) -> tuple[list[str], tuple[Any, ...]]:
        values = tuple(row[c] for c in TABLES[table].columns)
        return [table, row_key(table, values), row_hash(table, values)], values

    def event(self, action: str, subject: str, details: dict[str, Any], changes: list[Any]) -> None:
        self.seq += 1
        details_text = canonical_json(details)
        changes_text = canonical_json(changes)
        text = event_json(self.seq, self.at, ACTOR, action, subject, details_text, changes_text)
        self.previous = event_hash(self.previous, text)
        self.events.append(
            (self.seq, self.at, ACTOR, action, subject, details_text, changes_text, self.previous)
        )
        if len(self.events) >= CHUNK:
            self.flush()

    def final(self, table: str, values: tuple[Any, ...]) -> None:
        self.rows[table].append(values)

    def flush(self) -> None:
        self.connection.executemany(
            "INSERT INTO audit (seq, at, actor, action, subject, details, changes, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self.events,
        )
        self.events.clear()
        for table, rows in self.rows.items():
            if rows:
                columns = TABLES[table].columns
                self.connection.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    rows,
                )
                rows.clear()

    def finish(self) -> None:
        self.flush()
        self.connection.execute(
            "UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (self.seq, self.previous)
        )


def certificate_row(
    number: str, version: int, series_id: str, pid: str, dates: list[str], name: str, at: str
) -> dict[str, Any]:
    claims = canonical_json({"name": name, "title": f"Balint group {series_id}"})
    return pending_certificate_row(
        number=number,
        version=version,
        series_id=series_id,
        participant_id=pid,
        kind="credit",
        credits="5.00",
        session_dates=dates,
        issued_on=dates[-1],
        claims=claims,
        claims_fingerprint=hashlib.sha256(claims.encode()).hexdigest(),
        series_sha256="0" * 64,
        reason=None if version == 1 else "changed: name",
        reserved_at=at,
    )


def build(path: Path, target_events: int) -> tuple[list[str], int]:
    Ledger.open(path, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC)).close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("BEGIN")
    builder = Builder(connection)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    numbers: list[str] = []
    seen_people: set[int] = set()
    for s in range(SERIES):
        series_id = f"series-{s:04d}"
        first = date(2019, 1, 9) + timedelta(days=2 * s)
        dates = [(first + timedelta(days=7 * k)).isoformat() for k in range(SESSIONS)]
        builder.at = (start + timedelta(hours=s)).isoformat(timespec="microseconds")
        content = f'id = "{series_id}"\n'.encode()
        snapshot = {
            "series_id": series_id,
            "sha256": f"{s:064x}",
            "file_name": f"{series_id}.toml",
            "content": content,
            "recorded_at": builder.at,
        }
        series_row = {
            "series_id": series_id,
            "title": f"Balint group {series_id}",
            "last_session_on": dates[-1],
            "current_sha256": f"{s:064x}",
            "purged_at": None,
            "purge_reason": None,
        }
        c1, v1 = builder.change("series_snapshots", snapshot)
        c2, v2 = builder.change("series", series_row)
        builder.event("series.recorded", series_id, {"sha256": snapshot["sha256"]}, [c1, c2])
        builder.final("series_snapshots", v1)
        builder.final("series", v2)
        for j in range(PER_SERIES):
            person = (s * PER_SERIES + j) % PEOPLE
            pid = f"p{person:05d}"
            name = f"Person {person}"
            if person not in seen_people:
                seen_people.add(person)
                c, v = builder.change(
                    "people",
                    {
                        "person_id": pid,
                        "name": name,
                        "credentials": "MD",
                        "email": f"{pid}@example.org",
                        "npi": None,
                        "license_state": "CA",
                        "license_number": f"A{person:06d}",
                        "birth_month": 1 + person % 12,
                        "birth_day": 1 + person % 28,
                        "aliases": "[]",
                    },
                )
                builder.event("person.recorded", pid, {"series_id": series_id}, [c])
                builder.final("people", v)
            c, v = builder.change(
                "enrollments",
                {"series_id": series_id, "participant_id": pid, "recorded_at": builder.at},
            )
            builder.event("enrollment.recorded", pid, {"series_id": series_id}, [c])
            builder.final("enrollments", v)
            c, v = builder.change(
                "person_links",
                {
                    "series_id": series_id,
                    "participant_id": pid,
                    "person_id": pid,
                    "recorded_at": builder.at,
                },
            )
            builder.event("person.linked", pid, {"series_id": series_id}, [c])
            builder.final("person_links", v)
            c, v = builder.change(
                "awards",
                {
                    "series_id": series_id,
                    "participant_id": pid,
                    "kind": "credit",
                    "points": "5.00",
                    "participation_hours": "5.00",
                    "is_physician": 1,
                    "shortfalls": "[]",
                },
            )
            builder.event("attendance.recorded", pid, {"series_id": series_id}, [c])
            builder.final("awards", v)
            for k, held_on in enumerate(dates, start=1):
                c, v = builder.change(
                    "attendance",
                    {
                        "series_id": series_id,
                        "participant_id": pid,
                        "session": k,
                        "held_on": held_on,
                        "attended_seconds": 3600,
                        "credit": "1.00",
                        "hours": "1.00",
                        "reason": None,
                        "intervals": canonical_json(
                            [[f"{held_on}T18:45:00-08:00", f"{held_on}T19:45:00-08:00"]]
                        ),
                        "sources": canonical_json(
                            [
                                {
                                    "file": f"zoom-{held_on}.csv",
                                    "sha256": f"{k:064x}",
                                    "platform": "zoom",
                                    "lines": [j + 2],
                                }
                            ]
                        ),
                    },
                )
                builder.event(
                    "attendance.recorded", pid, {"series_id": series_id, "sessions": [k]}, [c]
                )
                builder.final("attendance", v)
            seq = len(numbers) + 1
            number = f"BC-{dates[-1][:4]}-{seq:06d}"
            numbers.append(number)
            c, v = builder.change(
                "numbers",
                {
                    "number": number,
                    "seq": seq,
                    "series_id": series_id,
                    "participant_id": pid,
                    "purged_at": None,
                },
            )
            row = certificate_row(number, 1, series_id, pid, dates, name, builder.at)
            c2, _ = builder.change("certificates", row)
            builder.event("certificate.reserved", number, {"version": 1}, [c, c2])
            builder.final("numbers", v)
            row.update(
                state="issued",
                confirmed_at=builder.at,
                verification_code=f"code{seq}",
                pdf_sha256=f"{seq:064x}",
                file_name=f"{number}-v1.pdf",
            )
            c, v = builder.change("certificates", row)
            builder.event("certificate.issued", number, {"version": 1}, [c])
            if seq % 5 == 0:  # a corrected name: version 2 supersedes version 1
                new = certificate_row(number, 2, series_id, pid, dates, f"{name} MD", builder.at)
                c2, _ = builder.change("certificates", new)
                builder.event("certificate.reserved", number, {"version": 2}, [c2])
                row.update(state="superseded", superseded_by=2, superseded_at=builder.at)
                c, v = builder.change("certificates", row)
                new.update(
                    state="issued",
                    confirmed_at=builder.at,
                    verification_code=f"code{seq}v2",
                    pdf_sha256=f"{seq + 10**9:064x}",
                    file_name=f"{number}-v2.pdf",
                )
                c2, v2 = builder.change("certificates", new)
                builder.event("certificate.issued", number, {"version": 2}, [c2, c])
                builder.final("certificates", v)
                row = new
                v = v2
            if seq % 100 == 7:  # revoked
                row.update(
                    state="revoked",
                    revoked_at=builder.at,
                    revoked_reason="benchmark revocation",
                    revoked_by=ACTOR,
                )
                c, v = builder.change("certificates", row)
                builder.event("certificate.revoked", number, {"reason": "benchmark"}, [c])
            builder.final("certificates", v)
    builder.at = (start + timedelta(hours=SERIES)).isoformat(timespec="microseconds")
    consents = {}
    for person in range(PEOPLE):
        pid = f"p{person:05d}"
        consents[pid] = {
            "person_id": pid,
            "wording_version": "2026-01",
            "given_at": builder.at,
            "withdrawn_at": None,
        }
        c, _ = builder.change("consents", consents[pid])
        builder.event("consent.given", pid, {"wording_version": "2026-01"}, [c])
    person = 0
    while builder.seq < target_events:  # withdrawals and renewals fill up to the target
        pid = f"p{person % PEOPLE:05d}"
        row = consents[pid]
        row["withdrawn_at"] = None if row["withdrawn_at"] else builder.at
        c, _ = builder.change("consents", row)
        action = "consent.withdrawn" if row["withdrawn_at"] else "consent.given"
        builder.event(action, pid, {}, [c])
        person += 1
    for row in consents.values():
        builder.final("consents", tuple(row[c] for c in TABLES["consents"].columns))
    builder.finish()
    connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return numbers, builder.seq


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the ledger here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "bench-ledger.sqlite3"
        if path.exists():
            raise SystemExit(f"{path} exists; remove it first")
        started = time.perf_counter()
        numbers, events = build(path, args.events)
        print(
            f"built: {len(numbers):,} certificate numbers, {events:,} audit events, "
            f"{path.stat().st_size / 2**20:,.0f} MiB, in {time.perf_counter() - started:.1f} s"
        )
        rng = random.Random(6)
        with Ledger.open(path, create=False) as ledger:
            issued = len(ledger.certificates(state="issued"))
            print(f"certificates: {issued:,} issued (current), rest superseded or revoked")
            sample = [rng.choice(numbers) for _ in range(args.lookups)]
            timings = []
            states: dict[str, int] = {}
            for number in sample:
                began = time.perf_counter()
                status = ledger.status(number)
                timings.append((time.perf_counter() - began) * 1000)
                states[status.state] = states.get(status.state, 0) + 1
            print(
                f"status(number): median {statistics.median(timings):.3f} ms, "
                f"p95 {percentile(timings, 0.95):.3f} ms, max {max(timings):.3f} ms "
                f"over {len(sample):,} lookups {dict(sorted(states.items()))} (target < 5 ms)"
            )
            timings = []
            for number in sample:
                began = time.perf_counter()
                checked = ledger.certificate_status(number)  # rows proven against the chain
                timings.append((time.perf_counter() - began) * 1000)
                assert checked.state == ledger.status(number).state
            print(
                f"certificate_status(number), what verify asks: median "
                f"{statistics.median(timings):.3f} ms, p95 {percentile(timings, 0.95):.3f} ms, "
                f"max {max(timings):.3f} ms over {len(sample):,} lookups (target < 1,000 ms: it "
                "counts the events since the certificate's first one, to see none was deleted)"
            )
            timings = []
            for _ in range(50):
                pid = f"p{rng.randrange(PEOPLE):05d}"
                began = time.perf_counter()
                found = ledger.attendance_for(pid)
                timings.append((time.perf_counter() - began) * 1000)
                assert len(found) == SERIES * PER_SERIES // PEOPLE
            print(
                f"attendance_for(id) across {SERIES * PER_SERIES // PEOPLE} series: "
                f"median {statistics.median(timings):.1f} ms"
            )
            chain_timings = []
            for _ in range(args.runs):
                began = time.perf_counter()
                report = ledger.check_chain()
                chain_timings.append(time.perf_counter() - began)
                assert report.is_intact, report.problems[:5]
            print(
                f"check_chain(): median {statistics.median(chain_timings):.2f} s "
                f"(runs: {', '.join(f'{t:.2f}' for t in chain_timings)}) over "
                f"{report.events_checked:,} events and {report.rows_checked:,} rows "
                "(target < 10 s)"
            )


if __name__ == "__main__":
    main()
