"""Benchmark: `certify` of 1,000 people end to end against the renderer alone.

Run by hand (`.venv/bin/python benchmarks/bench_certify.py`); never part of the test suite.

- certify: the whole command as a user runs it (`python -m balint_cme certify ...` in a fresh
  process: start-up, reading the series and a sign-in sheet, credit, a new ledger, numbering,
  drawing, sealing, writing, syncing, confirming, the manifest), wall time of the process;
- renderer: the same 1,000 certificates (same series, names, numbers, key) built in a child
  process, then only `render_batch` timed writing the 1,000 sealed files into a folder (the
  same two workers), i.e. the drawing and writing that certify cannot avoid. Measured two
  ways: as a library caller gets it by default (each file written atomically and fsynced),
  and with no sync at all (`sync=False`: the bare cost of drawing and writing).

Wall time is the target's measure; CPU time (of each whole process and its workers, so the
renderer's includes building the certificates but not its start-up wait) is printed too,
because on a shared machine it says more about the work done than the wall clock.

The target (issue 13) is certify within 1.5x of the renderer. Each measure is the median of
`--runs` runs; the load average is printed before and after, since the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from balint_cme.attendance import AttendanceRegister
from balint_cme.certificates.batch import render_batch
from balint_cme.certificates.content import build_certificate, eligible_awards
from balint_cme.certificates.keys import KeyRing, create_key, load_key
from balint_cme.credit import award_series
from balint_cme.io.reports import read_reports
from balint_cme.io.series_file import load_series

ISSUED_ON = date(2025, 4, 1)
SESSIONS = (("2025-03-05", "18:45", "20:15"), ("2025-03-12", "18:45", "20:15"))
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas")
LAST = ("Ruiz", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Silva", "Haddad")


def write_inputs(directory: Path, people: int) -> tuple[Path, Path]:
    """A series TOML with `people` fictional people and a sign-in sheet where all attend."""
    lines = [
        'id = "bench-certify"',
        'title = "Benchmark Balint Group"',
        'delivery = "in-person"',
        'location = "Sacramento"',
        'timezone = "America/Los_Angeles"',
        "",
        "[provider]",
        'accredited = "Example Medical Society"',
        'accreditor = "California Medical Association (CMA)"',
        "",
        "[credit]",
        'per_session = "1.5"',
        'series_maximum = "3.0"',
        "",
    ]
    for day, start, _ in SESSIONS:
        lines += ["[[sessions]]", f"start = {day}T{start}:00", "duration_minutes = 90", ""]
    lines += ["[[facilitators]]", 'name = "Marissa Pierce"', 'credentials = "MFT"', ""]
    sheet = ["participant_id,session,join,leave,note"]
    for i in range(people):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        lines += [
            "[[participants]]",
            f'id = "p{i:04d}"',
            f'name = "{first} {last} {i:04d}"',
            f'credentials = "{"MD" if i % 5 else "LMFT"}"',
            "",
        ]
        for number, (day, start, end) in enumerate(SESSIONS, start=1):
            sheet.append(f"p{i:04d},{number},{day} {start},{day} {end},")
    series = directory / "series.toml"
    series.write_text("\n".join(lines), encoding="utf-8")
    report = directory / "signin.csv"
    report.write_text("\n".join(sheet) + "\n", encoding="utf-8")
    return series, report


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_certify(directory: Path, workers: int) -> tuple[float, float]:
    series, report = directory / "series.toml", directory / "signin.csv"
    command = [
        sys.executable,
        "-m",
        "balint_cme",
        "certify",
        str(series),
        "--attendance",
        str(report),
        "--out",
        str(directory / "certify-out"),
        "--ledger",
        str(directory / "ledger.sqlite3"),
        "--key-file",
        str(directory / "signing.key"),
        "--issued-on",
        ISSUED_ON.isoformat(),
        "--workers",
        str(workers),
        "--by",
        "bench",
        "--quiet",
    ]
    started, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True)
    elapsed = time.perf_counter() - started
    cpu = _cpu(resource.RUSAGE_CHILDREN) - cpu  # the process and its drawing workers
    count = len(list((directory / "certify-out").glob("*.pdf")))
    if count == 0:
        raise SystemExit("certify wrote no certificates")
    return elapsed, cpu


def render_child(directory: Path, workers: int, sync: bool) -> None:
    """In a fresh process: build the certificates certify would, then time render_batch."""
    series = load_series(directory / "series.toml")
    reading = read_reports([(directory / "signin.csv", None)], series)
    awards = eligible_awards(series, award_series(series, AttendanceRegister(reading.records)))
    key = load_key(directory / "signing.key")
    certificates = [
        build_certificate(
            series,
            award,
            number=f"BC-2025-{index:06d}",
            issued_on=ISSUED_ON,
            key=key,
        )
        for index, award in enumerate(awards, start=1)
    ]
    started = time.perf_counter()
    render_batch(
        certificates,
        directory / ("render-out" if sync else "render-nosync"),
        workers=workers,
        key=KeyRing([key]),
        sync=sync,
    )
    print(f"{time.perf_counter() - started:.4f}")


def run_renderer(directory: Path, workers: int, sync: bool) -> tuple[float, float]:
    command = [
        sys.executable,
        __file__,
        "--render-child",
        str(directory),
        "--workers",
        str(workers),
        *([] if sync else ["--no-sync"]),
    ]
    cpu = _cpu(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    cpu = _cpu(resource.RUSAGE_CHILDREN) - cpu  # the whole child process, building included
    return float(result.stdout.strip().splitlines()[-1]), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--render-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-sync", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render_child is not None:
        render_child(args.render_child, args.workers, sync=not args.no_sync)
        return

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    certify_runs: list[tuple[float, float]] = []
    render_runs: list[tuple[float, float]] = []
    bare_runs: list[tuple[float, float]] = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-certify-") as name:
            directory = Path(name)
            write_inputs(directory, args.people)
            create_key(directory / "signing.key")
            render_runs.append(run_renderer(directory, args.workers, sync=True))
            bare_runs.append(run_renderer(directory, args.workers, sync=False))
            certify_runs.append(run_certify(directory, args.workers))
        (cw, cc), (rw, rc), (bw, bc) = certify_runs[-1], render_runs[-1], bare_runs[-1]
        print(
            f"run {run + 1} (load {os.getloadavg()[0]:.1f}): wall / CPU s: certify {cw:.2f} / "
            f"{cc:.2f}, renderer {rw:.2f} / {rc:.2f}, renderer with no sync {bw:.2f} / "
            f"{bc:.2f}; wall ratio {cw / rw:.2f} ({cw / bw:.2f} to no sync)"
        )

    def median(runs: list[tuple[float, float]], index: int) -> float:
        return statistics.median(item[index] for item in runs)

    cw, cc = median(certify_runs, 0), median(certify_runs, 1)
    rw, rc = median(render_runs, 0), median(render_runs, 1)
    bw, bc = median(bare_runs, 0), median(bare_runs, 1)
    print(
        f"{args.people} people, {args.workers} workers, medians of {args.runs} (wall / CPU): "
        f"certify {cw:.2f} s / {cc:.2f} s ({cw / args.people * 1000:.1f} ms/cert wall), "
        f"renderer alone {rw:.2f} s / {rc:.2f} s, renderer with no sync {bw:.2f} s / {bc:.2f} s; "
        f"wall ratio {cw / rw:.2f} (target <= 1.5; {cw / bw:.2f} to no sync), "
        f"CPU ratio {cc / rc:.2f}"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
