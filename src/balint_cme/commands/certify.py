"""`balint-cme certify`: certificates for every eligible person, a manifest and the ledger records.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
import functools
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from balint_cme.certificates.keys import retired_key
from balint_cme.certificates.layout import DEFAULT_LAYOUT
from balint_cme.certificates.layout_file import load_layout
from balint_cme.commands import access, console, options
from balint_cme.io.reports import read_reports
from balint_cme.io.series_file import read_series_file
from balint_cme.outputs import (
    CertificateIssued,
    CertifyDocument,
    NoCertificate,
    dump,
)
from balint_cme.text import visible
from balint_cme.usecases.certify import CertifyResult, certify, plan_certify
from balint_cme.usecases.presentation import format_unmatched

__all__ = ["add_arguments", "run"]


class _Progress:
    """A tqdm bar on a terminal once the total is known; nothing when piped or --quiet."""

    def __init__(self, *, enabled: bool, what: str) -> None:
        self._enabled = enabled and sys.stderr.isatty()
        self._what = what
        self._bar: tqdm[Any] | None = None

    def start(self, total: int) -> None:
        if self._enabled and total:
            self._bar = tqdm(total=total, unit=self._what, file=sys.stderr, leave=False)

    def advance(self, count: int) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _warning_lines(result: CertifyResult) -> list[str]:
    """Warnings of a run, for stderr when stdout is JSON."""
    return [f"balint-cme: warning: {warning}" for warning in result.warnings]


def _certify_document(result: CertifyResult) -> CertifyDocument:
    return CertifyDocument(
        series=result.series_id,
        out_dir=str(result.out_dir),
        manifest=str(result.manifest),
        certificates=[
            CertificateIssued(
                number=i.number,
                version=i.version,
                participant_id=i.participant_id,
                name=i.name,
                kind=i.kind,
                credits=console.two_places(i.credits),
                hours=console.two_places(i.hours),
                session_dates=list(i.session_dates),
                issued_on=i.issued_on,
                file=i.file,
                page=i.page,
                sha256=i.sha256,
                verification_code=i.verification_code,
                outcome=i.outcome,
            )
            for i in result.issued
        ],
        no_certificate=[
            NoCertificate(participant_id=s.participant_id, name=s.name, reason=s.reason)
            for s in result.skipped
        ],
        warnings=list(result.warnings),
        new_or_changed=result.new_count,
    )


def _certify_summary(result: CertifyResult) -> str:
    lines = [f"{result.series_id}: {len(result.issued)} certificate(s) in {result.out_dir}"]
    for item in result.issued:
        amount = (
            f"{item.credits} credit" if item.kind == "credit" else f"{item.hours} h (participation)"
        )
        lines.append(
            f"  {item.number} v{item.version}  {visible(item.name):<24} {amount:<22} "
            f"{item.outcome:<11} {item.file}"
        )
    for person in result.skipped:
        lines.append(
            visible(f"  no certificate: {person.name} ({person.participant_id}): {person.reason}")
        )
    for warning in result.warnings:
        lines.append(visible(f"  warning: {warning}"))
    lines.extend(format_unmatched(result.unmatched))
    lines.append(f"manifest: {result.manifest} ({result.new_count} new or changed)")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme certify`."""
    parser.add_argument("series_file", metavar="SERIES_FILE", type=Path)
    options.attendance_options(parser, required=True)
    parser.add_argument("--out", metavar="DIR", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--key-file",
        metavar="FILE",
        type=Path,
        help="the provider's signing key (default: $BALINT_CME_KEY_FILE, else created once as "
        "keys/signing.key in the per-user config folder; `balint-cme paths` shows it)",
    )
    parser.add_argument(
        "--issued-on",
        metavar="YYYY-MM-DD",
        type=options.iso_date,
        help="issue date printed on new certificates (default: today)",
    )
    parser.add_argument("--merged", action="store_true", help="one PDF with a page per certificate")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        choices=range(1, 17),
        metavar="N",
        help="processes drawing PDFs (default 2)",
    )
    parser.add_argument(
        "--verify-url",
        metavar="TEMPLATE",
        help="the society's verify address for the QR code: a `balint-cme serve` site "
        "(https://cme.example.org, giving .../v/CODE) or a template with {code} "
        "(default: verify_url in --layout, else the code alone)",
    )
    parser.add_argument(
        "--layout",
        metavar="FILE",
        type=Path,
        help="a TOML file of certificate layout settings (logo, colours, "
        "signature images, extra fonts, page size); see docs/certificates.md",
    )
    parser.add_argument(
        "--skip-unrenderable",
        action="store_true",
        help="certify everyone else when the fonts cannot draw someone's name; the summary "
        "and the manifest list who was left out and the characters (their attendance is "
        "still recorded, so a later run with a font that covers it certifies them)",
    )
    parser.add_argument(
        "--signing-key",
        metavar="FILE",
        type=Path,
        help="sign each PDF (PAdES) with the society's key: PEM or PKCS#12, owner-only; "
        "passphrase from $BALINT_CME_SIGNING_PASSPHRASE (default: $BALINT_CME_SIGNING_KEY, "
        "else pdf-signing-key.pem beside the key if `keys signing-cert` made one)",
    )
    parser.add_argument(
        "--signing-cert",
        metavar="FILE",
        type=Path,
        help="the society's signing certificate and chain, PEM (default: in the PKCS#12 "
        "file, else $BALINT_CME_SIGNING_CERT, else pdf-signing-cert.pem beside the key)",
    )
    parser.add_argument(
        "--timestamp-url",
        metavar="URL",
        help="an RFC 3161 timestamp authority: signatures become PAdES B-T "
        "(default: $BALINT_CME_TIMESTAMP_URL; without one, B-B)",
    )
    parser.add_argument(
        "--no-sign", action="store_true", help="do not sign the PDFs, even with a key configured"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the summary as JSON (schema: certify); no progress bar",
    )
    options.ledger_option(parser)
    options.by_option(parser)


