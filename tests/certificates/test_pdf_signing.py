"""PDF signatures (PAdES) on certificates, tested as an attacker would: sign and verify; flip a
byte anywhere in the signed ranges; add an incremental update (an annotation, a new title, a
visible signature); re-sign a doctored or a genuine file with another certificate; B-T with a
test timestamp authority; and the file stays PDF/A-3b (qpdf --check, XMP equal to /Info)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import FreeText

from balint_cme import Series
from balint_cme.certificates.batch import render_batch
from balint_cme.certificates.keys import KeyRing
from balint_cme.certificates.page_seal import inspect_certificate_pdf
from balint_cme.certificates.pdf import render_pdf
from balint_cme.certificates.signing import (
    SigningIdentity,
    create_signing_certificate,
    load_certificates,
    load_signing_identity,
    prepare_signature,
    sign_pdf,
)
from balint_cme.certificates.verification import VerificationStatus, seal_page, verify_pdf
from balint_cme.errors import DataFileError, VerificationError
from tests.certificate_helpers import TEST_KEY, certificate_for

needs_qpdf = pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")
ORGANIZATION = "Fictional Medical Society"


@pytest.fixture(scope="module")
def society(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("society")
    key, cert = folder / "pdf-signing-key.pem", folder / "pdf-signing-cert.pem"
    create_signing_certificate(key, cert, organization=ORGANIZATION, country="US")
    return key, cert


@pytest.fixture(scope="module")
def identity(society: tuple[Path, Path]) -> SigningIdentity:
    return load_signing_identity(*society)


@pytest.fixture(scope="module")
def ring(society: tuple[Path, Path]) -> KeyRing:
    return KeyRing([TEST_KEY], signing_certificates=load_certificates([society[1]]))


@pytest.fixture(scope="module")
def unsigned(series_2020: Series) -> tuple[bytes, bytes]:
    """A sealed certificate and its page digest, as certify draws it."""
    certificate = certificate_for(series_2020)
    data = render_pdf(certificate)
    digest = inspect_certificate_pdf(data).digest
    return seal_page(data, certificate.claims, certificate.seal, TEST_KEY, digest=digest), digest


@pytest.fixture(scope="module")
def signed(unsigned: tuple[bytes, bytes], identity: SigningIdentity) -> bytes:
    return sign_pdf(identity, unsigned[0])


def _other_identity(tmp_path: Path, organization: str = ORGANIZATION) -> SigningIdentity:
    key, cert = tmp_path / "other-key.pem", tmp_path / "other-cert.pem"
    create_signing_certificate(key, cert, organization=organization)
    return load_signing_identity(key, cert)


def _first_revision(data: bytes) -> bytes:
    end = data.index(b"%%EOF") + len(b"%%EOF")
    while data[end : end + 1] in (b"\r", b"\n"):
        end += 1
    return data[:end]


def _signed_ranges(data: bytes) -> list[tuple[int, int]]:
    reader = PdfReader(io.BytesIO(data))
    root: Any = reader.trailer["/Root"]
    field = root["/AcroForm"]["/Fields"][0].get_object()
    a, b, c, d = (int(x) for x in field["/V"]["/ByteRange"])
    return [(a, a + b), (c, c + d)]


# -- signing and verifying --------------------------------------------------------------------


def test_a_signed_certificate_is_valid_and_names_the_society(
    signed: bytes, ring: KeyRing, society: tuple[Path, Path]
) -> None:
    result = verify_pdf(signed, ring)
    assert result.status == VerificationStatus.VALID, result.problems
    assert result.page_sealed
    assert result.signature is not None
    assert result.signature.society
    assert result.signature.level == "B-B"
    assert "CN=Fictional Medical Society" in result.signature.signer
    fingerprint = hashlib.sha256(load_certificates([society[1]])[0]).hexdigest()
    assert result.signature.signer_sha256 == fingerprint
    assert result.signature.signed_at is not None


def test_signing_keeps_the_page_digest_recorded_at_issue(
    signed: bytes, unsigned: tuple[bytes, bytes]
) -> None:
    inspected = inspect_certificate_pdf(signed)
    assert inspected.signed
    assert inspected.digest == unsigned[1]
    assert signed.startswith(unsigned[0])  # an incremental update: the drawn file is kept whole


def test_unsigned_certificates_keep_verifying_without_a_signature(
    unsigned: tuple[bytes, bytes], ring: KeyRing
) -> None:
    result = verify_pdf(unsigned[0], ring)
    assert result.status == VerificationStatus.VALID
    assert result.signature is None


def test_without_the_society_certificate_the_signer_is_reported_not_trusted(
    signed: bytes,
) -> None:
    result = verify_pdf(signed, TEST_KEY)
    assert result.status == VerificationStatus.VALID
    assert result.signature is not None
    assert not result.signature.society
    assert any("not checked against the society" in note for note in result.notes)


# -- an attacker's changes --------------------------------------------------------------------


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(min_value=0, max_value=1, exclude_max=True), xor=st.integers(1, 255))
def test_any_byte_changed_in_the_signed_ranges_is_never_valid(
    signed: bytes, ring: KeyRing, where: float, xor: int
) -> None:
    ranges = _signed_ranges(signed)
    total = sum(end - start for start, end in ranges)
    offset = int(where * total)
    for start, end in ranges:
        if offset < end - start:
            position = start + offset
            break
        offset -= end - start
    tampered = bytearray(signed)
    tampered[position] ^= xor
    assert verify_pdf(bytes(tampered), ring).status != VerificationStatus.VALID


def _position(signed: bytes, where: str) -> int:
    if where == "signing time":
        return signed.rindex(b"/M (D") + 12  # a digit of the year
    if where == "update trailer id":
        return signed.rindex(b"/ID [ <") + 45  # a hex digit of the update's own ID
    return signed.index(b"\n%") + 3  # a byte of the binary comment after the header


@pytest.mark.parametrize("where", ["signing time", "update trailer id", "header comment"])
def test_a_byte_the_page_digest_ignores_is_caught_by_the_signature(
    signed: bytes, ring: KeyRing, unsigned: tuple[bytes, bytes], where: str
) -> None:
    # These bytes change nothing a viewer shows (the page digest stays), so only the
    # signature can tell.
    position = _position(signed, where)
    tampered = bytearray(signed)
    # A digit (of a date or of hexadecimal) stays a digit; a comment byte is just changed.
    tampered[position] = (
        (ord("1") if tampered[position] == ord("0") else ord("0"))
        if chr(tampered[position]) in "0123456789abcdefABCDEF"
        else tampered[position] ^ 1
    )
    assert inspect_certificate_pdf(bytes(tampered)).digest == unsigned[1]
    result = verify_pdf(bytes(tampered), ring)
    assert result.status == VerificationStatus.ALTERED, result
    assert any("signature" in problem for problem in result.problems)


def test_an_annotation_added_in_an_incremental_update_is_altered(
    signed: bytes, ring: KeyRing
) -> None:
    writer = PdfWriter(io.BytesIO(signed), incremental=True)
    writer.add_annotation(0, FreeText(text="7.00 credits", rect=(50, 50, 200, 80)))
    buffer = io.BytesIO()
    writer.write(buffer)
    assert buffer.getvalue().startswith(signed)
    result = verify_pdf(buffer.getvalue(), ring)
    assert result.status == VerificationStatus.ALTERED


def test_a_title_changed_in_an_incremental_update_by_pyhanko_is_altered(
    signed: bytes, ring: KeyRing
) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.document_meta.title = "Certificate of credit: 20 credits"
    writer.update_root()  # type: ignore[no-untyped-call]  # else pyHanko writes no update
    buffer = io.BytesIO()
    writer.write(buffer)  # type: ignore[no-untyped-call]
    result = verify_pdf(buffer.getvalue(), ring)
    assert result.status == VerificationStatus.ALTERED


def test_a_second_signature_after_the_first_is_altered(
    signed: bytes, ring: KeyRing, identity: SigningIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    # pyHanko itself refuses to sign after a "no changes" certification; another tool would not.
    monkeypatch.setattr(signers.PdfSigner, "_enforce_certification_constraints", lambda *_: None)
    twice = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(signed)),
        signers.PdfSignatureMetadata(field_name="Second"),
        signer=identity._signer,
    ).getvalue()
    assert verify_pdf(twice, ring).status == VerificationStatus.ALTERED
    del fields


def _pyhanko_sign(
    data: bytes, identity: SigningIdentity, box: tuple[int, int, int, int] | None
) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    return bytes(
        signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(data)),
            signers.PdfSignatureMetadata(
                field_name="Signature", subfilter=fields.SigSeedSubFilter.PADES
            ),
            signer=identity._signer,
            new_field_spec=fields.SigFieldSpec("Signature", box=box),
        ).getvalue()
    )


def test_a_visible_signature_widget_is_altered(
    unsigned: tuple[bytes, bytes], ring: KeyRing, identity: SigningIdentity
) -> None:
    # The society's own key, but a widget that draws on the page: not the certificate issued.
    stamped = _pyhanko_sign(unsigned[0], identity, (40, 40, 240, 90))
    result = verify_pdf(stamped, ring)
    assert result.status == VerificationStatus.ALTERED
    assert any("visible" in problem for problem in result.problems), result.problems


def test_a_doctored_certificate_re_signed_with_another_certificate_is_not_valid(
    signed: bytes, ring: KeyRing, tmp_path: Path
) -> None:
    original = _first_revision(signed)
    doctored = original.replace(b"/Title (", b"/Title (X", 1)
    assert doctored != original
    forged = sign_pdf(_other_identity(tmp_path), doctored)
    assert verify_pdf(forged, ring).status != VerificationStatus.VALID
    assert verify_pdf(forged, TEST_KEY).status != VerificationStatus.VALID


def test_a_genuine_page_re_signed_by_someone_else_is_not_the_societys(
    signed: bytes, ring: KeyRing, tmp_path: Path
) -> None:
    # Same organization name, another key: the certificate is pinned, not its name.
    forged = sign_pdf(_other_identity(tmp_path), _first_revision(signed))
    result = verify_pdf(forged, ring)
    assert result.status == VerificationStatus.WRONG_KEY
    assert result.signature is not None
    assert not result.signature.society
    assert "not the society's signing certificate" in result.problems[0]


def test_a_signature_only_in_a_second_update_does_not_pass_as_the_first(
    unsigned: tuple[bytes, bytes], ring: KeyRing, identity: SigningIdentity
) -> None:
    # An unsigned update first (an annotation), then a genuine signature over it.
    writer = PdfWriter(io.BytesIO(unsigned[0]), incremental=True)
    writer.add_annotation(0, FreeText(text="void", rect=(50, 50, 200, 80)))
    buffer = io.BytesIO()
    writer.write(buffer)
    assert (
        verify_pdf(sign_pdf(identity, buffer.getvalue()), ring).status != VerificationStatus.VALID
    )


# -- B-T: a timestamp from a test authority ---------------------------------------------------


def _test_timestamper(folder: Path) -> object:
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Timestamp Authority")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        ),
    )


def test_b_t_carries_a_timestamp_that_verify_shows(
    society: tuple[Path, Path], unsigned: tuple[bytes, bytes], ring: KeyRing, tmp_path: Path
) -> None:
    identity = load_signing_identity(*society)
    identity.use_timestamper(_test_timestamper(tmp_path))
    assert identity.level == "B-T"
    result = verify_pdf(sign_pdf(identity, unsigned[0]), ring)
    assert result.status == VerificationStatus.VALID, result.problems
    assert result.signature is not None
    assert result.signature.level == "B-T"
    assert result.signature.timestamped_at is not None
    assert abs(result.signature.timestamped_at - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)
    assert result.signature.timestamp_authority == "CN=Test Timestamp Authority"
    assert not result.signature.timestamp_trusted  # a test authority chains to no known root


# -- the file stays archival and looks the same -----------------------------------------------


def test_signing_leaves_the_metadata_and_the_version_as_drawn(
    signed: bytes, unsigned: tuple[bytes, bytes]
) -> None:
    with pikepdf.open(io.BytesIO(signed)) as after, pikepdf.open(io.BytesIO(unsigned[0])) as before:
        assert after.Root.Metadata.read_raw_bytes() == before.Root.Metadata.read_raw_bytes()
        assert dict(after.docinfo.items()) == dict(before.docinfo.items())
        assert "/Version" not in after.Root
        assert after.pdf_version == "1.7"
        annotations = [a for a in after.pages[0].Annots if a.get("/Subtype") == "/Widget"]
        assert len(annotations) == 1
        assert [float(v) for v in annotations[0].Rect] == [0, 0, 0, 0]
        assert int(annotations[0].F) & 4  # printable, as PDF/A requires of annotations
        assert set(after.Root.Perms.keys()) == {"/DocMDP"}  # certified: no changes allowed
        reference = after.Root.AcroForm.Fields[0].V.Reference[0]
        assert reference.TransformParams.P == 1
        # PDF/A-2 and -3 forbid these in a DocMDP signature reference.
        assert not {"/DigestLocation", "/DigestMethod", "/DigestValue"} & set(reference.keys())
        assert after.Root.AcroForm.Fields[0].V.SubFilter == "/ETSI.CAdES.detached"


@needs_qpdf
def test_qpdf_finds_no_errors_in_a_signed_certificate(signed: bytes, tmp_path: Path) -> None:
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    checked = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors" in checked.stdout


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm is not installed")
def test_the_signed_page_renders_exactly_as_the_unsigned_one(
    signed: bytes, unsigned: tuple[bytes, bytes], tmp_path: Path
) -> None:
    pictures = []
    for name, data in (("unsigned", unsigned[0]), ("signed", signed)):
        (tmp_path / f"{name}.pdf").write_bytes(data)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "50",
                "-png",
                "-singlefile",
                str(tmp_path / f"{name}.pdf"),
                str(tmp_path / name),
            ],
            check=True,
        )
        pictures.append((tmp_path / f"{name}.png").read_bytes())
    assert pictures[0] == pictures[1]


# -- batches, workers and key files -----------------------------------------------------------


def test_render_batch_signs_in_the_parent_and_prepares_in_workers(
    series_2020: Series, identity: SigningIdentity, ring: KeyRing, tmp_path: Path
) -> None:
    certificates = [
        certificate_for(series_2020, p, number=f"FMMS-2020-{i:04d}")
        for i, p in enumerate(("p01", "p02", "p03"), start=1)
    ]
    files = render_batch(
        certificates, tmp_path, workers=2, chunk_size=1, key=TEST_KEY, signer=identity
    )
    for file in files:
        data = file.path.read_bytes()
        result = verify_pdf(data, ring)
        assert result.status == VerificationStatus.VALID, result.problems
        assert file.signed
        assert file.page_digest == inspect_certificate_pdf(data).digest.hex()
        assert file.sha256 == hashlib.sha256(data).hexdigest()


def test_a_signing_identity_never_pickles(identity: SigningIdentity) -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(identity)
    pickle.dumps(identity.plan)  # the public part goes to workers


def test_a_key_file_others_can_read_is_refused(society: tuple[Path, Path], tmp_path: Path) -> None:
    loose = tmp_path / "loose.pem"
    loose.write_bytes(society[0].read_bytes())
    os.chmod(loose, 0o644)
    with pytest.raises(VerificationError, match="chmod 600"):
        load_signing_identity(loose, society[1])


def test_a_certificate_of_another_key_is_refused(
    society: tuple[Path, Path], tmp_path: Path
) -> None:
    other_key, other_cert = tmp_path / "k.pem", tmp_path / "c.pem"
    create_signing_certificate(other_key, other_cert, organization="Someone Else")
    with pytest.raises(VerificationError, match="does not belong"):
        load_signing_identity(society[0], other_cert)


def test_an_expired_certificate_is_refused_before_anything_is_signed(
    society: tuple[Path, Path],
) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 11)
    with pytest.raises(VerificationError, match="valid from"):
        load_signing_identity(*society, now=later)


def test_files_are_never_overwritten(society: tuple[Path, Path]) -> None:
    before = society[0].read_bytes()
    with pytest.raises(VerificationError, match="never overwritten"):
        create_signing_certificate(*society, organization="Another")
    assert society[0].read_bytes() == before
    assert os.stat(society[0]).st_mode & 0o077 == 0


def test_a_pkcs12_file_with_a_passphrase_signs(
    unsigned: tuple[bytes, bytes], ring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    bundle = tmp_path / "society.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"society", key, certificate, None, BestAvailableEncryption(b"correct horse")
        )
    )
    os.chmod(bundle, 0o600)
    with pytest.raises(DataFileError, match="passphrase"):
        load_signing_identity(bundle)
    monkeypatch.setenv("BALINT_CME_SIGNING_PASSPHRASE", "correct horse")
    identity = load_signing_identity(bundle)
    society = KeyRing([TEST_KEY], signing_certificates=[certificate.public_bytes(Encoding.DER)])
    result = verify_pdf(sign_pdf(identity, unsigned[0]), society)
    assert result.status == VerificationStatus.VALID, result.problems
    assert verify_pdf(sign_pdf(identity, unsigned[0]), ring).status == VerificationStatus.WRONG_KEY


def test_the_worker_half_needs_no_key(
    identity: SigningIdentity, unsigned: tuple[bytes, bytes]
) -> None:
    prepared = prepare_signature(identity.plan, unsigned[0])
    assert prepared.data[prepared.start : prepared.start + 1] == b"<"
    assert set(prepared.data[prepared.start + 1 : prepared.end - 1]) == {ord("0")}


def test_an_ecdsa_key_signs_and_the_file_stays_pdf_1_7(
    unsigned: tuple[bytes, bytes], tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path = tmp_path / "ec.pem"
    key_path.write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        + certificate.public_bytes(Encoding.PEM)  # key and certificate in one PEM file
    )
    os.chmod(key_path, 0o600)
    identity = load_signing_identity(key_path)
    society = KeyRing([TEST_KEY], signing_certificates=[certificate.public_bytes(Encoding.DER)])
    for _ in range(3):  # ECDSA signatures vary in length: the template must cope
        data = sign_pdf(identity, unsigned[0])
        result = verify_pdf(data, society)
        assert result.status == VerificationStatus.VALID, result.problems
    with pikepdf.open(io.BytesIO(data)) as document:
        assert "/Version" not in document.Root
        assert set(document.Root.Extensions.keys()) == {"/ESIC"}
