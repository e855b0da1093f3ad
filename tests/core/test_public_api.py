"""The public API: __all__ is what the package exports, and the core stays pure."""

from __future__ import annotations

import subprocess
import sys
import types

import balint_cme


def test_all_names_are_importable_and_nothing_public_is_missing() -> None:
    exported = set(balint_cme.__all__)
    assert all(hasattr(balint_cme, name) for name in exported)
    public = {
        name
        for name, value in vars(balint_cme).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == exported - {"__version__"}


def test_importing_the_core_does_not_load_reportlab_or_edges() -> None:
    code = (
        "import sys, balint_cme; "
        "print(sorted(m for m in sys.modules if m.startswith(('reportlab', 'balint_cme.certificates', "
        "'balint_cme.io', 'balint_cme.ledger', 'sqlite3', 'segno'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
