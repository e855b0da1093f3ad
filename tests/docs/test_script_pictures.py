"""The README's pictures of names in complex scripts are drawn from real certificates.

Each picture is rasterised from a certificate the library renders (pdftoppm, from
poppler-utils), so the docs show what the tool does today. The test rewrites a picture that
differs; under CI a difference fails, so a stale picture is never published.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from balint_cme import Series
from balint_cme.certificates.pdf import render_pdf
from tests.certificate_helpers import TEST_KEY, certificate_for, renamed
from tests.conftest import ROOT

PICTURES = {
    # file, participant renamed, new name and credentials
    "certificate-devanagari.png": ("p01", "प्रिया रघुनाथन", "MBBS"),
    "certificate-arabic-names.png": ("p01", "Layla الرشيد", "MD"),
}


def _rasterise(pdf: bytes, folder: Path) -> bytes:
    source = folder / "certificate.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "64", "-singlefile", str(source), str(folder / "page")],
        check=True,
        capture_output=True,
    )
    return (folder / "page.png").read_bytes()


@pytest.mark.parametrize("picture", sorted(PICTURES))
def test_script_pictures_in_the_docs_are_real_certificates(
    series_2020: Series, picture: str, tmp_path: Path
) -> None:
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm (poppler-utils) is missing in CI: .ci/run installs it")
        pytest.skip("pdftoppm (poppler-utils) missing: the docs' pictures were not checked")
    participant, name, credentials = PICTURES[picture]
    series = renamed(series_2020, name, participant)
    series = series.evolve(
        participants=tuple(
            p.evolve(credentials=credentials) if p.id == participant else p
            for p in series.participants
        )
    )
    certificate = certificate_for(series, participant, number="BC-2021-000001")
    assert (certificate.name, certificate.kind) == (name, "credit")
    png = _rasterise(render_pdf(certificate, key=TEST_KEY), tmp_path)
    assert png.startswith(b"\x89PNG")
    target = ROOT / "docs" / picture
    if target.is_file() and target.read_bytes() == png:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"docs/{picture} is stale: run this test locally and commit the picture")
    target.write_bytes(png)
