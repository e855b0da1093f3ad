"""Batches: safe file names from numbers, atomic files, one merged PDF, progress, workers."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from balint_cme import Series
from balint_cme.certificates.batch import certificate_file_name, render_batch
from balint_cme.certificates.content import Certificate
from balint_cme.certificates.verification import verify_pdf
from balint_cme.errors import CertificateError, UnrenderableTextError
from tests.certificate_helpers import TEST_KEY, certificate_for, flat, page_text, renamed


def _many(series: Series, count: int) -> list[Certificate]:
    people = ("p01", "p02", "p03")
    return [
        certificate_for(series, people[i % 3], number=f"FMMS-2020-{i:04d}") for i in range(count)
    ]


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".")]


def test_each_certificate_gets_a_verified_file_named_from_its_number(
    series_2020: Series, tmp_path: Path
) -> None:
    certificates = _many(series_2020, 5)
    done: list[int] = []
    rendered = render_batch(
        certificates, tmp_path, workers=1, chunk_size=2, progress=done.append, key=TEST_KEY
    )
    assert [r.path.name for r in rendered] == [f"fmms-2020-{i:04d}.pdf" for i in range(5)]
    assert sum(done) == 5
    for certificate, result in zip(certificates, rendered, strict=True):
        data = result.path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == result.sha256
        assert verify_pdf(data, TEST_KEY).is_valid
        assert certificate.name in flat(page_text(data))
    assert _leftovers(tmp_path) == []


def test_file_names_never_come_from_names_or_escape_the_folder(
    series_2020: Series, tmp_path: Path
) -> None:
    series = renamed(series_2020, "../../etc/passwd")
    hostile = [
        certificate_for(series, number="../../outside"),
        certificate_for(series, number="/abs/path"),
        certificate_for(series, number="CON"),
        certificate_for(series, number="a\\b"),
    ]
    out = tmp_path / "out"
    rendered = render_batch(hostile, out, workers=1)
    for result in rendered:
        assert result.path.parent == out
        assert "passwd" not in result.path.name
    assert sorted(p.name for p in out.iterdir()) == sorted(r.path.name for r in rendered)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_numbers_that_slug_alike_do_not_overwrite_each_other(
    series_2020: Series, tmp_path: Path
) -> None:
    twins = [
        certificate_for(series_2020, "p01", number="A/1"),
        certificate_for(series_2020, "p02", number="A-1"),
        certificate_for(series_2020, "p03", number="a 1"),
    ]
    rendered = render_batch(twins, tmp_path, workers=1)
    assert len({r.path for r in rendered}) == 3
    assert rendered[0].path.name == "a-1.pdf"
    for certificate, result in zip(twins, rendered, strict=True):
        assert f"Certificate no. {certificate.number}" in flat(page_text(result.path.read_bytes()))


def test_reissue_gets_its_own_file(series_2020: Series) -> None:
    certificate = certificate_for(series_2020)
    assert certificate_file_name(certificate) == "fmms-2020-0002.pdf"
    assert certificate_file_name(certificate.evolve(version=2)) == "fmms-2020-0002-v2.pdf"


def test_repeated_number_is_refused(series_2020: Series, tmp_path: Path) -> None:
    same = certificate_for(series_2020, number="N-1")
    with pytest.raises(CertificateError, match="appears twice"):
        render_batch([same, same], tmp_path, workers=1)


def test_merged_pdf_has_every_certificate_in_order(series_2020: Series, tmp_path: Path) -> None:
    certificates = _many(series_2020, 7)
    done: list[int] = []
    rendered = render_batch(
        certificates, tmp_path, workers=1, merged=True, chunk_size=3, progress=done.append
    )
    assert sum(done) == 7
    target = tmp_path / "certificates.pdf"
    assert {r.path for r in rendered} == {target}
    assert [r.page for r in rendered] == list(range(1, 8))
    data = target.read_bytes()
    assert hashlib.sha256(data).hexdigest() == rendered[0].sha256
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 7
    for index, certificate in enumerate(certificates):
        text = flat(page_text(data, index))
        assert f"Certificate no. {certificate.number}" in text
        assert f"{certificate.name}, " in text
    assert _leftovers(tmp_path) == []


def test_merged_pdf_is_the_same_however_it_is_chunked(series_2020: Series, tmp_path: Path) -> None:
    certificates = _many(series_2020, 6)
    render_batch(certificates, tmp_path / "a", workers=1, merged=True, chunk_size=2)
    render_batch(certificates, tmp_path / "b", workers=1, merged=True, chunk_size=2)
    a = (tmp_path / "a" / "certificates.pdf").read_bytes()
    assert a == (tmp_path / "b" / "certificates.pdf").read_bytes()
    render_batch(certificates, tmp_path / "c", workers=1, merged=True, chunk_size=6)
    assert len(PdfReader(tmp_path / "c" / "certificates.pdf").pages) == 6


def test_failed_merged_batch_leaves_no_file(series_2020: Series, tmp_path: Path) -> None:
    certificates = [
        *_many(series_2020, 4),
        certificate_for(renamed(series_2020, "山田"), number="Z"),
    ]
    with pytest.raises(UnrenderableTextError):
        render_batch(certificates, tmp_path, workers=1, merged=True, chunk_size=2)
    assert list(tmp_path.iterdir()) == []


def test_generator_input_is_rendered_lazily(series_2020: Series, tmp_path: Path) -> None:
    pulled: list[int] = []

    def certificates() -> Iterator[Certificate]:
        for i in range(4):
            pulled.append(i)
            yield certificate_for(series_2020, number=f"G-{i}")

    seen_when_first_done: list[int] = []

    def progress(count: int) -> None:
        seen_when_first_done.append(len(pulled))

    render_batch(certificates(), tmp_path, workers=1, chunk_size=1, progress=progress)
    assert seen_when_first_done[0] < 4


@pytest.mark.slow
def test_two_workers_give_the_same_files_as_one(series_2020: Series, tmp_path: Path) -> None:
    certificates = _many(series_2020, 12)
    one = render_batch(certificates, tmp_path / "one", workers=1, chunk_size=4, key=TEST_KEY)
    two = render_batch(certificates, tmp_path / "two", workers=2, chunk_size=4, key=TEST_KEY)
    assert [r.sha256 for r in one] == [r.sha256 for r in two]
    merged_one = render_batch(certificates, tmp_path / "m1", workers=1, merged=True, chunk_size=4)
    merged_two = render_batch(certificates, tmp_path / "m2", workers=2, merged=True, chunk_size=4)
    assert merged_one[0].sha256 == merged_two[0].sha256


@pytest.mark.slow
def test_worker_failure_reaches_the_caller(series_2020: Series, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    certificates = _many(series_2020, 4)
    (blocked / certificate_file_name(certificates[2])).mkdir()  # a folder where a file goes
    with pytest.raises(CertificateError):
        render_batch(certificates, blocked, workers=2, chunk_size=1)
