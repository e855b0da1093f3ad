"""The balint-cme command: argparse front end over the library.

Parses the arguments (balint_cme.commands.parser), fills options left out from the settings
file, and runs the subcommand's handler (balint_cme.commands.NAME.run), which loads its
inputs, calls the library, writes or prints, and returns an exit code. User mistakes (a
missing file, a bad series file, an unreadable report, an output that cannot be written)
print one line on stderr and exit 1; usage errors exit 2; anything else is a bug and shows its
traceback. This module imports nothing heavy: a subcommand's module (and the edges it needs)
loads only when that subcommand runs, so `--version` and `--help` answer at once.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence

from balint_cme.commands import console
from balint_cme.commands.options import Handler
from balint_cme.commands.parser import build_parser
from balint_cme.errors import BalintCmeError
from balint_cme.text import visible

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run balint-cme with `argv` (default: the process arguments); return the exit code."""
    parser = build_parser(lazy=True)  # only the subcommand given declares its arguments
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    # pypdf logs every oddity of a damaged file to stderr; verify reports them as its result.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    explaining = _explain_to_stderr() if args.verbose else None
    try:
        # By name, so that --version and --help never load the settings reader (pydantic).
        importlib.import_module("balint_cme.commands.settings").apply_settings(args)
        return handler(args)
    except BalintCmeError as err:
        return console.fail(str(err))
    except KeyboardInterrupt:
        return console.fail("interrupted")
    except BrokenPipeError:
        return 0
    finally:
        if explaining is not None:
            logging.getLogger("balint_cme").removeHandler(explaining)
            logging.getLogger("balint_cme").setLevel(logging.NOTSET)


class _VisibleFormatter(logging.Formatter):
    """Log lines quote names from report files: their control characters are shown escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


def _explain_to_stderr() -> logging.Handler:
    """-v: the library's DEBUG log (match reasons, credit rules) as plain lines on stderr.

    Without -v nothing is configured and the library logs nothing anyone sees: it only logs at
    DEBUG, below the level Python's last-resort handler prints.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_VisibleFormatter("balint-cme: %(message)s"))
    package = logging.getLogger("balint_cme")
    package.setLevel(logging.DEBUG)
    package.addHandler(handler)
    return handler
