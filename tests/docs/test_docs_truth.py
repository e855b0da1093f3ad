"""docs/certificates.md tells the truth (issue 14.15): its snippet runs as written, never
touches the reader's real signing key, and the page ends with documentation, not notes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "certificates.md").read_text(encoding="utf-8")


def test_no_snippet_writes_the_default_key() -> None:
    for block in re.findall(r"```python\n(.*?)```", DOC, flags=re.DOTALL):
        assert "load_or_create_default_key(" not in block


def test_the_page_ends_without_internal_notes() -> None:
    assert "Noticed, left alone" not in DOC
    assert "where the issue was silent" not in DOC
    assert "PERF-NOTES" not in DOC


def test_readme_closes_its_code_fences_on_their_own_line() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"^```[ \t]+\S", readme, flags=re.MULTILINE)


@pytest.mark.slow
def test_the_certify_and_verify_snippet_runs_as_written(tmp_path: Path) -> None:
    (snippet,) = re.findall(r"```python\n(.*?)```", DOC, flags=re.DOTALL)[:1]
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "BALINT_CME_CACHE_DIR": str(ROOT / ".venv" / "balint-cme-cache"),
    }
    env.pop("BALINT_CME_KEY_FILE", None)
    result = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Numbered by the ledger the snippet opens, not by the caller.
    assert result.stdout.startswith("BC-2021-000001 Ana Ruiz 4.75 bc-2021-000001.pdf\n")
    assert "valid: certificate BC-2021-000001 for Ana Ruiz" in result.stdout
    assert not home.exists()  # nothing written in the reader's home (no default key)
