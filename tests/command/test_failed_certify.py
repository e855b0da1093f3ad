"""A failed certify changes nothing: no output folder it did not find, no file changed, no new
ledger rows, no partial PDF; and a batch that fails while drawing leaves nothing half-done."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from balint_cme.certificates import batch
from balint_cme.ledger import Ledger
from balint_cme.storage import write_atomically
from tests.command_helpers import (
    REPORTS_2020,
    SERIES_2020,
    assert_one_line_error,
    isolate,
    ledger_state,
    run,
    tree,
)

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def certify_argv(out: Path, *extra: str | Path, series: Path = SERIES_2020) -> list[str | Path]:
    return [
        "certify",
        series,
        "--attendance",
        *REPORTS_2020,
        "--out",
        out,
        "--issued-on",
        "2021-01-20",
        "--quiet",
        *extra,
    ]


@pytest.fixture
def issued_folder(workspace: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A first, successful run into workspace/issued: the state a failure must not change."""
    code, _, err = run(capsys, *certify_argv(workspace / "issued"))
    assert code == 0, err
    return workspace / "issued"


def _bad_report(workspace: Path) -> tuple[list[str | Path], str | Path]:
    junk = workspace / "zoom-junk.csv"
    junk.write_bytes(b"\x00\xff\xfe garbage\n" * 3)
    return ["--attendance", junk], junk


def _unknown_session(workspace: Path) -> tuple[list[str | Path], str | Path]:
    return ["--attendance", f"9={REPORTS_2020[0]}"], "session 9 does not exist"


def _unprintable_name(workspace: Path) -> tuple[list[str | Path], str | Path]:
    series = workspace / "cjk.toml"
    series.write_text(
        SERIES_2020.read_text(encoding="utf-8").replace('"Ana Ruiz"', '"王秀英"'), encoding="utf-8"
    )
    return ["--series", series], "U+738B"


def _loose_key(workspace: Path) -> tuple[list[str | Path], str | Path]:
    os.chmod(workspace / "keys" / "signing.key", 0o644)
    return [], "chmod 600"


def _purged_series(workspace: Path) -> tuple[list[str | Path], str | Path]:
    # Six years after the last session (2021-01-13) the series may be purged; its id is then
    # refused for good: the ledger refuses the run after every input has been checked.
    later = datetime(2027, 2, 1, tzinfo=UTC)
    with Ledger.open(workspace / "ledger.sqlite3", create=False, clock=lambda: later) as ledger:
        ledger.purge_series("ssvms-balint-2020", reason="retention over", actor="test")
    return [], "was purged"


def _damaged_ledger(workspace: Path) -> tuple[list[str | Path], str | Path]:
    damaged = workspace / "not-a-ledger.sqlite3"
    damaged.write_bytes(b"this is not a database\n" * 10)
    return ["--ledger", damaged], damaged


def _out_is_a_file(workspace: Path) -> tuple[list[str | Path], str | Path]:
    target = workspace / "a-file.txt"
    target.write_text("keep me\n", encoding="utf-8")
    return ["--out", target], target


def _out_under_a_file(workspace: Path) -> tuple[list[str | Path], str | Path]:
    target = workspace / "a-file.txt"
    target.write_text("keep me\n", encoding="utf-8")
    return ["--out", target / "certificates"], target


FAILURES: dict[str, Callable[[Path], tuple[list[str | Path], str | Path]]] = {
    "bad report": _bad_report,
    "unknown session": _unknown_session,
    "unprintable name": _unprintable_name,
    "key file readable by others": _loose_key,
    "series purged from the ledger": _purged_series,
    "file that is not a ledger": _damaged_ledger,
    "--out is a file": _out_is_a_file,
    "--out inside a file": _out_under_a_file,
}


def _argv_with(out: Path, extra: list[str | Path]) -> list[str | Path]:
    """certify's arguments with the failure's changes: extra reports, --series, --out, --ledger."""
    series = SERIES_2020
    if "--series" in extra:
        series = Path(extra[extra.index("--series") + 1])
        extra = [a for a in extra if a not in ("--series", series)]
    if "--out" in extra:
        out = Path(extra[extra.index("--out") + 1])
        extra = [a for a in extra if a not in ("--out", out)]
    argv = certify_argv(out, series=series)
    if "--attendance" in extra:  # the failure's reports replace the good ones
        at = argv.index("--attendance")
        argv[at + 1 : at + 1 + len(REPORTS_2020)] = extra[1:2]
        extra = extra[2:]
    return [*argv, *extra]


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_failed_certify_changes_nothing(
    failure: str, workspace: Path, issued_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra, named = FAILURES[failure](workspace)
    ledger = workspace / "ledger.sqlite3"
    before_ledger = ledger_state(ledger)
    before_issued = tree(issued_folder)
    before_workspace = sorted(p.name for p in workspace.iterdir())

    for out in (workspace / "new-folder", issued_folder):  # a folder it makes, a folder it finds
        code, out_text, err = run(capsys, *_argv_with(out, extra))
        assert code == 1
        assert out_text == ""
        assert_one_line_error(err, naming=named)
        assert not (workspace / "new-folder").exists()
        assert tree(issued_folder) == before_issued  # no file added, changed or half-written
        assert sorted(p.name for p in workspace.iterdir()) == before_workspace
        assert ledger_state(ledger) == before_ledger  # no new row, event or certificate


class _DiskFull:
    """Lets `allowed` certificate files be written, then fails like a full disk."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed
        self.calls = 0

    def __call__(self, path: Path, data: bytes, *, mode: int = 0o644) -> None:
        self.calls += 1
        if self.calls > self.allowed:
            raise OSError(28, "No space left on device")
        write_atomically(path, data, mode=mode)


@pytest.mark.parametrize("existing", [False, True])
def test_a_batch_that_fails_while_drawing_leaves_no_certificate_behind(
    existing: bool,
    workspace: Path,
    issued_folder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The disk fills up after three of six PDFs: nothing appears, and a re-run finishes."""
    ledger = workspace / "ledger.sqlite3"
    series = workspace / "retitled.toml"  # a corrected title: all six need a new version
    series.write_text(
        SERIES_2020.read_text(encoding="utf-8").replace("2020 Balint Group", "Balint Group 2020"),
        encoding="utf-8",
    )
    out = issued_folder if existing else workspace / "new-folder"
    before = tree(issued_folder)
    state = ledger_state(ledger)
    assert state is not None
    issued_before = {c for c in state.certificates if c[2] == "issued"}

    monkeypatch.setattr(batch, "write_atomically", _DiskFull(allowed=3))
    code, _, err = run(capsys, *certify_argv(out, "--workers", "1", series=series))
    assert code == 1
    assert_one_line_error(err, naming="No space left on device")
    assert tree(issued_folder) == before
    assert existing or not out.exists()
    state = ledger_state(ledger)
    assert state is not None
    assert {c for c in state.certificates if c[2] == "issued"} == issued_before
    pending = {(c[0], c[1]) for c in state.certificates if c[2] == "pending"}
    assert len(pending) == 6  # reserved, waiting for their files: the next run resumes them

    monkeypatch.setattr(batch, "write_atomically", write_atomically)  # room on the disk again
    code, _, err = run(capsys, *certify_argv(out, "--workers", "1", series=series))
    assert code == 0, err
    with Ledger.open(ledger, create=False) as opened:
        assert opened.pending() == ()
        assert opened.check_files(out) == ()
        assert {(c.number, c.version) for c in opened.certificates(state="issued")} >= pending
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
