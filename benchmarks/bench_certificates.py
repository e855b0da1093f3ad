"""Benchmark: certificates to separate files and to one merged PDF, against a bare canvas.

Run by hand:  .venv/bin/python benchmarks/bench_certificates.py [--quick]
              .venv/bin/python benchmarks/bench_certificates.py --signing [--quick]

Every scenario runs in a fresh process so that its peak memory (ru_maxrss of the process and
of its largest worker) is its own. The "bare" scenarios draw the same lines of text with the
same embedded Noto Sans instances on a reportlab canvas, with no fitting, QR code, coverage
check or metadata, and write files the same way (atomically): the floor a certificate
renderer cannot beat. Targets from the issue: within 1.5x of bare per certificate; two
workers at least 1.6x faster than one; peak memory for 10,000 at most that for 1,000 + 50 MB.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from balint_cme import AttendanceRecord, AttendanceRegister, award_credit
from balint_cme.certificates.batch import render_batch
from balint_cme.certificates.content import Certificate, build_certificate
from balint_cme.certificates.fonts import noto_sans
from balint_cme.certificates.formatting import format_date, format_dates
from balint_cme.certificates.keys import SigningKey
from balint_cme.certificates.pdf import check_renderable
from balint_cme.certificates.signing import create_signing_certificate, load_signing_identity
from balint_cme.io.series_file import load_series
from balint_cme.storage import write_atomically

ROOT = Path(__file__).resolve().parent.parent
NAMES = (
    "Ana Ruiz",
    "Zoë Ångström",
    "Nguyễn Thị Minh Anh",
    "Tomasz Wiśniewski",
    "Αθηνά Παπαδοπούλου",
    "Ольга Смирнова",
    "Priya Raghunathan",
    "Þórunn Guðmundsdóttir",
)
SCRIPT_NAMES = (
    "प्रिया रघुनाथन",
    "Layla الرشيد",
    "ليلى عبد الله",
    "கார்த்திக் சுப்பிரமணியன்",
    "శ్రీనివాస్ రెడ్డి",
    "สมศรี ใจดี",
    "សុខ ចាន់ធីតា",
    "Ana Ruiz",
)
"""Names shaped with HarfBuzz (all but the last), for the cost of shaping (--shaping)."""
_names = NAMES


def certificates(count: int) -> Iterator[Certificate]:
    """`count` genuine certificates for the 2020 example series, built lazily."""
    series = load_series(ROOT / "examples" / "ssvms-balint-2020.toml")
    records = []
    for participant in ("p01", "p02", "p03"):
        for session in series.sessions[: 5 if participant == "p01" else 3]:
            assert session.starts_at is not None
            assert session.ends_at is not None
            records.append(
                AttendanceRecord(
                    participant_id=participant,
                    session=session.number,
                    joined_at=session.starts_at,
                    left_at=session.ends_at,
                )
            )
    register = AttendanceRegister(records)
    awards = [award_credit(series, register, p) for p in ("p01", "p02", "p03")]
    key = SigningKey("bench", bytes(range(32)))
    for index in range(count):
        award = awards[index % 3].evolve(name=_names[index % len(_names)])
        yield build_certificate(
            series,
            award,
            number=f"FMMS-2020-{index:06d}",
            issued_on=date(2021, 1, 20),
            key=key,
            verify_url_template="https://cme.example.org/verify?code={code}",
        )


# ---------------------------------------------------------------------------------------------
# The bare canvas: the same strings, the same fonts, nothing else


def _register_bare_fonts() -> dict[str, str]:
    names = {}
    for style in ("regular", "bold", "italic"):
        font = noto_sans(style)
        name = f"Bare-{style}"
        pdfmetrics.registerFont(TTFont(name, font.open()))
        names[style] = name
    return names


def _bare_lines(c: Certificate) -> list[tuple[str, str, float]]:
    person = f"{c.name}, {c.credentials}"
    amount = f"{c.credits} {c.credit_phrase_awarded}" if c.credits else f"{c.hours} hours"
    lines = [
        ("bold", c.provider, 13.5),
        ("italic", "in joint providership with " + " and ".join(c.joint_providers), 10.5),
        ("regular", "CERTIFICATE OF CREDIT", 30),
        ("italic", "This certifies that", 12),
        ("bold", person, 30),
        ("regular", "has participated in the live activity", 12),
        ("bold", c.series_title, 19),
        (
            "regular",
            f"Location: {c.location} · Sessions attended: {format_dates(c.session_dates)}",
            11,
        ),
        ("regular", f"and is awarded {amount}.", 14),
    ]
    statement = f"{c.designation_statement} {c.accreditation_statement}"
    lines += [("regular", statement[i : i + 150], 9) for i in range(0, len(statement), 150)]
    lines += [(("bold", f"{f.name}, {f.credentials}", 9)) for f in c.facilitators]
    lines += [
        ("regular", f"Date of issue: {format_date(c.issued_on)} Certificate no. {c.number}", 8.6),
        ("regular", f"Verification code: {c.verification_code}", 8.6),
        ("regular", f"Verify at {c.verify_url}", 8.6),
    ]
    return lines


def _bare_page(canvas: Canvas, c: Certificate, fonts: dict[str, str]) -> None:
    y = 560.0
    for style, text, size in _bare_lines(c):
        canvas.setFont(fonts[style], size)
        canvas.drawCentredString(396, y, text)
        y -= size * 1.4
    canvas.showPage()


def bare(count: int, out: Path, merged: bool) -> None:
    fonts = _register_bare_fonts()
    if merged:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=(792, 612), invariant=True)
        for certificate in certificates(count):
            _bare_page(canvas, certificate, fonts)
        canvas.save()
        write_atomically(out / "bare.pdf", buffer.getvalue())
        return
    for certificate in certificates(count):
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=(792, 612), invariant=True)
        _bare_page(canvas, certificate, fonts)
        canvas.save()
        write_atomically(out / f"{certificate.number}.pdf", buffer.getvalue())


# ---------------------------------------------------------------------------------------------
# One scenario in this process


def _descendant_peaks(root: int, peaks: dict[int, float]) -> None:
    """Record VmHWM (peak resident memory, MB) of every process below `root` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor is not None and ancestor not in (root, 0, 1):
            ancestor = parents.get(ancestor)
        if ancestor != root:
            continue
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = max(peaks.get(pid, 0.0), int(line.split()[1]) / 1024)
        except OSError:
            continue


