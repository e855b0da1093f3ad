"""`balint-cme ledger check | purge | verifications`: the audit trail, retention, lookups.

Its arguments (add_arguments) sit beside its handlers (run_check, run_purge,
run_verifications); commands/parser.py imports this module only when the subcommand runs or
its --help is asked for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from balint_cme.commands import access, console, options
from balint_cme.ledger import default_ledger_path
from balint_cme.ledger.chain import parse_anchor
from balint_cme.web.counts import default_counts_path, read_counts

__all__ = ["add_arguments", "run_check", "run_purge", "run_verifications"]


def _anchor(text: str) -> str:
    try:
        seq, digest = parse_anchor(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return f"{seq}:{digest}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme ledger` and of its actions (check, purge, verifications)."""
    parser.set_defaults(handler=run_check)
    ledger_commands = parser.add_subparsers(
        title="ledger commands", metavar="ACTION", required=True, parser_class=options.CommandParser
    )
    check_chain = options.add_command(
        ledger_commands,
        "check",
        run_check,
        "verify the hash chain of the audit log and every row",
        "balint-cme ledger check",
    )
    check_chain.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        type=_anchor,
        help="an anchor printed after an earlier change: proves events 1..SEQ unchanged "
        "(later events are fine)",
    )
    check_chain.add_argument(
        "--expected-head",
        metavar="HASH",
        help="a head hash kept elsewhere: the log must still end with it (fails after any "
        "later change; prefer --anchor)",
    )
    options.ledger_option(check_chain)
    purge = options.add_command(
        ledger_commands,
        "purge",
        run_purge,
        "delete a series' records once six years have passed since its last session",
        'balint-cme ledger purge ssvms-balint-2020 --reason "retention period over"',
    )
    purge.add_argument("series_id", metavar="SERIES_ID")
    purge.add_argument("--reason", required=True)
    options.ledger_option(purge)
    options.by_option(purge)
    verifications = options.add_command(
        ledger_commands,
        "verifications",
        run_verifications,
        "how often each certificate was verified on the public web app (how often, not who)",
        "balint-cme ledger verifications BC-2021-000001",
    )
    verifications.add_argument("number", metavar="NUMBER", nargs="?")
    options.counts_option(verifications)
    options.ledger_option(verifications)


def run_check(args: argparse.Namespace) -> int:
    with access.open_ledger(args, create=False) as ledger:
        report = ledger.check_chain(expected_head=args.expected_head, anchor=args.anchor)
    if report.is_intact:
        console.out(
            f"intact: {report.events_checked} audit event(s), {report.rows_checked} row(s); "
            f"head {report.head_seq} {report.head_hash}"
        )
        if args.anchor:
            console.out(
                f"anchor {args.anchor} holds: events 1..{args.anchor.split(':')[0]} unchanged"
            )
        console.out(f"ledger anchor: {report.head_seq}:{report.head_hash}")
        return 0
    console.out(f"TAMPERED: {report.problem_count} problem(s)")
    for problem in report.problems:
        console.out(f"  {problem}")
    return 1


def run_purge(args: argparse.Namespace) -> int:
    with access.open_ledger(args, create=False) as ledger:
        report = ledger.purge_series(args.series_id, reason=args.reason, actor=access.actor(args))
    console.out(
        f"purged {report.series_id}: {report.rows_deleted} row(s), {report.people_deleted} person(s)"
    )
    return 0


def run_verifications(args: argparse.Namespace) -> int:
    ledger_path = Path(args.ledger) if args.ledger else default_ledger_path()
    counts_path = args.counts or default_counts_path(ledger_path)
    if not counts_path.exists():
        console.out(f"no verifications recorded (no counts file at {counts_path})")
        return 0
    counts = read_counts(counts_path, args.number)
    totals: dict[str, list[int | str]] = {}
    for count in counts:
        total = totals.setdefault(count.number, [0, 0, ""])
        total[0] = int(total[0]) + count.lookups
        total[1] = int(total[1]) + count.uploads
        total[2] = count.day.isoformat()
    if not totals:
        console.out("no verifications recorded" + (f" for {args.number}" if args.number else ""))
    for number, (lookups, uploads, last) in totals.items():
        console.out(f"{number}: {lookups} code lookup(s), {uploads} PDF check(s), last on {last}")
    return 0
