"""`balint-cme --version` and `--help` load no edge: each subcommand's module (and the
libraries it needs) is imported only when that subcommand runs or its --help is asked for.
Checked by what a fresh interpreter has imported, never by timing."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from balint_cme.commands.parser import COMMANDS, build_parser

HEAVY = ("reportlab", "pypdf", "starlette", "openpyxl", "sqlite3", "pydantic", "segno", "tqdm")


def _run_and_list_imports(*argv: str) -> tuple[int, str, list[str]]:
    """Run balint-cme with `argv` in a fresh interpreter; its exit code, its stdout, and the
    heavy libraries and command modules it had imported when it finished."""
    code = (
        "import sys\n"
        "from balint_cme.cli import main\n"
        "try:\n"
        f"    status = main({list(argv)!r})\n"
        "except SystemExit as stop:\n"
        "    status = stop.code\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
        "or m.startswith('balint_cme.commands.') and m.count('.') == 2)\n"
        "print('\\nIMPORTED', ' '.join(heavy))\n"
        "sys.exit(status)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    output, _, imported = result.stdout.rpartition("\nIMPORTED")
    return result.returncode, output, imported.split()


LIGHT_MODULES = [
    "balint_cme.commands.console",
    "balint_cme.commands.options",
    "balint_cme.commands.parser",
]


def test_version_loads_no_edge_and_no_command_module() -> None:
    status, output, imported = _run_and_list_imports("--version")
    assert status == 0
    assert output.strip() == "balint-cme 0.1.0"
    assert [m for m in imported if m not in LIGHT_MODULES] == []


def test_help_lists_every_subcommand_without_loading_any() -> None:
    status, output, imported = _run_and_list_imports("--help")
    assert status == 0
    for command in COMMANDS:
        assert f"    {command.name} " in output
    assert [m for m in imported if m not in LIGHT_MODULES] == []


def test_a_subcommand_help_loads_that_subcommand_only() -> None:
    status, output, imported = _run_and_list_imports("schema", "--help")
    assert status == 0
    assert "--output NAME" in output
    commands = [m for m in imported if m.startswith("balint_cme.commands.")]
    assert set(commands) <= {*LIGHT_MODULES, "balint_cme.commands.schema"}
    assert "reportlab" not in imported
    assert "starlette" not in imported


def _subcommand_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", [command.name for command in COMMANDS])
def test_each_subcommand_declares_the_same_arguments_lazily_as_eagerly(name: str) -> None:
    eager = _subcommand_parsers(build_parser())[name]
    lazy = _subcommand_parsers(build_parser(lazy=True))[name]
    assert lazy.format_help() == eager.format_help()
    assert eager.get_default("handler") is not None
    assert lazy.get_default("handler") is eager.get_default("handler")