BENCH_KEY = SigningKey("bench", bytes(range(32)))


def run_scenario(kind: str, count: int, workers: int, merged: bool) -> dict[str, float]:
    # Warm the fonts (and the instance cache) before the clock starts, in both kinds.
    first = next(certificates(1))
    check_renderable(first)
    peaks: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            _descendant_peaks(os.getpid(), peaks)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        started = time.perf_counter()
        signer = None
        if kind == "signed":  # the key and certificate are made before the clock starts
            create_signing_certificate(
                out / "key.pem", out / "cert.pem", organization="Benchmark Society"
            )
            signer = load_signing_identity(out / "key.pem", out / "cert.pem")
            started = time.perf_counter()
        if kind == "bare":
            bare(count, out, merged)
        elif kind in ("sealed", "signed"):
            render_batch(certificates(count), out, workers=workers, key=BENCH_KEY, signer=signer)
        else:
            render_batch(certificates(count), out, workers=workers, merged=merged)
        elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "ms_per_certificate": elapsed * 1000 / count,
        "peak_mb": own,
        "worker_peak_mb": max(peaks.values(), default=0.0),
    }


def in_subprocess(
    kind: str, count: int, workers: int, merged: bool, names: str = "latin"
) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--scenario",
        kind,
        "--count",
        str(count),
        "--workers",
        str(workers),
        *(["--merged"] if merged else []),
        "--names",
        names,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


