"""The forgery suite: certificates doctored as an attacker would, each checked through
`balint-cme verify` (with and without the ledger) and through verify_certificate_pdf.

Every forgery here verified as "valid" before page seals (the check then looked for each
claim somewhere in the page text). A genuine file, and a copy re-saved by another program,
stay valid.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.annotations import FreeText
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    StreamObject,
)

from balint_cme.certificates.content import build_certificate
from balint_cme.certificates.keys import SigningKey, load_key
from balint_cme.certificates.page_seal import PAGE_SEAL_KEY, compute_page_seal, page_digest
from balint_cme.certificates.pdf import render_pdf
from balint_cme.certificates.verification import (
    METADATA_KEY,
    VerificationStatus,
    canonical_claims,
    verify_pdf,
)
from balint_cme.cli import main
from balint_cme.io.series_file import load_series
from balint_cme.ledger import Ledger
from balint_cme.workflow import verify_certificate_pdf
from tests.certificate_helpers import OTHER_KEY, award_for, page_text
from tests.command_helpers import REPORTS_2020, SERIES_2020, run


@dataclass(frozen=True)
class Issued:
    """A certify run: its folder, key, ledger, and the files it issued."""

    root: Path
    key: SigningKey
    ledger: Path
    files: dict[str, Path]
    """Certificate number → issued PDF."""
    manifest: list[dict[str, Any]]


@pytest.fixture(scope="module")
def genuine_batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    """The 2020 example certified in one batch: the genuine files every forgery starts from."""
    root = tmp_path_factory.mktemp("forgery")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BALINT_CME_LEDGER", str(root / "ledger.sqlite3"))
        patch.setenv("BALINT_CME_KEY_FILE", str(root / "keys" / "signing.key"))
        argv = ["certify", str(SERIES_2020), "--attendance", *map(str, REPORTS_2020)]
        argv += ["--out", str(root / "out"), "--issued-on", "2021-01-20", "--quiet"]
        assert main(argv) == 0
        listed = json.loads((root / "out" / "manifest.json").read_text(encoding="utf-8"))
        certificates = listed["certificates"]
        yield Issued(
            root=root,
            key=load_key(root / "keys" / "signing.key"),
            ledger=root / "ledger.sqlite3",
            files={c["number"]: root / "out" / c["file"] for c in certificates},
            manifest=certificates,
        )


@pytest.fixture(autouse=True)
def _no_default_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "Without the ledger" means none at all: not the per-user default of this machine."""
    monkeypatch.setenv("BALINT_CME_LEDGER", str(tmp_path / "no-ledger-here.sqlite3"))


def _zoe(issued: Issued) -> tuple[dict[str, Any], bytes]:
    """Zoë Ångström's genuine certificate (1.75 credits): its manifest entry and bytes."""
    entry = next(c for c in issued.manifest if c["name"] == "Zoë Ångström")
    return entry, issued.files[entry["number"]].read_bytes()


def _verify_cli(
    capsys: pytest.CaptureFixture[str], issued: Issued, data: bytes, *, ledger: bool
) -> tuple[int, str]:
    path = issued.root / "suspect.pdf"
    path.write_bytes(data)
    argv: list[str | Path] = ["verify", path, "--key-file", issued.root / "keys" / "signing.key"]
    if ledger:
        argv += ["--ledger", issued.ledger]
    capsys.readouterr()
    code, out, _ = run(capsys, *argv)
    return code, out


def _assert_rejected(capsys: pytest.CaptureFixture[str], issued: Issued, data: bytes) -> None:
    """Not valid with the ledger and without it: exit 1, "altered" (or "unknown")."""
    for ledger in (True, False):
        code, out = _verify_cli(capsys, issued, data, ledger=ledger)
        assert code == 1, (ledger, out)
        assert not out.startswith("valid"), out
    with Ledger.open(issued.ledger, create=False) as opened:
        result = verify_certificate_pdf(data, keys=issued.key, ledger=opened)
    assert result.status == VerificationStatus.ALTERED, result.problems
    assert result.problems  # says what differs


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _page_contents(writer: PdfWriter) -> StreamObject:
    contents = writer.pages[0]["/Contents"]
    stream = contents[0].get_object() if isinstance(contents, ArrayObject) else contents
    assert isinstance(stream, StreamObject)
    return stream


# -- (a) white boxes over name, credit and QR code, other text on top --------------------------


