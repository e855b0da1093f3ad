"""PDF/A-3b structure of certificates, read back with pikepdf (no PDF/A validator runs here):
XMP equal to the document information, the sRGB output intent, embedded fonts with unique
subset tags, /Lang, DisplayDocTitle, the header, the trailer ID, the claims as an associated
JSON file that a machine reads without balint_cme, and `qpdf --check`."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ImageCms

from balint_cme import Series
from balint_cme.certificates.archive import ATTACHMENT_NAME, XMP_NAMESPACE, srgb_profile
from balint_cme.certificates.batch import render_batch
from balint_cme.certificates.content import Certificate
from balint_cme.certificates.pdf import render_pages, render_pdf
from balint_cme.certificates.verification import (
    CLAIMS_FORMAT,
    CertificateClaims,
    verify_code,
    verify_pdf,
)
from tests.certificate_helpers import TEST_KEY, certificate_for, renamed

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS = {
    "rdf": RDF,
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
}
# Namespaces whose properties PDF/A-3 knows without an extension schema (those used here).
PREDEFINED = {
    NS["dc"],
    NS["xmp"],
    NS["pdf"],
    NS["pdfaid"],
    "http://www.aiim.org/pdfa/ns/extension/",
}
STANDARD_14 = re.compile(r"Helvetica|Times|Courier|Symbol|ZapfDingbats")
needs_qpdf = pytest.mark.skipif(
    shutil.which("qpdf") is None, reason="qpdf is not installed (Debian package qpdf)"
)


@pytest.fixture(scope="module")
def certificate(series_2020: Series) -> Certificate:
    return certificate_for(series_2020)


@pytest.fixture(scope="module")
def pdf(certificate: Certificate) -> bytes:
    return render_pdf(certificate)


@pytest.fixture(scope="module")
def merged(series_2020: Series, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("merged")
    people = ("p01", "p02", "p03")
    certificates = [certificate_for(series_2020, people[i % 3], number=f"M-{i}") for i in range(7)]
    render_batch(certificates, folder, workers=1, merged=True, chunk_size=3)
    return (folder / "certificates.pdf").read_bytes()


def _open(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def _xmp(document: pikepdf.Pdf) -> ET.Element:
    metadata = document.Root.Metadata
    assert metadata.Type == "/Metadata"
    assert metadata.Subtype == "/XML"
    return ET.fromstring(metadata.read_bytes())


def _one(root: ET.Element, path: str) -> str:
    found = root.findall(f".//rdf:Description/{path}", NS)
    assert len(found) == 1, path
    return "".join(found[0].itertext()).strip()


def _xmp_date_as_pdf(value: str) -> str:
    # 2021-01-20T00:00:00+00:00 -> D:20210120000000+00'00'
    match = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)([+-]\d\d):(\d\d)", value)
    assert match, value
    *parts, hours, minutes = match.groups()
    return "D:" + "".join(parts) + f"{hours}'{minutes}'"


def _assert_xmp_matches_info(document: pikepdf.Pdf) -> ET.Element:
    info = document.trailer.Info
    root = _xmp(document)
    assert _one(root, "dc:title/rdf:Alt/rdf:li") == str(info.Title)
    assert _one(root, "dc:creator/rdf:Seq/rdf:li") == str(info.Author)
    assert _one(root, "dc:description/rdf:Alt/rdf:li") == str(info.Subject)
    assert _one(root, "xmp:CreatorTool") == str(info.Creator)
    assert _one(root, "pdf:Producer") == str(info.Producer)
    assert _xmp_date_as_pdf(_one(root, "xmp:CreateDate")) == str(info.CreationDate)
    assert _xmp_date_as_pdf(_one(root, "xmp:ModifyDate")) == str(info.ModDate)
    assert _one(root, "pdfaid:part") == "3"
    assert _one(root, "pdfaid:conformance") == "B"
    return root


def _assert_extension_schemas_declare_every_other_property(root: ET.Element) -> None:
    declared: set[tuple[str, str]] = set()
    for schema in root.iter(f"{{{RDF}}}li"):
        uri = schema.find("pdfaSchema:namespaceURI", NS)
        if uri is None:
            continue
        for name in schema.findall(".//pdfaProperty:name", NS):
            declared.add((uri.text or "", name.text or ""))
    used: set[tuple[str, str]] = set()
    for description in root.findall(".//rdf:RDF/rdf:Description", NS):
        for element in description:
            namespace, local = element.tag[1:].split("}")
            if namespace not in PREDEFINED:
                used.add((namespace, local))
    assert used <= declared, used - declared


def _assert_archival_document_level(data: bytes) -> pikepdf.Pdf:
    assert data.startswith(b"%PDF-1.7\n%")
    second_line = data.split(b"\n")[1]
    assert all(byte > 127 for byte in second_line[1:5])  # the binary comment
    document = _open(data)
    assert document.Root.Lang == "en-US"
    assert bool(document.Root.ViewerPreferences.DisplayDocTitle)
    assert b"/DisplayDocTitle true" in data
    assert "/Encrypt" not in document.trailer
    first, second = document.trailer.ID
    assert len(bytes(first)) == 16
    assert bytes(first) == bytes(second)  # an original, never updated
    intents = document.Root.OutputIntents
    assert len(intents) == 1
    intent = intents[0]
    assert intent.Type == "/OutputIntent"
    assert intent.S == "/GTS_PDFA1"
    assert str(intent.OutputConditionIdentifier) == "sRGB IEC61966-2.1"
    profile_stream = intent.DestOutputProfile
    assert profile_stream.N == 3
    profile = profile_stream.read_bytes()
    assert profile[36:40] == b"acsp"
    assert profile[16:20] == b"RGB "
    assert profile[8] < 5  # PDF/A-3 accepts ICC profiles up to version 4
    parsed = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    assert "sRGB" in str(parsed.profile.profile_description)
    return document


def _fonts(document: pikepdf.Pdf) -> dict[tuple[int, int], Any]:
    fonts: dict[tuple[int, int], Any] = {}
    for page in document.pages:
        for font in page.Resources.Font.values():
            fonts[font.objgen] = font
    return fonts


def _assert_fonts_embedded_with_unique_tags(document: pikepdf.Pdf) -> None:
    fonts = _fonts(document)
    assert fonts
    tags: dict[str, bytes] = {}
    for font in fonts.values():
        assert font.Subtype == "/TrueType"
        base = str(font.BaseFont)[1:]
        assert not STANDARD_14.search(base), base
        descriptor = font.FontDescriptor
        assert str(descriptor.FontName) == str(font.BaseFont)
        program = descriptor.FontFile2.read_bytes()
        tag, _, _ = base.partition("+")
        assert re.fullmatch(r"[A-Z]{6}", tag), base
        assert tag not in tags, f"subset tag {tag} used twice"
        tags[tag] = program


def _assert_qpdf_check(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "check.pdf"
    path.write_bytes(data)
    result = subprocess.run(
        ["qpdf", "--check", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout


# ---------------------------------------------------------------------------------------------
# One certificate


def test_xmp_repeats_the_document_information_and_declares_pdfa_3b(pdf: bytes) -> None:
    document = _assert_archival_document_level(pdf)
    root = _assert_xmp_matches_info(document)
    assert _one(root, "dc:creator/rdf:Seq/rdf:li") == "Fresno Madera Medical Society"
    assert _one(root, "dc:format") == "application/pdf"


def test_xmp_carries_the_number_with_its_extension_schema(pdf: bytes) -> None:
    root = _xmp(_open(pdf))
    assert root.findtext(f".//{{{XMP_NAMESPACE}}}CertificateNumber") == "FMMS-2020-0002"
    assert root.findtext(f".//{{{XMP_NAMESPACE}}}ClaimsFormat") == CLAIMS_FORMAT
    assert root.findtext(f".//{{{XMP_NAMESPACE}}}ClaimsFile") == ATTACHMENT_NAME
    _assert_extension_schemas_declare_every_other_property(root)


def test_markup_in_a_name_stays_text_in_the_xmp(series_2020: Series) -> None:
    hostile = 'Ana <x:y> & "Bo" </rdf:li>'
    document = _open(render_pdf(certificate_for(renamed(series_2020, hostile))))
    root = _assert_xmp_matches_info(document)
    assert hostile in _one(root, "dc:title/rdf:Alt/rdf:li")


def test_every_font_is_embedded_with_its_own_subset_tag(pdf: bytes) -> None:
    _assert_fonts_embedded_with_unique_tags(_open(pdf))
    assert b"AAAAAA+" not in pdf


_NAMES = st.text(
    alphabet=st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "äöüßàéèçñøåæœłśźżğışăâîțșđơưễệ αβγδεζηθΑΒΓΔάέήабвгдежзАБВГДЁ<>&'\"-.()\\"
    ),
    min_size=1,
    max_size=80,
).filter(lambda s: s.strip() != "")


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_NAMES, issued_on=st.dates(min_value=date(2021, 1, 14), max_value=date(2099, 12, 31)))
def test_any_certificate_is_archival_and_repeatable(
    series_2020: Series, name: str, issued_on: date
) -> None:
    certificate = certificate_for(renamed(series_2020, name)).evolve(issued_on=issued_on)
    data = render_pdf(certificate)
    assert render_pdf(certificate) == data
    document = _assert_archival_document_level(data)
    _assert_xmp_matches_info(document)
    _assert_fonts_embedded_with_unique_tags(document)


def test_equal_certificates_give_equal_bytes_in_another_process(pdf: bytes) -> None:
    # The ICC profile is generated at run time; its creation date must not be "now".
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from balint_cme.io.series_file import load_series\n"
        "from balint_cme.certificates.pdf import render_pdf\n"
        "from tests.certificate_helpers import certificate_for\n"
        "from tests.conftest import EXAMPLES\n"
        "series = load_series(EXAMPLES / 'ssvms-balint-2020.toml')\n"
        "sys.stdout.buffer.write(render_pdf(certificate_for(series)))\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, cwd=root, check=True
    )
    assert result.stdout == pdf


def test_srgb_profile_has_a_fixed_date() -> None:
    assert srgb_profile()[24:36] == bytes.fromhex("07d0 0001 0001 0000 0000 0000")


def test_claims_are_an_associated_json_file(pdf: bytes) -> None:
    document = _open(pdf)
    assert list(document.attachments) == [ATTACHMENT_NAME]
    spec = document.attachments[ATTACHMENT_NAME]
    assert spec.obj.AFRelationship == "/Data"
    assert str(spec.obj.F) == str(spec.obj.UF) == ATTACHMENT_NAME
    associated = document.Root.AF
    assert len(associated) == 1
    assert associated[0].objgen == spec.obj.objgen
    stream = spec.obj.EF.F
    data = stream.read_bytes()
    assert stream.Subtype == "/application/json"
    assert stream.Params.Size == len(data)
    assert str(stream.Params.ModDate) == "D:20210120000000+00'00'"
    assert bytes(stream.Params.CheckSum) == hashlib.md5(data).digest()
    record = json.loads(data)
    assert record["format"] == CLAIMS_FORMAT
    assert set(record) == {"format", "claims", "seal"}
    assert json.loads(str(document.trailer.Info.BalintCmeCertificate)) == record


def test_a_machine_checks_the_attached_claims_without_the_pdf_code(
    pdf: bytes, certificate: Certificate
) -> None:
    """Read with pikepdf only, then check the seal: the claims are the certificate's."""
    document = _open(pdf)  # kept referenced: pikepdf objects must not outlive their Pdf
    record: dict[str, Any] = json.loads(
        document.attachments[ATTACHMENT_NAME].get_file().read_bytes()
    )
    claims = CertificateClaims.model_validate(record["claims"])
    assert claims == certificate.claims
    assert verify_code(record["seal"]["code"], claims, TEST_KEY).is_valid
    forged = claims.model_copy(update={"credits": claims.designated_maximum})
    assert verify_code(record["seal"]["code"], forged, TEST_KEY).status == "altered"