NAMES_KINDS = ("latin", "scripts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="100 and 1,000 instead of 1,000 and 10,000"
    )
    parser.add_argument("--scenario", choices=["bare", "ours", "sealed", "signed"])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--merged", action="store_true")
    parser.add_argument("--names", choices=["latin", "scripts"], default="latin")
    parser.add_argument(
        "--shaping",
        action="store_true",
        help="only compare Latin names with names in complex scripts (1 worker, separate files)",
    )
    parser.add_argument(
        "--signing",
        action="store_true",
        help="only compare signed with unsigned (page-sealed) separate files, 1 and 2 workers",
    )
    args = parser.parse_args()
    if args.signing:
        count = 200 if args.quick else 1000
        for workers in (1, 2):
            plain = in_subprocess("sealed", count, workers, False)
            signed = in_subprocess("signed", count, workers, False)
            print(
                f"{workers} worker(s), {count:,} separate files: unsigned "
                f"{plain['ms_per_certificate']:6.2f} ms/cert, signed "
                f"{signed['ms_per_certificate']:6.2f} ms/cert = "
                f"{signed['ms_per_certificate'] / plain['ms_per_certificate']:.2f}x (target <= 2)",
                flush=True,
            )
        return
    if args.names == "scripts":
        global _names
        _names = SCRIPT_NAMES
    if args.shaping:
        count = 200 if args.quick else 1000
        results = {names: in_subprocess("ours", count, 1, False, names) for names in NAMES_KINDS}
        for names, result in results.items():
            print(
                f"{names:8} names, 1 worker, {count:,} separate files: "
                f"{result['ms_per_certificate']:6.2f} ms/cert, peak {result['peak_mb']:.1f} MB"
            )
        ratio = results["scripts"]["ms_per_certificate"] / results["latin"]["ms_per_certificate"]
        print(f"complex-script names / Latin names = {ratio:.2f}x")
        return
    if args.scenario:
        print(json.dumps(run_scenario(args.scenario, args.count, args.workers, args.merged)))
        return
    small, large = (100, 1000) if args.quick else (1000, 10000)
    rows = []
    for merged in (False, True):
        label = "merged PDF" if merged else "separate files"
        plan = [
            ("bare canvas, 1 process", "bare", small, 1),
            ("balint_cme, 1 worker", "ours", small, 1),
            ("balint_cme, 2 workers", "ours", small, 2),
            (f"balint_cme, 2 workers, {large:,}", "ours", large, 2),
        ]
        for title, kind, count, workers in plan:
            result = in_subprocess(kind, count, workers, merged)
            rows.append((label, title, count, result))
            print(
                f"{label:15} {title:32} {count:>6,}  {result['ms_per_certificate']:6.2f} ms/cert  "
                f"peak {result['peak_mb']:6.1f} MB (largest worker {result['worker_peak_mb']:6.1f} MB)",
                flush=True,
            )
    print()
    for label in ("separate files", "merged PDF"):
        by = {title: result for lab, title, _, result in rows if lab == label}
        base = by["bare canvas, 1 process"]["ms_per_certificate"]
        one = by["balint_cme, 1 worker"]["ms_per_certificate"]
        two = by["balint_cme, 2 workers"]["ms_per_certificate"]
        big = by[f"balint_cme, 2 workers, {large:,}"]
        small_two = by["balint_cme, 2 workers"]
        growth = max(
            big["peak_mb"] - small_two["peak_mb"],
            big["worker_peak_mb"] - small_two["worker_peak_mb"],
        )
        print(
            f"{label}: 1 worker / bare = {one / base:.2f}x (target <= 1.5); "
            f"2 workers speed-up = {one / two:.2f}x (target >= 1.6); "
            f"peak growth {small:,} -> {large:,} = {growth:+.1f} MB (target <= 50)"
        )


if __name__ == "__main__":
    main()
