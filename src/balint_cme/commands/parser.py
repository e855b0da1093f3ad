"""The balint-cme argument parser: the global options and one entry per subcommand.

Light on purpose. The table below holds what `balint-cme --help` lists (name, summary, example);
each subcommand's arguments and handler live in its module, balint_cme.commands.NAME
(`add_arguments(parser)` and `run(args)`), which is imported by name only when that subcommand
is parsed or its --help printed. So `--version` and `--help` load no edge (no reportlab, pypdf,
sqlite3, openpyxl, not even pydantic), and `certify` loads only what certify needs.
build_parser() gives the whole parser, every subcommand's arguments declared, for tools that
read all of it (shell completion, the settings file's checks, documentation tests).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, NamedTuple

from balint_cme import __version__
from balint_cme.commands.options import CommandParser

__all__ = ["COMMANDS", "build_parser"]


class _Command(NamedTuple):
    """A subcommand as --help lists it; its module is balint_cme.commands.NAME."""

    name: str
    summary: str
    example: str


_VERIFY_EXIT_HELP = """exit status:
  0  valid: the certificate issued, and the ledger says it is current
  1  not valid: altered, revoked, superseded, unknown, or sealed with another key
  2  usage error
  3  could not check: a missing or unreadable file, key or ledger, or a certificate that
     nothing given can prove (a code without a ledger, an old file without a page seal)
  4  seal and page genuine, but no ledger was consulted: revocation not checked"""

COMMANDS: tuple[_Command, ...] = (
    _Command(
        "demo",
        "run the whole job on the built-in 2020 series and synthetic Zoom reports",
        "balint-cme demo --out ./balint-cme-demo",
    ),
    _Command(
        "check",
        "validate a series file and explain every problem",
        "balint-cme check examples/ssvms-balint-2020.toml",
    ),
    _Command(
        "schema",
        "print the JSON Schema of the series file, or of a command's --json output",
        "balint-cme schema --output pars > pars-output.schema.json",
    ),
    _Command(
        "schedule",
        "list the session dates in local time; optionally write an iCalendar file",
        "balint-cme schedule examples/ssvms-balint-2020.toml --ics balint-2020.ics",
    ),
    _Command(
        "credits",
        "per person and session: attended minutes and credit, totals, unmatched rows",
        "balint-cme credits series.toml --attendance 1=zoom-sept.csv 2=zoom-oct.csv --json",
    ),
    _Command(
        "commitments",
        "members commit to every session: who missed (or left part of) which session, to follow up",
        "balint-cme commitments series.toml --attendance zoom-*.csv",
    ),
    _Command(
        "certify",
        "write a certificate for every eligible person, a manifest, and the ledger records",
        "balint-cme certify series.toml --attendance zoom-*.csv --out certificates/",
    ),
    _Command(
        "verify",
        "check a certificate PDF or a verification code: valid, altered, revoked, unknown",
        "balint-cme verify certificates/bc-2021-000001.pdf --ledger ledger.sqlite3\n\n"
        + _VERIFY_EXIT_HELP,
    ),
    _Command(
        "transcript",
        "a person's credit across series, against a target (50 over two years)",
        "balint-cme transcript --person p01 --from 2025-02-01 --to 2027-01-31",
    ),
    _Command(
        "revoke",
        "revoke a certificate, with a reason",
        'balint-cme revoke BC-2026-000007 --reason "issued to the wrong person"',
    ),
    _Command(
        "attendance",
        "a person's verified participation across series (for verification requests)",
        "balint-cme attendance --person ana.ruiz@example.org",
    ),
    _Command(
        "consent",
        "record (or withdraw) a participant's consent to report completions to ACCME PARS",
        "balint-cme consent --person p01 --wording v1",
    ),
    _Command(
        "pars",
        "export consenting physicians' completions for ACCME PARS (.txt tab-delimited or .xlsx)",
        "balint-cme pars series.toml --out pars-learners.xlsx",
    ),
    _Command(
        "ledger",
        "prove the audit trail untouched (check), or purge a series after retention",
        "balint-cme ledger check",
    ),
    _Command(
        "serve",
        "serve the public verification page and JSON API (needs the web extra)",
        "balint-cme serve --ledger ledger.sqlite3 --key-file signing.key --port 8000",
    ),
    _Command(
        "publish",
        "write (or update) a static verification site for any static web host",
        "balint-cme publish --out site/",
    ),
    _Command(
        "keys",
        "the society's PDF-signing certificate: create a self-signed one",
        'balint-cme keys signing-cert --organization "Fictional Medical Society"',
    ),
    _Command(
        "paths",
        "show where the signing key, the ledger and the font cache are, and what set each",
        "balint-cme paths",
    ),
    _Command(
        "completion",
        "print a shell completion script for bash, zsh, tcsh or fish",
        "balint-cme completion bash > ~/.local/share/bash-completion/completions/balint-cme",
    ),
)
"""Every subcommand, in the order --help lists them."""


class _LazyCommandParser(CommandParser):
    """A subcommand's parser that declares its arguments (imports its module) on first use."""

    def __init__(self, *args: Any, command: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._command = command

    def declare(self) -> None:
        """Import balint_cme.commands.NAME and let it declare its arguments and handler."""
        if self._command is None:
            return
        module = importlib.import_module(f"balint_cme.commands.{self._command}")
        self._command = None  # once
        module.add_arguments(self)
        if self.get_default("handler") is None:
            self.set_defaults(handler=module.run)

    # Every way argparse uses a subparser goes through one of these.
    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        self.declare()
        return super().parse_known_args(*args, **kwargs)

    def format_help(self) -> str:
        self.declare()
        return super().format_help()

    def format_usage(self) -> str:
        self.declare()
        return super().format_usage()


def build_parser(*, lazy: bool = False) -> CommandParser:
    """The argument parser of balint-cme (public for documentation tools).

    With `lazy`, a subcommand's arguments are declared only when it is parsed (what the
    command itself uses); otherwise all of them are, now.
    """
    parser = CommandParser(
        prog="balint-cme",
        description="Attendance, AMA PRA Category 1 credit and certificates for Balint group series.",
        epilog="example:\n  balint-cme demo\n\nEvery subcommand has --help with an example.",
    )
    parser.add_argument("--version", action="version", version=f"balint-cme {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="explain on stderr why each report row matched whom (or nobody) and which rule "
        "set each session's credit",
    )
    parser.add_argument(
        "--settings",
        metavar="FILE",
        type=Path,
        help="the society's settings file (default: balint-cme.toml beside the series file, "
        "else in the per-user config folder; options given here override it)",
    )
    commands = parser.add_subparsers(
        title="subcommands", metavar="COMMAND", required=True, parser_class=_LazyCommandParser
    )
    for command in COMMANDS:
        subparser = commands.add_parser(
            command.name,
            help=command.summary,
            description=command.summary,
            epilog=f"example:\n  {command.example}",
            command=command.name,
        )
        if not lazy:
            subparser.declare()
    return parser
