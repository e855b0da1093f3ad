"""Shared pieces of the end-to-end command tests: an isolated workspace, generated rosters and
sign-in sheets, and snapshots of what a command left behind (files and ledger)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from balint_cme.certificates.keys import create_key
from balint_cme.cli import main
from balint_cme.ledger import Ledger
from tests.conftest import EXAMPLES, ROOT

SERIES_2020 = EXAMPLES / "ssvms-balint-2020.toml"
REPORTS_2020 = [EXAMPLES / "reports" / f"zoom-session-{n}.csv" for n in range(1, 6)]
SESSION_STARTS = ("2020-09-09", "2020-10-14", "2020-11-11", "2020-12-09", "2021-01-13")
"""The 2020 example's session dates; each session runs 18:45-19:45 Pacific."""


def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the command at a private ledger and key (mode 0600) under `tmp_path`."""
    monkeypatch.setenv("BALINT_CME_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("BALINT_CME_KEY_FILE", str(tmp_path / "keys" / "signing.key"))
    monkeypatch.setenv("BALINT_CME_CACHE_DIR", str(ROOT / ".venv" / "balint-cme-cache"))
    create_key(tmp_path / "keys" / "signing.key", key_id="test")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Run balint-cme in-process; (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str, *, naming: str | Path | None = None) -> None:
    """stderr is exactly one line, the command's error line, naming `naming` when given."""
    assert err.count("\n") == 1, err
    assert err.startswith("balint-cme: error: "), err
    assert "Traceback" not in err
    if naming is not None:
        assert str(naming) in err, err


# ---------------------------------------------------------------------------------------------
# Generated inputs


def roster_series_toml(
    names: Sequence[str],
    *,
    extra: Sequence[str] = (),
    series_id: str = "ssvms-balint-2020",
    first: int = 1,
) -> str:
    """The 2020 example's settings with a roster of physicians named `names` (ids p0001...,
    from p{first:04d}).

    `extra` holds TOML lines added to every participant (e.g. 'birth_month = 4').
    """
    head = SERIES_2020.read_text(encoding="utf-8").split("[[facilitators]]", 1)[0]
    head = head.replace('id = "ssvms-balint-2020"', f'id = "{series_id}"', 1)
    people = []
    for index, name in enumerate(names, start=first):
        person = [
            "[[participants]]",
            f'id = "p{index:04d}"',
            f"name = {json.dumps(name, ensure_ascii=False)}",
            'credentials = "MD"',
            *extra,
        ]
        people.append("\n".join(person))
    return head + "\n\n".join(people) + "\n"


def sign_in_csv(people: int, *, sessions: Sequence[int] = (1, 2, 3, 4, 5), first: int = 1) -> str:
    """A sign-in sheet where `people` people from p{first:04d} attend each of `sessions` in full."""
    lines = ["participant_id,session,join,leave"]
    for index in range(first, first + people):
        for session in sessions:
            day = SESSION_STARTS[session - 1]
            lines.append(f"p{index:04d},{session},{day} 18:45,{day} 19:45")
    return "\n".join(lines) + "\n"


def write_roster(
    directory: Path,
    names: Sequence[str],
    *,
    extra: Sequence[str] = (),
    series_id: str = "",
    first: int = 1,
) -> tuple[Path, Path]:
    """A series file and a matching sign-in sheet in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    series = directory / "series.toml"
    series.write_text(
        roster_series_toml(
            names, extra=extra, series_id=series_id or "ssvms-balint-2020", first=first
        ),
        encoding="utf-8",
    )
    sheet = directory / "sign-in.csv"
    sheet.write_text(sign_in_csv(len(names), first=first), encoding="utf-8")
    return series, sheet


# ---------------------------------------------------------------------------------------------
# What a command left behind


def tree(directory: Path) -> dict[str, bytes] | None:
    """Every file under `directory` (hidden ones too) by relative path; None if it is absent."""
    if not directory.exists():
        return None
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@dataclass(frozen=True)
class LedgerState:
    """Enough of a ledger to tell whether a command changed it."""

    head: tuple[int, str]
    certificates: tuple[tuple[str, int, str, str | None], ...]
    """(number, version, state, pdf sha256) of every certificate."""


def ledger_state(path: Path) -> LedgerState | None:
    """The ledger's head and certificates, or None when there is no ledger file."""
    if not path.exists():
        return None
    with Ledger.open(path, create=False) as ledger:
        assert ledger.check_chain().is_intact
        return LedgerState(
            head=ledger.head(),
            certificates=tuple(
                (c.number, c.version, c.state, c.pdf_sha256) for c in ledger.certificates()
            ),
        )
