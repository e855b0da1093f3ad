"""Worst cases for `verify`: hostile PDFs within the 20 MB limit, and how long each takes.

    .venv/bin/python benchmarks/bench_verify.py [--runs 3]

Each file carries a genuine certificate's claims record (so the check cannot stop at "no
claims") and is built to make a naive verifier work hard: pages sharing one Flate stream of
text operators, a 13.8 MB file, a compression bomb, deep nesting, long object chains, huge
cross-reference tables and huge dictionaries. The target is under 2 s for any of them.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from balint_cme.certificates.content import build_certificate, eligible_awards
from balint_cme.certificates.keys import SigningKey
from balint_cme.certificates.page_seal import MAX_PDF_BYTES
from balint_cme.certificates.pdf import render_pdf
from balint_cme.certificates.verification import METADATA_KEY, verify_pdf
from balint_cme.credit import award_series
from balint_cme.io.reports import read_reports
from balint_cme.io.series_file import load_series

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KEY = SigningKey("bench", bytes(range(32)))


def genuine() -> bytes:
    series = load_series(EXAMPLES / "ssvms-balint-2020.toml")
    reports = [(EXAMPLES / "reports" / f"zoom-session-{n}.csv", n) for n in range(1, 6)]
    register = read_reports(reports, series).register()
    award = eligible_awards(series, award_series(series, register))[0]
    certificate = build_certificate(
        series, award, number="BENCH-0001", issued_on=date(2021, 1, 20), key=KEY
    )
    return render_pdf(certificate, key=KEY)


def claims_record(pdf: bytes) -> bytes:
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info is not None
    text = str(info[METADATA_KEY])
    return b"(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode() + b")"


def raw_pdf(objects: list[bytes], *, info: bytes, root: int = 1) -> bytes:
    """A classic PDF from object bodies (object n is objects[n-1]) and an Info dictionary."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate([*objects, info], start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\n" % (
        len(offsets) + 1,
        root,
        len(offsets),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return (
        b"<< /Length %d /Filter /FlateDecode %s >>\nstream\n"
        % (
            len(data),
            extra,
        )
        + data
        + b"\nendstream"
    )


def ten_pages_one_stream(record: bytes) -> bytes:
    text = b"BT /F1 1 Tf 0 0 Td (A) Tj ET\n" * 2_000_000
    shared = zlib.compress(text, 9)
    kids = b" ".join(b"%d 0 R" % n for n in range(4, 14))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count 10 >>",
        stream(shared),
    ]
    for _ in range(10):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
            b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
            b"/BaseFont /Helvetica >> >> >> >>"
        )
    return raw_pdf(objects, info=b"<< /BalintCmeCertificate " + record + b" >>")


def one_page(record: bytes, contents: bytes, extra_objects: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources 5 0 R >>",
        contents,
        *(list(extra_objects) or [b"<< >>"]),
    ]
    return raw_pdf(objects, info=b"<< /BalintCmeCertificate " + record + b" >>")


def genuine_plus_image(pdf: bytes, size: int) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    image = DecodedStreamObject()
    image.set_data(os.urandom(size))
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
        }
    )
    resources: Any = writer.pages[0]["/Resources"].get_object()
    resources.setdefault(NameObject("/XObject"), writer._add_object(type(resources)()))
    resources["/XObject"].get_object()[NameObject("/Im9")] = writer._add_object(image)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def flate_bomb(record: bytes) -> bytes:
    compressor = zlib.compressobj(9)
    zeros = b"0" * (1 << 24)
    body = b"".join(compressor.compress(zeros) for _ in range(64)) + compressor.flush()
    return one_page(record, stream(body))


def deep_nesting(record: bytes) -> bytes:
    depth = 100_000
    return one_page(record, b"<< /Length 0 >>\nstream\n\nendstream", [b"[" * depth + b"]" * depth])


def object_chain(record: bytes, length: int) -> bytes:
    # Resources -> 6 -> 7 -> ... each a dictionary pointing to the next.
    chain = [b"<< /Next %d 0 R >>" % (n + 1) for n in range(6, 5 + length)] + [b"<< >>"]
    return one_page(record, b"<< /Length 0 >>\nstream\n\nendstream", [b"<< /X 6 0 R >>", *chain])