def test_overlay_white_boxes_with_another_name_and_credit_is_altered(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    _, genuine = _zoe(genuine_batch)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(genuine)))
    page = writer.pages[0]
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica-Bold"),
        }
    )
    resources: Any = page["/Resources"].get_object()
    resources["/Font"].get_object()[NameObject("/FForge")] = font
    overlay = DecodedStreamObject()
    overlay.set_data(
        b"q 1 1 1 rg 150 330 492 60 re f 150 240 492 40 re f 640 30 110 110 re f Q "
        b"BT /FForge 30 Tf 260 350 Td (Mallory Forger) Tj ET "
        b"BT /FForge 16 Tf 300 255 Td (9.75 AMA PRA Category 1 Credits) Tj ET"
    )
    original = page.raw_get("/Contents")
    page[NameObject("/Contents")] = ArrayObject([original, writer._add_object(overlay)])
    forged = _written(writer)
    # The forgery works on screen: the page shows the forged name and credit.
    assert "Mallory Forger" in page_text(forged)
    assert "9.75" in page_text(forged)
    _assert_rejected(capsys, genuine_batch, forged)


# -- (b) re-drawn as another person's 5.0-credit certificate, genuine page as a speck ----------


def test_redrawn_for_another_person_with_the_genuine_page_as_a_speck_is_altered(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    entry, genuine = _zoe(genuine_batch)
    series = load_series(SERIES_2020)
    # The forger's own key: the library's renderer, another person's full credit.
    other = build_certificate(
        series,
        award_for(series, "p01").model_copy(update={"name": "Mallory Forger"}),
        number=entry["number"],
        issued_on=date(2021, 1, 20),
        key=OTHER_KEY,
    )
    redrawn = PdfReader(io.BytesIO(render_pdf(other, key=OTHER_KEY)))
    writer = PdfWriter(clone_from=redrawn)
    speck = PdfReader(io.BytesIO(genuine)).pages[0]
    writer.pages[0].merge_transformed_page(speck, Transformation().scale(0.001).translate(5, 5))
    genuine_info = PdfReader(io.BytesIO(genuine)).metadata
    assert genuine_info is not None
    writer.add_metadata({str(k): str(v) for k, v in genuine_info.items()})
    forged = _written(writer)
    assert "Mallory Forger" in page_text(forged)
    assert "Zoë Ångström" in page_text(forged)  # the speck still carries the genuine text
    assert "5.0 AMA PRA" in page_text(forged)
    _assert_rejected(capsys, genuine_batch, forged)


# -- (c) a genuine number re-used for other claims, sealed with the real key -------------------


def test_number_reused_for_other_claims_with_the_key_is_altered_against_the_ledger(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    entry, _ = _zoe(genuine_batch)
    series = load_series(SERIES_2020)
    thief = build_certificate(
        series,
        award_for(series, "p01").model_copy(update={"name": "Mallory Forger"}),
        number=entry["number"],
        version=entry["version"],
        issued_on=date(2021, 1, 20),
        key=genuine_batch.key,
        verify_url_template=None,
    )
    forged = render_pdf(thief, key=genuine_batch.key)
    # With the key alone it cannot be told apart: the ledger is the second witness.
    assert verify_pdf(forged, genuine_batch.key).is_valid
    code, out = _verify_cli(capsys, genuine_batch, forged, ledger=True)
    assert code == 1
    assert out.startswith("altered: not the certificate issued under number")
    with Ledger.open(genuine_batch.ledger, create=False) as opened:
        result = verify_certificate_pdf(forged, keys=genuine_batch.key, ledger=opened)
    assert result.status == VerificationStatus.ALTERED
    assert "name" in result.altered
    # Without the ledger, the answer says revocation (and the ledger record) was not checked.
    code, out = _verify_cli(capsys, genuine_batch, forged, ledger=False)
    assert code == 4
    assert "revocation not checked" in out


# -- (c2) the genuine claims on a re-drawn page, re-sealed with the stolen key -----------------


def _resealed(genuine: bytes, writer: PdfWriter, key: SigningKey) -> bytes:
    """The page `writer` shows, with a page seal made with the real key for the genuine
    claims and code over the digest of that page: what a key thief can do."""
    sealed = verify_pdf(genuine, key)
    assert sealed.claims is not None
    assert sealed.code is not None
    digest = page_digest(PdfReader(io.BytesIO(_written(writer))))
    seal = compute_page_seal(key, sealed.code, canonical_claims(sealed.claims), digest)
    writer.add_metadata({PAGE_SEAL_KEY: seal})
    return _written(writer)


def test_page_redrawn_and_resealed_with_the_stolen_key_is_altered_against_the_ledger(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    _, genuine = _zoe(genuine_batch)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(genuine)))
    stream = _page_contents(writer)
    # Same claims, another page: every colour of the drawing turned red.
    drawn = stream.get_data()
    assert b" rg" in drawn
    stream.set_data(
        b"\n".join(b"1 0 0 rg" if line.endswith(b" rg") else line for line in drawn.split(b"\n"))
    )
    forged = _resealed(genuine, writer, genuine_batch.key)
    assert _page_contents_of(forged) != _page_contents_of(genuine)
    # The key alone cannot tell: the page seal holds for the genuine claims and code.
    offline = verify_pdf(forged, genuine_batch.key)
    assert offline.is_valid
    assert offline.page_sealed
    # The ledger recorded the page issued under this number: this one is not it.
    code, out = _verify_cli(capsys, genuine_batch, forged, ledger=True)
    assert code == 1, out
    assert out.startswith("altered: the page differs from the one issued under this number")
    with Ledger.open(genuine_batch.ledger, create=False) as opened:
        result = verify_certificate_pdf(forged, keys=genuine_batch.key, ledger=opened)
    assert result.status == VerificationStatus.ALTERED
    assert "the page differs from the one issued" in result.problems[0]


# -- (d) incremental updates: an annotation, a second page -------------------------------------


@pytest.mark.parametrize("change", ["annotation", "second page"])
def test_incremental_update_is_altered(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    _, genuine = _zoe(genuine_batch)
    writer = PdfWriter(io.BytesIO(genuine), incremental=True)
    if change == "annotation":
        note = FreeText(
            text="Credits corrected to 9.75", rect=(150, 200, 650, 240), font_size="20pt"
        )
        writer.add_annotation(page_number=0, annotation=note)
    else:
        writer.add_blank_page()
    forged = _written(writer)
    assert forged.startswith(genuine)  # the genuine bytes, with an update appended
    _assert_rejected(capsys, genuine_batch, forged)


def test_annotation_added_by_a_full_rewrite_is_altered(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    _, genuine = _zoe(genuine_batch)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(genuine)))
    note = FreeText(text="Credits corrected to 9.75", rect=(150, 200, 650, 240))
    writer.add_annotation(page_number=0, annotation=note)
    _assert_rejected(capsys, genuine_batch, _written(writer))


# -- (e) a swapped font program -------------------------------------------------------------


def test_changed_glyph_in_the_embedded_font_is_altered(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    _, genuine = _zoe(genuine_batch)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(genuine)))
    resources: Any = writer.pages[0]["/Resources"]
    fonts = resources["/Font"]
    descendant = next(iter(fonts.values())).get_object()
    program = descendant["/FontDescriptor"]["/FontFile2"].get_object()
    assert isinstance(program, StreamObject)
    data = bytearray(program.get_data())
    glyf = data.find(b"glyf")
    offset = int.from_bytes(data[glyf + 8 : glyf + 12], "big")
    data[offset + 40] ^= 0x10  # one outline point of a glyph moves
    program.set_data(bytes(data))
    forged = _written(writer)
    assert page_text(forged) == page_text(genuine)  # same text; another shape on screen
    _assert_rejected(capsys, genuine_batch, forged)


