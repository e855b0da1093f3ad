"""The public API: __all__ is what the package exports, edges resolve lazily, the core stays pure."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import balint_cme

HEAVY = (
    "reportlab",
    "pypdf",
    "sqlite3",
    "openpyxl",
    "segno",
    "fontTools",
    "uharfbuzz",
    "starlette",
)


def _loaded_after(code: str) -> list[str]:
    """Top-level modules from HEAVY (and balint_cme's edge packages) loaded by `code`, run in a
    fresh interpreter."""
    probe = (
        f"{code}\nimport sys\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
        "or m.startswith(('balint_cme.certificates', 'balint_cme.io', 'balint_cme.ledger', "
        "'balint_cme.workflow', 'balint_cme.web'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return [name for name in result.stdout.strip().strip("[]").replace("'", "").split(", ") if name]


def test_all_names_are_importable_and_nothing_public_is_missing() -> None:
    exported = set(balint_cme.__all__)
    assert all(hasattr(balint_cme, name) for name in exported)
    resolved = {
        name
        for name, value in vars(balint_cme).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert resolved == exported - {"__version__"}  # every name, now resolved, and no other
    assert set(balint_cme._EXPORTS) == exported - {"__version__"}
    assert set(dir(balint_cme)) >= exported


def test_every_name_resolves_to_the_object_in_its_module() -> None:
    for name, target in balint_cme._EXPORTS.items():
        module_name, _, attribute = target.partition(":")
        module = __import__(module_name, fromlist=[attribute])
        assert getattr(balint_cme, name) is getattr(module, attribute), name


def test_internal_names_are_not_exported() -> None:
    for name in ("DomainModel", "quarter_hours", "credit_amount"):
        assert name not in balint_cme.__all__
        assert not hasattr(balint_cme, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'render_everything'"):
        _ = balint_cme.render_everything  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_edge_and_no_heavy_library() -> None:
    assert _loaded_after("import balint_cme") == []
    # Not even pydantic: the command's --version and --help import this file first.
    assert _loaded_after("import balint_cme, sys; assert 'pydantic' not in sys.modules") == []


def test_the_one_call_certify_is_the_use_case_function() -> None:
    module_name, _, attribute = balint_cme._EDGES["certify"].partition(":")
    assert balint_cme.certify.__name__ == attribute == "certify"
    assert balint_cme.certify.__module__ == module_name


def test_the_star_import_of_the_core_still_loads_no_heavy_library() -> None:
    # `from balint_cme import X` for every core name: nothing heavy; an edge name loads its edge.
    core = [name for name in balint_cme.__all__ if name not in balint_cme._EDGES]
    loaded = _loaded_after(f"from balint_cme import {', '.join(core)}")
    assert loaded == []
    assert "reportlab" in _loaded_after("from balint_cme import render_pdf")