@needs_qpdf
def test_qpdf_finds_no_errors(pdf: bytes, tmp_path: Path) -> None:
    _assert_qpdf_check(tmp_path, pdf)


# ---------------------------------------------------------------------------------------------
# Many certificates in one file


def test_render_pages_is_archival_without_attachments(series_2020: Series) -> None:
    data = render_pages([certificate_for(series_2020), certificate_for(series_2020, "p03")])
    document = _assert_archival_document_level(data)
    _assert_xmp_matches_info(document)
    _assert_fonts_embedded_with_unique_tags(document)
    assert "/AF" not in document.Root
    assert not document.attachments


def test_merged_pdf_is_archival_with_one_document_level(merged: bytes) -> None:
    document = _assert_archival_document_level(merged)
    root = _assert_xmp_matches_info(document)
    assert _one(root, "dc:title/rdf:Alt/rdf:li") == "7 certificates: 2020 Balint Group"
    assert len(document.pages) == 7
    # Only the merged file's own XMP packet and profile: no orphans copied from the chunks.
    assert merged.count(b"/Type /Metadata") == 1
    assert merged.count(b"/N 3") == 1


def test_merged_pdf_has_unique_subset_tags_across_chunks(merged: bytes) -> None:
    document = _open(merged)
    assert len(_fonts(document)) > 3  # each chunk embeds its own subsets
    _assert_fonts_embedded_with_unique_tags(document)


