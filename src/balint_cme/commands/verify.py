"""`balint-cme verify`: is this certificate PDF or code genuine and current? Exit codes below.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from balint_cme.certificates.formatting import credit_phrase
from balint_cme.certificates.signature_check import SignatureInfo
from balint_cme.certificates.verification import (
    CertificateClaims,
    VerificationResult,
    VerificationStatus,
)
from balint_cme.commands import access, console, options
from balint_cme.errors import BalintCmeError, DataFileError
from balint_cme.ledger import Ledger, default_ledger_path
from balint_cme.text import visible
from balint_cme.usecases.verify import verify_certificate

__all__ = [
    "VERIFY_COULD_NOT_CHECK",
    "VERIFY_JSON_FORMAT",
    "VERIFY_NOT_VALID",
    "VERIFY_REVOCATION_UNCHECKED",
    "VERIFY_VALID",
    "add_arguments",
    "run",
]


VERIFY_VALID = 0
"""The certificate is the one issued, and a ledger said it is current (not revoked)."""


VERIFY_NOT_VALID = 1
"""Altered, revoked, superseded, unknown, or sealed with another key."""


VERIFY_COULD_NOT_CHECK = 3
"""A file, key or ledger could not be read, or nothing here can prove this certificate."""


VERIFY_REVOCATION_UNCHECKED = 4
"""Seal and page are genuine, but no ledger was consulted: revocation was not checked."""


VERIFY_JSON_FORMAT = "balint-cme/verify/1"


def _print_claims(claims: CertificateClaims) -> None:
    amount = (
        f"{claims.credits} {credit_phrase(claims.credit_type, plural=claims.credits != 1)}"
        if claims.kind == "credit"
        else f"{claims.hours} hour(s) of participation"
    )
    console.out(
        visible(
            f"  certificate {claims.number} (version {claims.version}), issued {claims.issued_on}"
        )
    )
    console.out(
        visible(f"  {claims.name}{', ' + claims.credentials if claims.credentials else ''}")
    )
    console.out(visible(f"  {claims.series_title} ({claims.series_id}), {claims.provider}"))
    console.out(f"  {amount}; sessions: {', '.join(d.isoformat() for d in claims.session_dates)}")


def _signature_line(signature: SignatureInfo) -> str:
    when = f", {signature.signed_at:%Y-%m-%d %H:%M} UTC" if signature.signed_at else ""
    stamp = (
        f"; timestamp {signature.timestamped_at:%Y-%m-%d %H:%M:%S} UTC by "
        f"{signature.timestamp_authority}"
        if signature.timestamped_at is not None
        else ""
    )
    whose = "the society's certificate" if signature.society else "not checked as the society's"
    return f"  PDF signature (PAdES {signature.level}): {signature.signer}{when} ({whose}){stamp}"


def _verify_exit_code(result: VerificationResult) -> int:
    if result.status == VerificationStatus.VALID:
        return VERIFY_VALID if result.revocation_checked else VERIFY_REVOCATION_UNCHECKED
    if result.status == VerificationStatus.COULD_NOT_CHECK:
        return VERIFY_COULD_NOT_CHECK
    return VERIFY_NOT_VALID


def _verify_json(result: VerificationResult | None, exit_code: int, error: str = "") -> str:
    claims = result.claims if result is not None else None
    document: dict[str, Any] = {
        "format": VERIFY_JSON_FORMAT,
        "status": str(result.status) if result is not None else "could-not-check",
        "valid": result is not None and result.is_valid,
        "exit_code": exit_code,
        "revocation_checked": result is not None and result.revocation_checked,
        "page_sealed": result is not None and result.page_sealed,
        "claims": claims.model_dump(mode="json") if claims is not None else None,
        "code": result.code if result is not None else None,
        "key_id": result.key_id if result is not None else None,
        "altered": list(result.altered) if result is not None else [],
        "differences": list(result.problems) if result is not None else [error],
        "notes": list(result.notes) if result is not None else [],
        "page_digest": result.page_digest if result is not None else None,
        "signature": (
            result.signature.model_dump(mode="json")
            if result is not None and result.signature is not None
            else None
        ),
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _verify_ledger_path(args: argparse.Namespace) -> Path | None:
    """The ledger to consult: --ledger (which must exist), else the default one if it exists.

    The default ($BALINT_CME_LEDGER, else the per-user file) is a setting shared by every
    command, so its absence only means "no ledger here": the result then says revocation was
    not checked (exit 4), which scripts tell apart from "valid" (exit 0).
    """
    if args.ledger:
        return Path(args.ledger)
    path = default_ledger_path()
    return path if path.is_file() else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme verify`."""
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"print the result as JSON (shape {VERIFY_JSON_FORMAT!r}, see the README)",
    )
    parser.add_argument("pdf_or_code", metavar="PDF_OR_CODE")
    options.public_keys_option(parser)
    options.ledger_option(parser)


def run(args: argparse.Namespace) -> int:
    try:
        ring = access.key_ring(args)
        path = _verify_ledger_path(args)
        if path is None:
            result = verify_certificate(args.pdf_or_code, ring, None)
        else:
            if not path.is_file():
                what = "is a folder, not a ledger file" if path.is_dir() else "does not exist"
                raise DataFileError(path, f"{what}; cannot check revocation")
            with Ledger.open(path, create=False) as ledger:
                result = verify_certificate(args.pdf_or_code, ring, ledger)
    except BalintCmeError as err:
        # Nothing was checked: a missing or unreadable certificate, key or ledger.
        if args.json:
            document = _verify_json(None, VERIFY_COULD_NOT_CHECK, f"could not check: {err}")
            console.out(document, json_text=True)
        else:
            console.fail(f"could not check: {err}")
        return VERIFY_COULD_NOT_CHECK
    code = _verify_exit_code(result)
    if args.json:
        console.out(_verify_json(result, code), json_text=True)
        return code
    console.out(visible(result.headline))
    if result.claims is not None:
        _print_claims(result.claims)
    if result.signature is not None:
        console.out(visible(_signature_line(result.signature)))
    for note in result.notes:
        console.out(visible(f"  {note}"))
    return code
