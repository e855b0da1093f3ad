"""docs/certificate.png is drawn from `balint-cme demo` output, so it cannot drift (14.14).

The picture is Zoë Ångström's certificate of credit from the demo (she earns 5.00 from the
shipped data), rendered with poppler's pdftoppm at 100 dpi. When the drawing differs, the test
rewrites the picture (commit it); under CI=true a difference fails instead. Pictures are
compared by pixels with a small tolerance, so a different poppler's anti-aliasing is not a
difference.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from balint_cme.certificates.keys import SigningKey
from balint_cme.demo import run_demo
from tests.conftest import ROOT

PICTURE = ROOT / "docs" / "certificate.png"
RESOLUTION = 100  # dpi: a US Letter landscape page is 1100 x 850 pixels
# A fixed key and day, so the verification code and issue date are the same on every run.
DEMO_KEY = SigningKey("demo", bytes(range(32)))
DEMO_DAY = datetime(2021, 1, 20, 18, 0, tzinfo=UTC)


def _same_picture(a: Path, b: Path) -> bool:
    with Image.open(a) as first, Image.open(b) as second:
        if first.size != second.size:
            return False
        difference = ImageChops.difference(first.convert("L"), second.convert("L"))
        return max(ImageStat.Stat(difference).mean) < 1.0


@pytest.mark.slow
def test_docs_certificate_png_is_the_demo_certificate(tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is missing (apt-get install poppler-utils): cannot draw the picture")
    out = tmp_path / "demo"
    out.mkdir()
    (out / "demo-signing.key").write_text(DEMO_KEY._to_file_text(), encoding="utf-8")
    os.chmod(out / "demo-signing.key", 0o600)
    run_demo(out, now=DEMO_DAY)
    manifest = json.loads((out / "certificates" / "manifest.json").read_text(encoding="utf-8"))
    (zoe,) = [c for c in manifest["certificates"] if c["person"] == "p02"]
    assert zoe["name"] == "Zoë Ångström"
    assert zoe["kind"] == "credit"
    assert zoe["credits"] == "5.00"
    drawn = tmp_path / "certificate"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-singlefile",
            "-r",
            str(RESOLUTION),
            str(out / "certificates" / zoe["file"]),
            str(drawn),
        ],
        check=True,
    )
    png = drawn.with_suffix(".png")
    if PICTURE.exists() and _same_picture(png, PICTURE):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("docs/certificate.png is stale: run the test locally and commit it")
    shutil.copyfile(png, PICTURE)