def run(args: argparse.Namespace) -> int:
    series, series_content = read_series_file(args.series_file)  # read once
    reports = options.checked_reports(series, args.attendance)
    # Every input check (series, reports, layout, a drawable certificate for every name) runs
    # before a first run creates the key or the ledger, so a run that fails leaves neither.
    reading = read_reports(reports, series, export_tz=args.export_tz)
    layout = load_layout(args.layout) if args.layout else DEFAULT_LAYOUT
    # The issue date is the provider's: today in the series' time zone, unless given.
    issued_on = args.issued_on or datetime.now(series.zone).date()
    existing = access.existing_ledger(args)
    try:
        # The plan (content built, fonts checked, once) is certify's own: it reuses it while the
        # ledger still holds the attendance the plan counted.
        plan = plan_certify(
            series,
            reading,
            ledger=existing,
            issued_on=issued_on,
            layout=layout,
            verify_url_template=args.verify_url,
            skip_unrenderable=args.skip_unrenderable,
            content=series_content,
        )
    finally:
        if existing is not None:
            existing.close()
    signer = access.pdf_signer(args)  # before the HMAC key or the ledger is created
    key, key_path, key_note = access.signing_key(args)
    progress = _Progress(enabled=not (args.quiet or args.json), what="cert")
    try:
        with access.open_ledger(args) as ledger:
            result = certify(
                args.series_file,
                reports,
                args.out,
                key=key,
                retired_keys=functools.partial(retired_key, key_path),
                ledger=ledger,
                issued_on=issued_on,
                actor=access.actor(args),
                export_tz=args.export_tz,
                merged=args.merged,
                workers=args.workers,
                verify_url_template=args.verify_url,
                layout=layout,
                progress=progress.advance,
                on_total=progress.start,
                reading=reading,
                skip_unrenderable=args.skip_unrenderable,
                signer=signer,
                plan=plan,
            )
    finally:
        progress.close()
    if args.json:
        # Stdout is the JSON document alone; rows that matched nobody and warnings go to stderr.
        console.out(json_text=True, text=dump(_certify_document(result)))
        for line in [*format_unmatched(result.unmatched), *_warning_lines(result)]:
            console.err(f"balint-cme: {line.strip().removeprefix('balint-cme: ')}")
        if key_note:
            print(key_note, file=sys.stderr)
    elif args.quiet:
        for line in format_unmatched(result.unmatched):  # a warning, even when quiet
            console.err(f"balint-cme: {line.strip()}")
    else:
        console.out(_certify_summary(result))
        if key_note:  # only now: a failed run's stderr is its one error line
            console.err(key_note)
    return 0
