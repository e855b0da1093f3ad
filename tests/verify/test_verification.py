"""Verification codes and key files: genuine PDFs verify offline; every altered claim, another
key and foreign files are told apart; keys stay secret and private."""

from __future__ import annotations

import base64
import hmac
import io
import json
import logging
import os
import pickle
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter

from balint_cme import Series
from balint_cme.certificates import verification
from balint_cme.certificates.keys import (
    KeyRing,
    SigningKey,
    create_key,
    default_key_path,
    load_key,
    load_key_ring,
    load_or_create_default_key,
    rotate_key,
)
from balint_cme.certificates.pdf import render_pdf
from balint_cme.certificates.verification import (
    CLAIM_NAMES,
    METADATA_KEY,
    normalize_code,
    verify_code,
    verify_pdf,
)
from balint_cme.errors import DataFileError, VerificationError
from tests.certificate_helpers import OTHER_KEY, TEST_KEY, certificate_for


@pytest.fixture(scope="module")
def genuine(series_2020: Series) -> bytes:
    return render_pdf(certificate_for(series_2020, "p02"), key=TEST_KEY)


def _with_record(pdf: bytes, change: dict[str, Any]) -> bytes:
    """The PDF with some claims in its metadata replaced (the page left as it was)."""
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None
    record = json.loads(str(reader.metadata[METADATA_KEY]))
    record["claims"].update(change)
    writer = PdfWriter(clone_from=reader)
    writer.add_metadata({METADATA_KEY: json.dumps(record)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_genuine_pdf_verifies(genuine: bytes) -> None:
    result = verify_pdf(genuine, TEST_KEY)
    assert result.status == "valid", result.problems
    assert result.is_valid
    assert result.claims is not None
    assert result.claims.name == "Zoë Ångström"
    assert result.claims.credits == Decimal("1.75")


ALTERATIONS: dict[str, Any] = {
    "number": "FMMS-2020-9999",
    "version": 2,
    "kind": "participation",
    "name": "Zoe Angstrom",
    "credentials": "MD",
    "series_id": "another-series",
    "series_title": "2021 Balint Group",
    "session_dates": ["2020-09-09", "2020-10-14", "2020-11-11"],
    "credits": "5.00",
    "hours": "1.75",
    "credit_type": "AMA PRA Category 2 Credit",
    "designated_maximum": "10.00",
    "issued_on": "2022-01-20",
    "provider": "Another Medical Society",
    "joint_providers": [],
    "accreditor": "ACCME",
}


def test_every_claim_has_an_alteration_case() -> None:
    assert set(ALTERATIONS) == set(CLAIM_NAMES)


@pytest.mark.parametrize("claim", sorted(ALTERATIONS))
def test_each_altered_claim_is_detected_and_named(genuine: bytes, claim: str) -> None:
    result = verify_pdf(_with_record(genuine, {claim: ALTERATIONS[claim]}), TEST_KEY)
    assert result.status == "altered"
    assert claim in result.altered
    if claim != "number":
        assert f"claim {claim!r} was changed" in result.problems


def test_page_edited_to_match_forged_claims_is_detected(series_2020: Series) -> None:
    # A forger re-renders the page with more credit and keeps the genuine seal.
    certificate = certificate_for(series_2020, "p02")
    forged = certificate.evolve(credits=Decimal("5.00"))
    result = verify_pdf(render_pdf(forged), TEST_KEY)
    assert result.status == "altered"
    assert result.altered == ("credits",)
    assert "the verification code does not match the claims" in result.problems


def test_page_that_disagrees_with_its_claims_is_altered(series_2020: Series) -> None:
    # The metadata is genuine but the visible page says something else.
    certificate = certificate_for(series_2020, "p02")
    visible = render_pdf(certificate.evolve(credits=Decimal("4.75")), key=TEST_KEY)
    reader = PdfReader(io.BytesIO(visible))
    writer = PdfWriter(clone_from=reader)
    genuine_record = verification.metadata_record(certificate.claims, certificate.seal)
    writer.add_metadata({METADATA_KEY: genuine_record})
    out = io.BytesIO()
    writer.write(out)
    result = verify_pdf(out.getvalue(), TEST_KEY)
    assert result.status == "altered"
    assert not result.page_sealed
    assert any("is not what was drawn for these claims" in p for p in result.problems)


def test_pdf_sealed_with_another_key_is_wrong_key(genuine: bytes) -> None:
    result = verify_pdf(genuine, OTHER_KEY)
    assert result.status == "wrong-key"
    assert "test-key" in result.problems[0]


def test_another_key_with_the_same_id_is_wrong_key(genuine: bytes) -> None:
    impostor = SigningKey("test-key", bytes(range(100, 132)))
    assert verify_pdf(genuine, impostor).status == "wrong-key"


def test_rotated_keys_still_verify_old_certificates(series_2020: Series, genuine: bytes) -> None:
    newer = render_pdf(
        certificate_for(series_2020, "p01", number="N-2", key=OTHER_KEY), key=OTHER_KEY
    )
    ring = KeyRing([OTHER_KEY, TEST_KEY])
    assert verify_pdf(genuine, ring).status == "valid"
    assert verify_pdf(newer, ring).status == "valid"


@pytest.mark.parametrize("data", [b"", b"not a pdf at all", b"%PDF-1.4\n%%EOF\n", bytes(2000)])
def test_foreign_data_is_unknown(data: bytes) -> None:
    assert verify_pdf(data, TEST_KEY).status == "unknown"


def test_pdf_without_claims_is_unknown(genuine: bytes) -> None:
    reader = PdfReader(io.BytesIO(genuine))
    writer = PdfWriter()
    writer.add_page(reader.pages[0])
    out = io.BytesIO()
    writer.write(out)
    result = verify_pdf(out.getvalue(), TEST_KEY)
    assert result.status == "unknown"
    assert "no balint-cme certificate claims" in result.problems[0]


def test_damaged_claims_are_altered(genuine: bytes) -> None:
    reader = PdfReader(io.BytesIO(genuine))
    writer = PdfWriter(clone_from=reader)
    writer.add_metadata({METADATA_KEY: '{"format": "balint-cme/certificate-claims/1", "claims": 1'})
    out = io.BytesIO()
    writer.write(out)
    assert verify_pdf(out.getvalue(), TEST_KEY).status == "altered"


# -- codes -------------------------------------------------------------------------------------


def test_code_verifies_its_claims_as_typed_by_a_person(series_2020: Series) -> None:
    certificate = certificate_for(series_2020)
    key_id, mac = certificate.verification_code.split(".")
    typed = f"  {key_id}. {mac.lower().replace('-', ' ')} "
    assert verify_code(typed, certificate.claims, TEST_KEY).status == "valid"


def test_code_for_one_certificate_never_verifies_another(series_2020: Series) -> None:
    one = certificate_for(series_2020, "p01", number="N-1")
    two = certificate_for(series_2020, "p02", number="N-2")
    assert verify_code(one.verification_code, two.claims, TEST_KEY).status == "altered"
    same_person_other_number = certificate_for(series_2020, "p01", number="N-3")
    assert (
        verify_code(one.verification_code, same_person_other_number.claims, TEST_KEY).status
        == "altered"
    )


@pytest.mark.parametrize("claim", sorted(set(ALTERATIONS) - {"kind", "credits", "hours"}))
def test_code_binds_each_claim(series_2020: Series, claim: str) -> None:
    certificate = certificate_for(series_2020)
    altered = certificate.claims.evolve(**{claim: ALTERATIONS[claim]})
    assert verify_code(certificate.verification_code, altered, TEST_KEY).status == "altered"


def test_code_binds_credits_and_hours(series_2020: Series) -> None:
    credit = certificate_for(series_2020, "p02")
    claims = credit.claims.evolve(credits=Decimal("2.00"))
    assert verify_code(credit.verification_code, claims, TEST_KEY).status == "altered"
    participation = certificate_for(series_2020, "p03")
    claims = participation.claims.evolve(hours=Decimal("2.00"))
    assert verify_code(participation.verification_code, claims, TEST_KEY).status == "altered"


def test_code_with_unknown_key_id_is_wrong_key(series_2020: Series) -> None:
    certificate = certificate_for(series_2020)
    assert verify_code(certificate.verification_code, certificate.claims, OTHER_KEY).status == (
        "wrong-key"
    )


@pytest.mark.parametrize("code", ["", "hello", "test-key.ABC", "test-key.!!!!-AAAA-AAAA-AAAA"])
def test_malformed_code_is_unknown(series_2020: Series, code: str) -> None:
    assert verify_code(code, certificate_for(series_2020).claims, TEST_KEY).status == "unknown"


def test_normalize_code_reads_look_alike_digits() -> None:
    assert normalize_code("k1.0000-1111-8888-AAAA-BBBB-CCCC") == ("k1", "OOOOIIIIBBBBAAAABBBBCCCC")


def test_codes_are_compared_in_constant_time(
    series_2020: Series, genuine: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    certificate = certificate_for(series_2020)
    assert verify_code(certificate.verification_code, certificate.claims, TEST_KEY).is_valid
    assert len(calls) == 1
    assert verify_pdf(genuine, TEST_KEY).is_valid
    assert len(calls) > len(CLAIM_NAMES)


# -- key files ---------------------------------------------------------------------------------


def _secret_forms(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    encoded = text.split('secret = "')[1].split('"')[0]
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    return [encoded, raw.hex(), repr(raw)]


def test_created_key_file_is_private_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.key"
    key = create_key(path, key_id="fmms-2020")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_key(path) == key
    assert load_key(path).key_id == "fmms-2020"


def test_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    create_key(path)
    before = path.read_bytes()
    with pytest.raises(VerificationError, match="already exists"):
        create_key(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o666])
def test_key_file_readable_by_others_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "signing.key"
    create_key(path)
    os.chmod(path, mode)
    with pytest.raises(VerificationError) as caught:
        load_key(path)
    assert f"chmod 600 {path}" in str(caught.value)
    for secret in _secret_forms(path):
        assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "expected format"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b'format = "balint-cme-key/1"\nkey_id = "k1"\n', "secret is missing"),
        (b'format = "balint-cme-key/1"\nkey_id = "K 1"\nsecret = "AAAA"\n', "key_id"),
        (b'format = "balint-cme-key/1"\nkey_id = "k1"\nsecret = "c2hvcnQ"\n', "shorter"),
        (b'format = "balint-cme-key/1"\nkey_id = "k1"\nsecret = "%%%%"\n', "base64"),
        (b"format = [unclosed\n", "invalid TOML"),
        (b"x" * 5000, "larger than"),
    ],
)
def test_malformed_key_file_names_file_and_problem(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(DataFileError, match=problem) as caught:
        load_key(path)
    assert str(path) in str(caught.value)


def test_missing_key_file_is_a_data_file_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read key file"):
        load_key(tmp_path / "absent.key")


def test_key_never_appears_in_repr_errors_logs_or_pdf(
    tmp_path: Path,
    series_2020: Series,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "signing.key"
    key = create_key(path, key_id="k-secret-test")
    forms = _secret_forms(path)
    seen = [repr(key), str(key), repr(KeyRing([key]))]
    os.chmod(path, 0o644)
    with pytest.raises(VerificationError) as refused:
        load_key(path)
    seen.append(str(refused.value))
    os.chmod(path, 0o600)
    with pytest.raises(TypeError) as pickled:
        pickle.dumps(key)
    seen.append(str(pickled.value))
    certificate = certificate_for(series_2020, key=key)
    pdf = render_pdf(certificate, key=key)
    seen.append(certificate.model_dump_json())
    seen.append(pdf.decode("latin-1"))
    seen.append(repr(verify_pdf(pdf, key)))
    seen.append(repr(verify_pdf(b"junk", key)))
    captured = capsys.readouterr()
    seen.extend([captured.out, captured.err, caplog.text])
    for text in seen:
        for secret in forms:
            assert secret not in text


def test_load_or_create_default_key_creates_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BALINT_CME_KEY_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    key, path, created = load_or_create_default_key()
    assert created
    assert path == tmp_path / "config" / "balint-cme" / "keys" / "signing.key"
    again, same_path, created_again = load_or_create_default_key()
    assert (again, same_path, created_again) == (key, path, False)


def test_key_file_environment_variable_overrides_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BALINT_CME_KEY_FILE", str(tmp_path / "provider.key"))
    assert default_key_path() == tmp_path / "provider.key"


def test_rotation_keeps_the_old_key_for_old_certificates(
    tmp_path: Path, series_2020: Series
) -> None:
    path = tmp_path / "keys" / "signing.key"
    old = create_key(path, key_id="k2020")
    old_pdf = render_pdf(certificate_for(series_2020, key=old), key=old)
    new, retired = rotate_key(path, key_id="k2021")
    assert retired == tmp_path / "keys" / "k2020.key"
    assert load_key(path) == new
    new_pdf = render_pdf(certificate_for(series_2020, number="N-9", key=new), key=new)
    ring = load_key_ring([tmp_path / "keys"])
    assert ring.key_ids == ("k2020", "k2021")
    assert verify_pdf(old_pdf, ring).is_valid
    assert verify_pdf(new_pdf, ring).is_valid
    assert verify_pdf(old_pdf, new).status == "wrong-key"
