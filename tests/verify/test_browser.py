"""End to end in a real browser: a certificate's QR code, decoded from the rendered page image,
opens the verify page in headless Chromium, served by `balint-cme serve` and by a static file
server over a published site; revoking shows on reload (and after the next publish).

Needs Debian's chromium and chromium-driver, and poppler-utils (pdftoppm). Skipped with the
reason when they are missing, except in CI (CI=true), where a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from balint_cme.certificates.keys import SigningKey
from tests.conftest import ROOT
from tests.verify.web_support import Issued, issue_2020

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PDFTOPPM = shutil.which("pdftoppm")
SCREENSHOT = ROOT / "docs" / "verify-page.png"
SCREENSHOT_KEY = SigningKey("kdocs0001", bytes(range(100, 132)))
"""A fixed key, so the screenshot shows the same codes on every run."""

pytestmark = pytest.mark.slow


def _require_tools() -> None:
    missing = [
        name
        for name, found in (
            ("chromium", CHROMIUM),
            ("chromedriver (chromium-driver)", CHROMEDRIVER),
            ("pdftoppm (poppler-utils)", PDFTOPPM),
        )
        if not found
    ]
    if missing:
        reason = (
            f"browser tests need {', '.join(missing)}: "
            "apt-get install -y chromium chromium-driver poppler-utils"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests, but {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


@contextlib.contextmanager
def _running(command: list[str], port: int) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _qr_url(pdf: Path, folder: Path) -> str:
    """The URL in the certificate's QR code, read from the rendered page by a QR decoder."""
    import zxingcpp
    from PIL import Image

    subprocess.run(
        [
            PDFTOPPM or "pdftoppm",
            "-r",
            "150",
            "-png",
            "-singlefile",
            str(pdf),
            str(folder / "page"),
        ],
        check=True,
    )
    found = zxingcpp.read_barcodes(Image.open(folder / "page.png"))
    assert len(found) == 1, found
    return str(found[0].text)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    _require_tools()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    profile = tempfile.mkdtemp(prefix="balint-cme-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=900,1200",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _result(driver: WebDriver) -> tuple[str, str]:
    """(status, text) of the result section, once it is shown."""
    section = WebDriverWait(driver, 30).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "section.result"))
    )
    return str(section.get_attribute("data-status")), str(section.text)


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "balint_cme", *args], check=True, capture_output=True)


def _save_screenshot(driver: WebDriver, path: Path) -> None:
    png: bytes = driver.get_screenshot_as_png()
    if not path.is_file() or path.read_bytes() != png:
        path.write_bytes(png)


def test_qr_code_opens_the_served_page_and_a_revocation_shows_on_reload(
    browser: WebDriver, tmp_path: Path
) -> None:
    port = _free_port()
    issued: Issued = issue_2020(
        tmp_path / "ledger", verify_url=f"http://127.0.0.1:{port}", key=SCREENSHOT_KEY
    )
    url = _qr_url(issued.pdf_of("p01"), tmp_path)
    assert url == f"HTTP://127.0.0.1:{port}/v/{issued.code_of('p01').upper()}"
    serve = [
        sys.executable, "-m", "balint_cme", "serve", "--port", str(port),
        "--ledger", str(issued.ledger_path), "--key-file", str(issued.key_path),
    ]  # fmt: skip
    with _running(serve, port):
        browser.get(url)
        status, text = _result(browser)
        assert status == "valid"
        assert "Valid" in text
        assert "Ana Ruiz, MD" in text
        assert "4.75 AMA PRA Category 1 Credits™" in text
        assert "2020 Balint Group" in text
        assert issued.number_of("p01") in text
        _save_screenshot(browser, SCREENSHOT)

        # Upload the PDF through the page's form.
        browser.find_element(By.ID, "pdf").send_keys(str(issued.pdf_of("p01")))
        browser.find_element(By.CSS_SELECTOR, "form[enctype] button").click()
        status, text = _result(browser)
        assert status == "valid"
        assert "byte for byte the one issued" in text

        _cli("revoke", issued.number_of("p01"), "--reason", "issued to the wrong person",
             "--ledger", str(issued.ledger_path))  # fmt: skip
        browser.get(url)
        browser.refresh()  # a reload revalidates the cached answer
        status, text = _result(browser)
        assert status == "revoked"
        assert "Revoked" in text
        assert "issued to the wrong person" in text


def test_qr_code_opens_the_static_site_and_a_revocation_shows_after_the_next_publish(
    browser: WebDriver, tmp_path: Path
) -> None:
    port = _free_port()
    issued = issue_2020(tmp_path / "ledger", verify_url=f"http://127.0.0.1:{port}/#{{code}}")
    site = tmp_path / "site"
    publish = ["publish", "--out", str(site), "--ledger", str(issued.ledger_path),
               "--key-file", str(issued.key_path)]  # fmt: skip
    _cli(*publish)
    url = _qr_url(issued.pdf_of("p02"), tmp_path)
    assert url == f"HTTP://127.0.0.1:{port}/#{issued.code_of('p02').upper()}"
    static = [
        sys.executable,
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        "--directory",
        str(site),
        str(port),
    ]
    with _running(static, port):
        browser.get(url)
        status, text = _result(browser)
        assert status == "valid"
        assert "Zoë Ångström, DO" in text
        assert "5.0 AMA PRA Category 1 Credits™" in text

        # Drop the PDF: its SHA-256, computed in the browser, finds the published answer.
        browser.find_element(By.ID, "pdf").send_keys(str(issued.pdf_of("p02")))
        status, text = _result(browser)
        assert status == "valid"
        assert "byte for byte the one issued" in text

        _cli("revoke", issued.number_of("p02"), "--reason", "duplicate registration",
             "--ledger", str(issued.ledger_path))  # fmt: skip
        _cli(*publish)
        browser.get("about:blank")
        browser.get(url)
        status, text = _result(browser)
        assert status == "revoked"
        assert "duplicate registration" in text

        browser.get(f"http://127.0.0.1:{port}/?code=kdocs0001.AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")
        status, _ = _result(browser)
        assert status == "unknown"
