"""`balint-cme serve`: the public verification web app (needs the web extra).

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from balint_cme.commands import access, console, options
from balint_cme.ledger import default_ledger_path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme serve`."""
    options.public_keys_option(parser)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    options.counts_option(parser)
    parser.add_argument(
        "--no-counts", action="store_true", help="do not count verifications per certificate"
    )
    parser.add_argument(
        "--lookups-per-minute",
        type=float,
        default=60.0,
        metavar="N",
        help="sustained lookups per client a minute (default 60), after --burst",
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=20,
        metavar="N",
        help="lookups a client may make at once (default 20)",
    )
    parser.add_argument(
        "--cache-seconds",
        type=int,
        default=60,
        metavar="N",
        help="how long browsers and proxies may keep an answer: the longest a revocation can "
        "go unseen (default 60)",
    )
    options.ledger_option(parser)


def run(args: argparse.Namespace) -> int:
    try:
        from balint_cme.web.app import create_app, run_server  # noqa: PLC0415 - the web extra
    except ImportError as err:
        return console.fail(
            f"serve needs the web extra ({err.name} is missing): pip install 'balint-cme[web]'"
        )
    ledger_path = Path(args.ledger) if args.ledger else default_ledger_path()
    app = create_app(
        ledger_path,
        access.key_ring(args),
        counts_path=args.counts,
        count_verifications=not args.no_counts,
        lookups_per_minute=args.lookups_per_minute,
        burst=args.burst,
        cache_seconds=args.cache_seconds,
    )
    # One line per lookup (code hashed, never the name) from balint_cme.web; uvicorn's own
    # access log is off because it would write the code in the path.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(
        f"balint-cme: verifying at http://{args.host}:{args.port}/ (Ctrl-C stops)", file=sys.stderr
    )
    run_server(app, host=args.host, port=args.port)
    return 0