def huge_xref(record: bytes, entries: int) -> bytes:
    base = one_page(record, b"<< /Length 0 >>\nstream\n\nendstream")
    head, _, _ = base.partition(b"xref\n")
    offsets = [m.start() for m in re.finditer(rb"\d+ 0 obj\n", head)]
    xref = len(head)
    table = bytearray(b"xref\n0 %d\n0000000000 65535 f \n" % entries)
    for n in range(1, entries):
        table += b"%010d 00000 n \n" % (offsets[n - 1] if n <= len(offsets) else offsets[0])
    trailer = b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (entries, len(offsets))
    return head + bytes(table) + trailer + b"startxref\n%d\n%%%%EOF\n" % xref


def huge_dictionary(record: bytes, entries: int) -> bytes:
    body = b"<< " + b" ".join(b"/K%d %d" % (n, n) for n in range(entries)) + b" >>"
    return one_page(record, b"<< /Length 0 >>\nstream\n\nendstream", [body])


def huge_array_in_a_stream(record: bytes, items: int) -> bytes:
    # "(stream)" early in the dictionary, to get past a naive "is this a stream" peek.
    array = b"[" + b" ".join(b"%d" % (n % 1000) for n in range(items)) + b"]"
    contents = b"<< /Length 0 /Note (stream) /Big " + array + b" >>\nstream\n\nendstream"
    return one_page(record, contents)


def arrays_at_the_parse_budget(record: bytes) -> bytes:
    # Just under the 128 KB of objects parsed in all: 30 arrays of 1,000 numbers, reachable.
    count = 30
    array = b"[" + b" ".join(b"%d" % (n % 1000) for n in range(1000)) + b"]"
    refs = b" ".join(b"/A%d %d 0 R" % (n, n + 6) for n in range(count))
    empty = b"<< /Length 0 >>\nstream\n\nendstream"
    return one_page(record, empty, [b"<< " + refs + b" >>", *([array] * count)])


def incremental(pdf: bytes) -> bytes:
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_blank_page()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    pdf = genuine()
    record = claims_record(pdf)
    cases: list[tuple[str, Callable[[], bytes]]] = [
        ("genuine certificate", lambda: pdf),
        (
            "10 pages sharing one Flate stream of text operators",
            lambda: ten_pages_one_stream(record),
        ),
        ("genuine page + 13.8 MB image (one page)", lambda: genuine_plus_image(pdf, 13_800_000)),
        (
            "genuine page + image up to the 20 MB limit",
            lambda: genuine_plus_image(pdf, MAX_PDF_BYTES - 60_000),
        ),
        ("Flate bomb: 1 GiB of operators in a small stream", lambda: flate_bomb(record)),
        ("arrays nested 100,000 deep", lambda: deep_nesting(record)),
        ("chain of 1,990 indirect objects (at the cap)", lambda: object_chain(record, 1_990)),
        ("chain of 50,000 indirect objects", lambda: object_chain(record, 50_000)),
        ("cross-reference table of 900,000 entries", lambda: huge_xref(record, 900_000)),
        ("one dictionary of 1,000,000 entries", lambda: huge_dictionary(record, 1_000_000)),
        (
            "array of 2,000,000 numbers in a stream dictionary",
            lambda: huge_array_in_a_stream(record, 2_000_000),
        ),
        (
            "30 arrays of 1,000 numbers (at the 128 KB parse budget)",
            lambda: arrays_at_the_parse_budget(record),
        ),
        ("incremental update adding a page", lambda: incremental(pdf)),
    ]
    print(f"{'case':<55} {'size':>10} {'max s':>7}  result")
    worst = 0.0
    for name, build in cases:
        data = build()
        assert len(data) <= MAX_PDF_BYTES, (name, len(data))
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = verify_pdf(data, KEY)
            times.append(time.perf_counter() - started)
        worst = max(worst, max(times))
        outcome = result.message[:60]
        print(f"{name:<55} {len(data):>10,} {max(times):>7.3f}  {outcome}")
    print(f"worst case: {worst:.3f} s (target: under 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
