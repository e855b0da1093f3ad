"""Meeting-report benchmark: a 100,000-row Zoom participants export read, matched and merged.

Run by hand (`.venv/bin/python benchmarks/bench_readers.py`); never part of the test suite.
Writes a classic Zoom export (UTF-8 BOM, CRLF, summary block) for one 90-minute session of a
roster of 400, with reconnects, second devices, renames, guests without e-mail, "Last, First"
names, waiting-room rows and 5% strangers; then times read_report() (read, detect, parse,
resolve times, match) and AttendanceRegister + award_series() (merge intervals, credit),
3 runs, median. Target (issue 3): under 1 s for read + match + merge.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from balint_cme import (
    AttendanceRegister,
    CreditDesignation,
    Participant,
    Provider,
    Series,
    Session,
    award_series,
)
from balint_cme.io.reports import read_report

FIRST = ["Ana", "José", "Zoë", "Tomasz", "Priya", "Grace", "Minh Anh", "Xiuying", "Chris", "Noor"]
LAST = ["Ruiz", "Núñez", "Ångström", "Wiśniewski", "Raghunathan", "Lindqvist", "Nguyễn", "Wang"]
ZONE = ZoneInfo("America/Los_Angeles")
START = datetime(2025, 3, 12, 18, 45, tzinfo=ZONE)


def build_series(people: int) -> Series:
    participants = []
    for i in range(people):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        participants.append(
            Participant(
                id=f"p{i:04d}",
                name=f"{first} {last} {i:04d}",
                credentials="MD" if i % 4 else "LMFT",
                email=f"person{i:04d}@example.org" if i % 2 else None,
            )
        )
    return Series(
        id="bench-readers",
        title="Benchmark Balint Group",
        timezone="America/Los_Angeles",
        provider=Provider(accredited="Example Medical Society", accreditor="ACCME"),
        credit=CreditDesignation(per_session="1.5", series_maximum="1.5"),
        sessions=(Session(number=1, starts_at=START, duration_minutes=90, credit="1.5"),),
        participants=tuple(participants),
    )


def _stamp(moment: datetime) -> str:
    return moment.strftime("%m/%d/%Y %I:%M:%S %p")


def write_export(path: Path, series: Series, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    lines = [
        "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants,",
        f"81234567890,Benchmark,{_stamp(START)},{_stamp(START + timedelta(minutes=105))},"
        f"office@example.org,105,{rows},",
        "",
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,"
        "Recording Consent,In Waiting Room",
    ]
    people = series.participants
    for n in range(rows):
        joined = START + timedelta(seconds=rng.randint(-900, 5000))
        left = joined + timedelta(seconds=rng.randint(30, 3000))
        waiting = "Yes" if n % 50 == 0 else "No"
        if rng.random() < 0.05:
            name, email = f"Guest {rng.randint(1, 5000)}", ""
        else:
            person = rng.choice(people)
            first, _, rest = person.name.partition(" ")
            style = rng.randint(0, 4)
            if style == 0:
                name = person.name
            elif style == 1:
                name = f'"{rest}, {first}"'  # Last, First: quoted because of the comma
            elif style == 2:
                name = f"{person.name} (iPad)"
            elif style == 3:
                name = f"Dr. {first} ({person.name})"  # a rename
            else:
                name = f"{person.name.upper()}, MD"
                name = f'"{name}"'
            email = person.email or ""
        minutes = -(-int((left - joined).total_seconds()) // 60)
        lines.append(
            f"{name},{email},{_stamp(joined)},{_stamp(left)},{minutes},"
            f"{'No' if email else 'Yes'},,{waiting}"
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    series = build_series(args.people)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "zoom-participants.csv"
        write_export(path, series, args.rows, seed=2025)
        size = path.stat().st_size
        print(f"export: {args.rows:,} rows, {size / 2**20:.1f} MiB, roster of {args.people}")

        reads: list[float] = []
        merges: list[float] = []
        cpu: list[float] = []
        for _ in range(args.runs):
            gc.collect()
            cpu_started = time.process_time()
            started = time.perf_counter()
            reading = read_report(path, series)
            middle = time.perf_counter()
            awards = award_series(series, AttendanceRegister(reading.records))
            ended = time.perf_counter()
            cpu.append(time.process_time() - cpu_started)
            reads.append(middle - started)
            merges.append(ended - middle)
        totals = [a + b for a, b in zip(reads, merges, strict=True)]
        print(
            f"read + match (read_report): median {statistics.median(reads):.3f} s; "
            f"merge + credit (register + award_series): median {statistics.median(merges):.3f} s"
        )
        print(
            f"total: median {statistics.median(totals):.3f} s "
            f"(runs: {', '.join(f'{t:.3f}' for t in totals)}); target < 1 s"
        )
        print(
            f"CPU time of this process for the same: median {statistics.median(cpu):.3f} s "
            "(less sensitive to other work on the machine)"
        )
        print(
            f"result: {len(reading.records):,} records, {len(reading.unmatched):,} unmatched rows, "
            f"{len(awards)} awards, total credit "
            f"{sum((a.points for a in awards), Decimal(0))}"
        )
        print(
            f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
        )

        tracemalloc.start()
        reading = read_report(path, series)
        awards = award_series(series, AttendanceRegister(reading.records))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak memory of read + match + merge (tracemalloc): {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