@needs_qpdf
def test_qpdf_finds_no_errors_in_the_merged_pdf(merged: bytes, tmp_path: Path) -> None:
    _assert_qpdf_check(tmp_path, merged)


def test_merged_info_with_non_latin_provider_matches_the_xmp(
    series_2020: Series, tmp_path: Path
) -> None:
    provider = series_2020.provider.evolve(accredited="Société médicale (Fresno) \\ Ωmega")
    series = series_2020.evolve(provider=provider)
    render_batch(
        [certificate_for(series, number=f"Q-{i}") for i in range(2)],
        tmp_path,
        workers=1,
        merged=True,
        chunk_size=1,
    )
    document = _open((tmp_path / "certificates.pdf").read_bytes())
    _assert_xmp_matches_info(document)
    assert str(document.trailer.Info.Author) == "Société médicale (Fresno) \\ Ωmega"


# ---------------------------------------------------------------------------------------------
# With the page seal


def test_a_sealed_certificate_is_archival_and_valid(certificate: Certificate) -> None:
    data = render_pdf(certificate, key=TEST_KEY)
    document = _assert_archival_document_level(data)
    _assert_xmp_matches_info(document)
    _assert_fonts_embedded_with_unique_tags(document)
    assert verify_pdf(data, TEST_KEY).is_valid


def test_an_edited_claims_attachment_is_never_valid(certificate: Certificate) -> None:
    """An attacker rewrites the embedded JSON to claim the maximum credit: verify refuses.

    (The page seal covers the attachment; a pikepdf re-save alone is also "altered", so this
    shows the forgery is refused, not which part of the seal caught it.)"""
    document = _open(render_pdf(certificate, key=TEST_KEY))
    stream = document.attachments[ATTACHMENT_NAME].obj.EF.F
    record = json.loads(stream.read_bytes())
    record["claims"]["credits"] = record["claims"]["designated_maximum"]
    forged = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    stream.write(forged)
    stream.Params.Size = len(forged)
    output = io.BytesIO()
    document.save(output)
    assert verify_pdf(output.getvalue(), TEST_KEY).status == "altered"
