"""Memory benchmark: a sign-in CSV that repeats one person's stay, at 10 MB, 40 MB and the limit.

Run by hand (`.venv/bin/python benchmarks/bench_memory.py`); never part of the test suite.
The issue's case: a 40 MB sign-in sheet of 1,000,000 rows for one person and session took
1.9 GB RSS, and the ledger then held all 1,000,000 intervals in one row. Each step runs in a
fresh interpreter and reports its peak RSS (ru_maxrss):

- read: read_reports() + award_series();
- certify: the whole certify() into a new ledger (1 worker), then the size of the stored
  attendance row;
- transcript: transcript_history() + build_transcript() from that ledger.

`--sizes 10,40` runs fewer sizes ("max" is MAX_REPORT_BYTES, 200 MiB); `--distinct 200000`
starts the sheet with that many different rows (the most a report may hold), the worst case.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from balint_cme import AttendanceRegister, award_series, build_transcript
from balint_cme.certificates.keys import create_key, load_key
from balint_cme.io.reports import MAX_REPORT_BYTES, read_reports
from balint_cme.io.series_file import load_series
from balint_cme.ledger import Ledger
from balint_cme.usecases.certify import certify
from balint_cme.usecases.history import transcript_history

ROOT = Path(__file__).resolve().parent.parent

SERIES = """\
id = "bench-memory"
title = "Benchmark Balint Group"
delivery = "in-person"
location = "Sacramento"
timezone = "America/Los_Angeles"

[provider]
accredited = "Example Medical Society"
accreditor = "California Medical Association (CMA)"

[credit]
per_session = "1.0"
series_maximum = "1.0"

[[sessions]]
start = 2021-11-18T18:45:00

[[facilitators]]
name = "Marissa Pierce"
credentials = "MFT"

[[participants]]
id = "p01"
name = "Ana Ruiz"
credentials = "MD"
email = "ana.ruiz@example.org"
"""

HEADER = "participant_id,session,join,leave,note\n"
ROW = "p01,1,2021-11-18 18:44,2021-11-18 19:46,\n"  # 41 bytes: ~1,000,000 rows in 40 MB


def write_sheet(path: Path, size: int, distinct: int = 0) -> int:
    """A sign-in sheet of at most `size` bytes: `distinct` different rows (other join and
    leave seconds), then ROW repeated; returns the number of rows."""
    written = len(HEADER)
    rows = 0
    with path.open("w", encoding="ascii", newline="") as handle:
        handle.write(HEADER)
        for n in range(distinct):
            joined, left = divmod(n, 3600)[1], n // 3600
            line = (
                f"p01,1,2021-11-18 18:{joined // 60:02d}:{joined % 60:02d},"
                f"2021-11-18 19:{left // 60:02d}:{left % 60:02d},\n"
            )
            handle.write(line)
            written += len(line)
            rows += 1
        left = (size - written) // len(ROW)
        block = ROW * 10_000
        for _ in range(left // 10_000):
            handle.write(block)
        handle.write(ROW * (left % 10_000))
    return rows + left


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(step: str, directory: Path) -> None:
    series_file, sheet = directory / "series.toml", directory / "sign-in.csv"
    ledger_file, key_file = directory / "ledger.sqlite3", directory / "keys" / "signing.key"
    result: dict[str, object] = {"after_imports_mib": round(peak_mib(), 1)}
    started = time.perf_counter()
    if step == "read":
        series = load_series(series_file)
        reading = read_reports([(sheet, None)], series)
        awards = award_series(series, AttendanceRegister(reading.records))
        result["records"] = len(reading.records)
        result["credit"] = str(awards[0].points)
    elif step == "certify":
        if not key_file.exists():
            create_key(key_file, key_id="bench")
        with Ledger.open(ledger_file) as ledger:
            certify(
                series_file,
                [(sheet, None)],
                directory / "out",
                key=load_key(key_file),
                ledger=ledger,
                issued_on=date(2021, 12, 1),
                actor="bench",
                workers=1,
            )
            (participation,) = ledger.attendance_for("p01")
        (session,) = participation.sessions
        result["stored_intervals"] = len(session.intervals)
        result["stored_sources_bytes"] = len(json.dumps(session.sources))
    else:
        with Ledger.open(ledger_file, create=False) as ledger:
            person = ledger.resolve_person("p01")
            history = transcript_history(ledger, person)
        transcript = build_transcript(person.person_id, history, roster_ids=dict(person.roster_ids))
        result["total"] = str(transcript.total_points)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["peak_mib"] = round(peak_mib(), 1)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,40,max", help="MB (10**6 bytes), or 'max'")
    parser.add_argument(
        "--distinct", type=int, default=0, help="different rows first (worst case: 200,000)"
    )
    parser.add_argument("--child", nargs=2, metavar=("STEP", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    os.environ.setdefault("BALINT_CME_CACHE_DIR", str(ROOT / ".venv" / "balint-cme-cache"))
    for text in args.sizes.split(","):
        size = MAX_REPORT_BYTES if text == "max" else int(text) * 1_000_000
        with tempfile.TemporaryDirectory() as name:
            directory = Path(name)
            (directory / "series.toml").write_text(SERIES, encoding="utf-8")
            rows = write_sheet(directory / "sign-in.csv", size, args.distinct)
            actual = (directory / "sign-in.csv").stat().st_size
            print(
                f"sign-in sheet: {actual / 2**20:.1f} MiB, {rows:,} rows of one person, "
                f"{args.distinct:,} of them different"
            )
            for step in ("read", "certify", "transcript"):
                done = subprocess.run(
                    [sys.executable, __file__, "--child", step, str(directory)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                print(f"  {step:<10} {done.stdout.strip()}")


if __name__ == "__main__":
    main()
