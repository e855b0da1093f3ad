"""The society's X.509 signing material as files: where the key and certificate live, reading
them (PEM or DER certificates; a PEM key, encrypted or not, or a PKCS#12 file) and creating a
self-signed document-signing certificate for a society that has none.

This module's one job is key material on disk; certificates/signing.py turns it into a
`SigningIdentity` and signs. cryptography is imported inside the functions, so a command that
neither signs nor meets a signed PDF never loads it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from balint_cme import places
from balint_cme.certificates.keys import check_private_file, write_new_private_file
from balint_cme.errors import DataFileError, VerificationError

__all__ = [
    "DEFAULT_CERT_NAME",
    "DEFAULT_KEY_NAME",
    "SIGNING_CERT_ENV",
    "SIGNING_KEY_ENV",
    "SIGNING_PASSPHRASE_ENV",
    "TIMESTAMP_URL_ENV",
    "certificate_subject",
    "configured_cert_paths",
    "configured_key_path",
    "create_signing_certificate",
    "default_signing_cert_path",
    "default_signing_key_path",
    "load_certificates",
    "load_key_material",
    "public_der",
]

SIGNING_KEY_ENV = places.PDF_SIGNING_KEY_ENV
SIGNING_CERT_ENV = places.PDF_SIGNING_CERT_ENV
SIGNING_PASSPHRASE_ENV = "BALINT_CME_SIGNING_PASSPHRASE"
"""The passphrase of an encrypted PEM key or a PKCS#12 file (never an option: it would show
in the process list and the shell history)."""
TIMESTAMP_URL_ENV = "BALINT_CME_TIMESTAMP_URL"
DEFAULT_KEY_NAME = places.PDF_SIGNING_KEY_NAME
DEFAULT_CERT_NAME = places.PDF_SIGNING_CERT_NAME
_MAX_FILE_BYTES = 256 * 1024


def default_signing_key_path() -> Path:
    """`$BALINT_CME_SIGNING_KEY`, else pdf-signing-key.pem beside the HMAC key file."""
    return places.pdf_signing_key_file()


def default_signing_cert_path() -> Path:
    """`$BALINT_CME_SIGNING_CERT`, else pdf-signing-cert.pem beside the HMAC key file."""
    return places.pdf_signing_cert_file()


# ---------------------------------------------------------------------------------------------
# Reading keys and certificates


def _read(path: Path, *, private: bool) -> bytes:
    try:
        with path.open("rb") as handle:
            if private:
                check_private_file(path, os.fstat(handle.fileno()))
            raw = handle.read(_MAX_FILE_BYTES + 1)
    except OSError as err:
        raise DataFileError(path, f"cannot read: {err.strerror}") from err
    if len(raw) > _MAX_FILE_BYTES:
        raise DataFileError(
            path, f"larger than {_MAX_FILE_BYTES // 1024} KB: not a key or certificate"
        )
    return raw


def _parse_certificates(path: Path, raw: bytes) -> list[Any]:
    from cryptography import x509

    try:
        if b"-----BEGIN" in raw:
            found = x509.load_pem_x509_certificates(raw)
        else:
            found = [x509.load_der_x509_certificate(raw)]
    except ValueError as err:
        raise DataFileError(path, "not an X.509 certificate (PEM or DER)") from err
    return found


def load_certificates(paths: Sequence[Path]) -> tuple[bytes, ...]:
    """The certificates (DER) in these files: PEM (one or several) or DER.

    Raises:
        DataFileError: a file is missing, unreadable or holds no certificate.
    """
    from cryptography.hazmat.primitives.serialization import Encoding

    found: list[bytes] = []
    for path in paths:
        for certificate in _parse_certificates(Path(path), _read(Path(path), private=False)):
            der = certificate.public_bytes(Encoding.DER)
            if der not in found:
                found.append(der)
    return tuple(found)


def _passphrase() -> bytes | None:
    value = os.environ.get(SIGNING_PASSPHRASE_ENV)
    return value.encode() if value else None


def load_key_material(key_path: Path, cert_path: Path | None) -> tuple[Any, list[Any]]:
    """(private key, [signing certificate, chain...]) from PKCS#12 or PEM files."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

    raw = _read(key_path, private=True)
    passphrase = _passphrase()
    certificates: list[Any] = []
    if b"-----BEGIN" in raw:
        try:
            key = load_pem_private_key(raw, password=passphrase)
        except TypeError as err:  # encrypted without a passphrase, or the other way round
            raise DataFileError(
                key_path,
                f"the key is encrypted: set {SIGNING_PASSPHRASE_ENV} to its passphrase"
                if passphrase is None
                else "the key is not encrypted: unset " + SIGNING_PASSPHRASE_ENV,
            ) from err
        except ValueError as err:
            raise DataFileError(
                key_path, "not a private key (PEM), or the passphrase is wrong"
            ) from err
        if b"CERTIFICATE-----" in raw:
            certificates = _parse_certificates(key_path, raw)
    else:
        try:
            found, first, extra = pkcs12.load_key_and_certificates(raw, passphrase)
        except ValueError as err:
            raise DataFileError(
                key_path,
                "not a PKCS#12 file or a PEM key, or the passphrase is wrong "
                f"(set {SIGNING_PASSPHRASE_ENV})",
            ) from err
        if found is None:
            raise DataFileError(key_path, "the PKCS#12 file holds no private key")
        key = found
        certificates = [c for c in (first, *extra) if c is not None]
    if cert_path is not None:  # the named certificate (and chain) first, then the key file's
        certificates = [
            *_parse_certificates(cert_path, _read(cert_path, private=False)),
            *certificates,
        ]
    if not certificates:
        raise DataFileError(
            key_path, "no certificate for this key: name the certificate file (--signing-cert)"
        )
    return key, certificates


