"""`balint-cme paths`: where the key, the ledger, the caches and the settings file are.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
import json

from balint_cme import places
from balint_cme.commands import console
from balint_cme.io.settings_file import user_settings_file

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme paths`."""
    parser.add_argument("--json", action="store_true", help="print a JSON document instead")


def run(args: argparse.Namespace) -> int:
    settings = args.settings_file or user_settings_file()
    source = "--settings" if args.settings else "default"

    found = (*places.user_places(), places.Place("settings file", settings, source))
    if args.json:
        document = {
            "version": 1,
            "places": [
                {"name": p.name, "path": str(p.path), "source": p.source, "exists": p.path.exists()}
                for p in found
            ],
        }
        console.out(json.dumps(document, indent=2, ensure_ascii=False), json_text=True)
        return 0
    width = max(len(p.name) for p in found)
    for place in found:
        origin = (
            ""
            if place.source == "default"
            else f"  (from {place.source if place.source.startswith('-') else '$' + place.source})"
        )
        missing = "" if place.path.exists() else "  (not created yet)"
        console.out(f"{place.name:<{width}}  {place.path}{origin}{missing}")
    return 0
