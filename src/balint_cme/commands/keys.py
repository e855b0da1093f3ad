"""`balint-cme keys signing-cert`: a key and a self-signed certificate to sign PDFs with.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from balint_cme.certificates import signing_keys
from balint_cme.commands import console, options

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme keys` and of its action (signing-cert)."""
    parser.set_defaults(handler=run)
    actions = parser.add_subparsers(
        title="keys commands", metavar="ACTION", required=True, parser_class=options.CommandParser
    )
    signing_cert = options.add_command(
        actions,
        "signing-cert",
        run,
        "create a key and a self-signed certificate to sign certificate PDFs with",
        'balint-cme keys signing-cert --organization "Fictional Medical Society" --country US',
    )
    signing_cert.add_argument(
        "--organization", required=True, metavar="NAME", help="the society, as readers show it"
    )
    signing_cert.add_argument("--email", metavar="ADDRESS", help="a contact address to include")
    signing_cert.add_argument("--country", metavar="CC", help="two-letter country code")
    signing_cert.add_argument(
        "--years", type=int, default=10, metavar="N", help="years it is valid (default 10)"
    )
    signing_cert.add_argument(
        "--key-out",
        metavar="FILE",
        type=Path,
        help="where the key goes (default: signing_key in the settings file, else "
        "$BALINT_CME_SIGNING_KEY, else pdf-signing-key.pem beside the key)",
    )
    signing_cert.add_argument(
        "--cert-out",
        metavar="FILE",
        type=Path,
        help="where the certificate goes (default: signing_cert in the settings file, else "
        "$BALINT_CME_SIGNING_CERT, else pdf-signing-cert.pem beside the key)",
    )


def run(args: argparse.Namespace) -> int:
    key_path = Path(args.key_out) if args.key_out else signing_keys.default_signing_key_path()
    cert_path = Path(args.cert_out) if args.cert_out else signing_keys.default_signing_cert_path()
    fingerprint = signing_keys.create_signing_certificate(
        key_path,
        cert_path,
        organization=args.organization,
        email=args.email,
        country=args.country,
        years=args.years,
    )
    console.out(f"created a self-signed PDF-signing certificate for {args.organization}")
    console.out(f"  key (owner-only, back it up):  {key_path}")
    console.out(f"  certificate (public):         {cert_path}")
    console.out(f"  SHA-256 fingerprint:          {fingerprint}")
    console.out(
        "certify now signs every certificate with it. Adobe Reader shows such a signature as "
        "'validity unknown' until the reader trusts this certificate; see the README for a "
        "certificate readers trust."
    )
    return 0
