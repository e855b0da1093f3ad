"""The package builds as an sdist and a wheel that install into a clean environment and run.

This is what a society's IT person does with a release: build (or download) the wheel, install it
with pip alone into a fresh virtual environment, and run `balint-cme demo`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import balint_cme
from tests.conftest import ROOT


def _run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, check=True
    )


@pytest.fixture(scope="module")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Build the sdist, and the wheel from that sdist (as `python -m build` does)."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=ROOT)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def test_version_is_single_sourced() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r"^version\s*=", pyproject, re.MULTILINE) is None
    assert 'dynamic = ["version"]' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", balint_cme.__version__)


def test_licence_file_matches_the_declared_licence() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.slow
def test_wheel_metadata_carries_version_licence_and_classifiers(
    distributions: tuple[Path, Path],
) -> None:
    _, wheel = distributions
    with zipfile.ZipFile(wheel) as archive:
        metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
        names = archive.namelist()
    assert metadata["Version"] == balint_cme.__version__
    assert metadata["License-Expression"] == "MIT"
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])
    assert any(name.endswith("licenses/LICENSE") for name in names)
    assert "balint_cme/py.typed" in names
    assert "balint_cme/io/pars_columns.toml" in names


@pytest.mark.slow
def test_sdist_carries_the_licence_tests_and_examples(distributions: tuple[Path, Path]) -> None:
    sdist, _ = distributions
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for expected in ("LICENSE", "README.md", "pyproject.toml", "src/balint_cme/__init__.py"):
        assert expected in names
    assert any(name.startswith("examples/") for name in names)
    assert any(name.startswith("tests/") for name in names)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["wheel", "sdist"])
def test_distribution_installs_in_a_clean_venv_and_runs_the_demo(
    distributions: tuple[Path, Path], which: str, tmp_path: Path
) -> None:
    sdist, wheel = distributions
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          wheel if which == "wheel" else sdist], cwd=tmp_path)  # fmt: skip
    version = _run([env_dir / "bin" / "balint-cme", "--version"], cwd=tmp_path)
    assert version.stdout.strip() == f"balint-cme {balint_cme.__version__}"
    demo = _run([env_dir / "bin" / "balint-cme", "demo", "--out", tmp_path / "demo"], cwd=tmp_path)
    pdfs = sorted((tmp_path / "demo").rglob("*.pdf"))
    assert pdfs, demo.stdout
    assert all(pdf.read_bytes().startswith(b"%PDF-") for pdf in pdfs)
    # The installed copy is the one that ran, not the source tree.
    where = _run([python, "-c", "import balint_cme; print(balint_cme.__file__)"], cwd=tmp_path)
    assert str(env_dir) in where.stdout