# -- (f) one byte of the page content ----------------------------------------------------------


def test_one_byte_changed_in_the_content_stream_is_altered(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    _, genuine = _zoe(genuine_batch)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(genuine)))
    stream = _page_contents(writer)
    operators = bytearray(stream.get_data())
    at = operators.index(b" re")  # the first rectangle of the border: one digit moves it
    operators[at - 1] = ord("9") if operators[at - 1] != ord("9") else ord("8")
    stream.set_data(bytes(operators))
    forged = _written(writer)
    changed = [
        a != b for a, b in zip(_page_contents_of(forged), _page_contents_of(genuine), strict=True)
    ]
    assert sum(changed) == 1
    _assert_rejected(capsys, genuine_batch, forged)


def _page_contents_of(pdf: bytes) -> bytes:
    contents = PdfReader(io.BytesIO(pdf)).pages[0].get_contents()
    assert contents is not None
    return contents.get_data()


# -- (g) the genuine file, and a copy re-saved by another program ------------------------------


def test_genuine_file_is_valid_and_exit_0_with_the_ledger_4_without(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    _, genuine = _zoe(genuine_batch)
    code, out = _verify_cli(capsys, genuine_batch, genuine, ledger=True)
    assert (code, out.splitlines()[0]) == (0, "valid")
    code, out = _verify_cli(capsys, genuine_batch, genuine, ledger=False)
    assert code == 4
    assert "revocation not checked" in out
    for path in genuine_batch.files.values():
        assert verify_pdf(path.read_bytes(), genuine_batch.key).page_sealed


def test_a_copy_re_saved_by_another_program_stays_valid_with_a_note(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    # Re-saving rewrites the file (other offsets, other bytes) but displays the same objects:
    # the page seal still proves it. The ledger notes that the bytes differ from the issued file.
    _, genuine = _zoe(genuine_batch)
    resaved = _written(PdfWriter(clone_from=PdfReader(io.BytesIO(genuine))))
    assert resaved != genuine
    code, out = _verify_cli(capsys, genuine_batch, resaved, ledger=True)
    assert code == 0, out
    assert "differ from the file recorded at issue" in out
    # The page (the object graph it displays) is the one the ledger recorded at issue.
    assert "the page is one the ledger recorded for this number" in out


def test_claims_record_copied_into_an_unrelated_pdf_is_altered(
    genuine_batch: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    _, genuine = _zoe(genuine_batch)
    info = PdfReader(io.BytesIO(genuine)).metadata
    assert info is not None
    writer = PdfWriter()
    writer.add_blank_page(792, 612)
    writer.add_metadata({str(k): str(v) for k, v in info.items()})
    forged = _written(writer)
    assert METADATA_KEY.encode() in forged
    _assert_rejected(capsys, genuine_batch, forged)


# -- bounded work: hostile structures are refused before any heavy work ----------------------


def _raw_pdf(objects: list[bytes], record: bytes) -> bytes:
    """A classic one-revision PDF of `objects` (object n is objects[n-1]) with the claims."""
    info = b"<< /BalintCmeCertificate (" + record + b") >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate([*objects, info], start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(offsets) + 1, len(offsets))
    return bytes(out + b"startxref\n%d\n%%%%EOF\n" % xref)


def _hostile(kind: str, record: bytes) -> bytes:
    empty = b"<< /Length 0 >>\nstream\n\nendstream"
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources 5 0 R >>"
    )
    one_page = [catalog, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, empty]
    if kind == "ten pages sharing one Flate stream":
        shared = zlib.compress(b"BT /F1 1 Tf 0 0 Td (A) Tj ET\n" * 200_000, 9)
        kids = b" ".join(b"%d 0 R" % n for n in range(4, 14))
        stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(shared) + shared
        ten = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"
        pages = b"<< /Type /Pages /Kids [" + kids + b"] /Count 10 >>"
        return _raw_pdf([catalog, pages, stream + b"\nendstream", *[ten] * 10], record)
    if kind == "more objects than a certificate has":
        chain = [b"<< /Next %d 0 R >>" % (n + 1) for n in range(5, 2_104)] + [b"<< >>"]
        return _raw_pdf([*one_page, *chain], record)
    if kind == "a huge dictionary":
        huge = b"<< " + b" ".join(b"/K%d %d" % (n, n) for n in range(40_000)) + b" >>"
        return _raw_pdf([*one_page, huge], record)
    if kind == "deep nesting":
        return _raw_pdf([*one_page, b"[" * 5_000 + b"]" * 5_000], record)
    assert kind == "JavaScript on opening"
    script = b"<< /S /JavaScript /JS (app.alert('valid')) >>"
    return _raw_pdf(
        [catalog.replace(b">>", b"/OpenAction 6 0 R >>"), *one_page[1:], b"<< >>", script], record
    )


@pytest.mark.parametrize(
    "kind",
    [
        "ten pages sharing one Flate stream",
        "more objects than a certificate has",
        "a huge dictionary",
        "deep nesting",
        "JavaScript on opening",
    ],
)
def test_hostile_structures_are_refused_before_heavy_work(genuine_batch: Issued, kind: str) -> None:
    _, genuine = _zoe(genuine_batch)
    info = PdfReader(io.BytesIO(genuine)).metadata
    assert info is not None
    record = str(info[METADATA_KEY]).encode("ascii")
    result = verify_pdf(_hostile(kind, record), genuine_batch.key)
    assert result.status == VerificationStatus.ALTERED, result.problems
    assert result.problems[0].startswith("not the file as issued: ")


# -- any change to a stream a viewer draws -----------------------------------------------------


@given(data=st.data())
def test_any_byte_changed_in_a_drawn_stream_is_never_valid(
    genuine_batch: Issued, data: st.DataObject
) -> None:
    # Same length, so every offset stays right: the page content or the font program changes.
    _, genuine = _zoe(genuine_batch)
    page: Any = PdfReader(io.BytesIO(genuine)).pages[0]
    contents = page["/Contents"].get_object()  # as stored (compressed), not decoded
    program = next(iter(page["/Resources"]["/Font"].values())).get_object()
    raws = [contents._data, program["/FontDescriptor"]["/FontFile2"].get_object()._data]
    raw = data.draw(st.sampled_from(raws), label="stream")
    start = genuine.index(raw)
    at = start + data.draw(st.integers(0, len(raw) - 1), label="offset")
    flip = data.draw(st.integers(1, 255), label="xor")
    mutated = bytearray(genuine)
    mutated[at] ^= flip
    assert not verify_pdf(bytes(mutated), genuine_batch.key).is_valid
