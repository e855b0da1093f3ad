"""Every balint-cme command shown in the README runs as written, in order, in a fresh folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[tuple[str, int | None]]:
    """(command line, expected exit code) for every `balint-cme` line of the ```sh blocks;
    None for a server (`# serves until stopped`), which is documented but not run here."""
    commands: list[tuple[str, int | None]] = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("balint-cme "):
                exits = re.search(r"#\s*exits (\d)", line)
                expected = int(exits[1]) if exits else 0
                if re.search(r"#\s*serves until stopped", line):
                    commands.append((line, None))
                else:
                    commands.append((line, expected))
    return commands


def test_readme_documents_every_subcommand() -> None:
    import argparse

    from balint_cme.cli import build_parser

    parser = build_parser()
    shown = {line.split()[1] for line, _ in readme_commands()}
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) <= shown
    assert "balint-cme ledger check" in README
    assert "balint-cme ledger purge" in README


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "BALINT_CME_LEDGER": str(tmp_path / "ledger.sqlite3"),
        "BALINT_CME_KEY_FILE": str(tmp_path / "keys" / "signing.key"),
        "BALINT_CME_CACHE_DIR": str(ROOT / ".venv" / "balint-cme-cache"),
    }
    commands = readme_commands()
    assert len(commands) >= 20
    for line, expected in commands:
        if expected is None:
            continue  # a server: tests/verify/test_browser.py runs it
        result = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == expected, f"{line}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, line
    assert (tmp_path / "certificates" / "manifest.json").is_file()
    assert (tmp_path / "printing" / "certificates.pdf").is_file()
    assert (tmp_path / "balint-cme-demo" / "report.txt").is_file()
    assert (tmp_path / "pars-learners.txt").read_text(encoding="utf-8").startswith("Activity ID")


@pytest.mark.slow
def test_readme_pars_example_exports_real_rows(tmp_path: Path) -> None:
    """The README's PARS commands export rows, not just a header (14.15)."""
    lines = [line for line, _ in readme_commands()]
    needed = [
        line
        for line in lines
        if line.startswith(("balint-cme certify", "balint-cme consent", "balint-cme pars"))
        and "--merged" not in line
    ]
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    env = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        "BALINT_CME_LEDGER": str(tmp_path / "ledger.sqlite3"),
        "BALINT_CME_KEY_FILE": str(tmp_path / "keys" / "signing.key"),
        "BALINT_CME_CACHE_DIR": str(ROOT / ".venv" / "balint-cme-cache"),
    }
    for line in needed:
        subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, check=False)
    rows = (tmp_path / "pars-learners.txt").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) > 0
    assert any("\tZoë\tÅngström\t3\t14\tCA\t" in row for row in rows)


def test_readme_says_where_its_commands_run() -> None:
    """The commands assume the repository root and the virtual environment's bin on PATH."""
    assert "repository root" in README
    assert ".venv/bin" in README
