"""SECURITY.md stays true: every test it cites exists, and the limits it states are the code's."""

from __future__ import annotations

import ast
import re

from balint_cme.certificates import page_seal
from balint_cme.certificates.verification import MAX_PDF_BYTES
from balint_cme.io.report_text import MAX_LINE_CHARS, MAX_REPORT_BYTES, MAX_VALUE_CHARS
from balint_cme.io.series_file import MAX_SERIES_FILE_BYTES
from tests.conftest import ROOT

NOTE = (ROOT / "SECURITY.md").read_text(encoding="utf-8")


def _test_functions() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names.update(
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        )
    return names


def test_every_test_the_security_note_cites_exists() -> None:
    cited = set(re.findall(r"`(test_\w+)`", NOTE))
    assert len(cited) >= 40
    assert cited - _test_functions() == set()


def test_every_protection_row_cites_a_test() -> None:
    table = [line for line in NOTE.splitlines() if line.startswith("| ") and "---" not in line]
    rows = table[1:]  # after the header
    assert len(rows) >= 12
    for row in rows:
        assert re.search(r"`test_\w+`", row), row


def test_the_size_limits_in_the_note_are_the_codes() -> None:
    assert MAX_SERIES_FILE_BYTES == 5 * 1024 * 1024
    assert MAX_REPORT_BYTES == 200 * 1024 * 1024
    assert MAX_LINE_CHARS == 65_536
    assert MAX_VALUE_CHARS == 1_000
    assert MAX_PDF_BYTES == 20 * 1024 * 1024
    stated = "series file 5 MB, meeting report 200 MB (lines 65,536 characters, values 1,000), PDF to verify 20 MB, column map 256 KB, key file 4 KB"
    assert stated in NOTE
    assert (page_seal.MAX_OBJECTS, page_seal._MAX_PARSED_BYTES) == (2_000, 128 * 1024)
    assert "at most 2,000 objects and 128 KB of object syntax" in NOTE
