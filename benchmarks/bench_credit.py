"""Credit engine benchmark: 10,000 participants x 12 sessions x up to 4 intervals each.

Run by hand (`.venv/bin/python benchmarks/bench_credit.py`); never part of the test suite.
Builds about 480,000 in-memory AttendanceRecords first (reported separately), then times
AttendanceRegister indexing and award_series() over the whole roster, 3 runs, median.
Target (issue 2): under 1.5 s on one core for register + awards.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
import tracemalloc
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from balint_cme import (
    AttendanceRecord,
    AttendanceRegister,
    CreditDesignation,
    Participant,
    Provider,
    Series,
    Session,
    award_series,
)


def build_series(participants: int, sessions: int) -> Series:
    zone = ZoneInfo("America/Los_Angeles")
    first = datetime(2025, 1, 8, 18, 45, tzinfo=zone)
    return Series(
        id="bench",
        title="Benchmark Balint Group",
        timezone="America/Los_Angeles",
        provider=Provider(accredited="Example Medical Society", accreditor="ACCME"),
        credit=CreditDesignation(per_session="1.0", series_maximum=Decimal(sessions)),
        sessions=tuple(
            Session(
                number=n,
                starts_at=first + timedelta(days=28 * (n - 1)),
                duration_minutes=60,
                credit="1.0",
            )
            for n in range(1, sessions + 1)
        ),
        participants=tuple(
            Participant(id=f"p{i:05d}", name=f"Person {i}", credentials="MD" if i % 5 else "MFT")
            for i in range(participants)
        ),
    )


def build_records(series: Series, max_intervals: int, seed: int) -> list[AttendanceRecord]:
    rng = random.Random(seed)
    records: list[AttendanceRecord] = []
    for participant in series.participants:
        for session in series.sessions:
            assert session.starts_at is not None
            for _ in range(max_intervals):
                joined = session.starts_at + timedelta(seconds=rng.randint(-600, 3000))
                records.append(
                    AttendanceRecord(
                        participant_id=participant.id,
                        session=session.number,
                        joined_at=joined,
                        left_at=joined + timedelta(seconds=rng.randint(60, 3600)),
                    )
                )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=12)
    parser.add_argument("--max-intervals", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    series = build_series(args.participants, args.sessions)
    started = time.perf_counter()
    records = build_records(series, args.max_intervals, seed=2020)
    built = time.perf_counter() - started
    print(
        f"records: {len(records):,} built and validated in {built:.2f} s "
        f"({len(records) / built:,.0f}/s, pydantic)"
    )

    timings: list[float] = []
    for _ in range(args.runs):
        gc.collect()
        started = time.perf_counter()
        register = AttendanceRegister(records)
        awards = award_series(series, register)
        timings.append(time.perf_counter() - started)
    print(
        f"register + award_series: median {statistics.median(timings):.3f} s "
        f"(runs: {', '.join(f'{t:.3f}' for t in timings)}) for {len(awards):,} awards"
    )

    tracemalloc.start()
    register = AttendanceRegister(records)
    awards = award_series(series, register)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory of register + awards (tracemalloc): {peak / 2**20:.1f} MiB")
    total = sum((a.points for a in awards), Decimal(0))
    print(f"check: total credit awarded {total}")


if __name__ == "__main__":
    main()