def public_der(key: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return bytes(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def certificate_subject(certificate: Any) -> str:
    return str(certificate.subject.rfc4514_string())


# ---------------------------------------------------------------------------------------------
# A self-signed certificate for a society that has none


def create_signing_certificate(
    key_path: Path,
    cert_path: Path,
    *,
    organization: str,
    email: str | None = None,
    country: str | None = None,
    years: int = 10,
    now: _dt.datetime | None = None,
) -> str:
    """Create an RSA-3072 key (owner-only) and a self-signed document-signing certificate.

    Returns the certificate's SHA-256 fingerprint. Neither file is ever overwritten.

    Raises:
        VerificationError: a file exists already or cannot be written; a bad value.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    organization = organization.strip()
    if not organization or len(organization) > 64:
        raise VerificationError("the organization name is 1-64 characters")
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise VerificationError("the country is a two-letter code such as US")
    if not 1 <= years <= 30:
        raise VerificationError("a signing certificate is valid for 1 to 30 years")
    key_path, cert_path = Path(key_path), Path(cert_path)
    for path in (key_path, cert_path):
        if path.exists():
            raise VerificationError(f"{path} already exists; it is never overwritten")
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, organization),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
    ]
    if country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()))
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    name = x509.Name(attributes)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    start = (now or _dt.datetime.now(_dt.UTC)).replace(microsecond=0) - _dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + _dt.timedelta(days=365 * years + years // 4))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            # Document signing (RFC 9336) and e-mail protection, which Adobe Reader accepts.
            x509.ExtendedKeyUsage(
                [x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"), ExtendedKeyUsageOID.EMAIL_PROTECTION]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    certificate = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    cert_pem = certificate.public_bytes(Encoding.PEM)
    write_new_private_file(key_path, key_pem, mode=0o600)
    try:
        write_new_private_file(cert_path, cert_pem, mode=0o644)
    except BaseException:
        key_path.unlink(missing_ok=True)
        raise
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()


# ---------------------------------------------------------------------------------------------
# Which files: option, else environment variable, else the default file if it exists


def configured_key_path(given: Path | None) -> Path | None:
    """The signing key to use: `given`, else $BALINT_CME_SIGNING_KEY, else the default
    pdf-signing-key.pem if it exists (created by `keys signing-cert`); None: do not sign."""
    if given is not None:
        return Path(given)
    path = default_signing_key_path()
    return path if os.environ.get(SIGNING_KEY_ENV) or path.is_file() else None


def configured_cert_paths(given: Sequence[Path] | Path | None) -> list[Path]:
    """The society's signing certificates: `given`, else $BALINT_CME_SIGNING_CERT, else the
    default pdf-signing-cert.pem if it exists; [] when none."""
    if isinstance(given, Path | str):
        return [Path(given)]
    if given:
        return [Path(path) for path in given]
    path = default_signing_cert_path()
    return [path] if os.environ.get(SIGNING_CERT_ENV) or path.is_file() else []
