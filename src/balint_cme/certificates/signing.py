"""Sign certificate PDFs with the society's X.509 certificate, so any PDF reader shows who
signed and that nothing changed since: PAdES B-B, or B-T with an RFC 3161 timestamp.

The certificate is drawn, page-sealed and its page digest recorded exactly as an unsigned one;
the signature is then added as an incremental update holding nothing but an invisible
signature field (a zero-area widget on the page, the form that lists it, the PAdES extension
and the certification entry). The writer leaves the document information and the XMP
metadata as they are (pyHanko would otherwise restamp both): the page seal covers them, and
PDF/A-3b needs the two to agree. The signature certifies the document with "no changes
allowed", so readers flag any later update.

The work is split so that the private key never leaves the process that loaded it, as with
the HMAC key: `prepare_signature()` (in a worker) writes the update with a zero-filled
placeholder for the signature; `SigningIdentity.finish()` (in the parent, after the page seal
is patched in at the same length) hashes the signed byte ranges, signs and fills the
placeholder. For B-B the signature container is a template built once per identity with
pyHanko: only the message digest and the signature value change from one certificate to the
next, which saves the ~15 ms pyHanko spends re-encoding ASN.1 per signature.

Where the key and certificate files are, and reading or creating them, is
certificates/signing_keys.py.
"""

from __future__ import annotations

import asyncio
import atexit
import datetime as _dt
import hashlib
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Reading and creating key files is signing_keys' job; these two stay importable from here.
from balint_cme.certificates.signing_keys import (
    certificate_subject,
    create_signing_certificate,
    load_certificates,
    load_key_material,
    public_der,
)
from balint_cme.errors import CertificateError, VerificationError

__all__ = [
    "SIGNATURE_FIELD",
    "PreparedSignature",
    "SignaturePlan",
    "SigningIdentity",
    "create_signing_certificate",
    "load_certificates",
    "load_signing_identity",
    "prepare_signature",
    "sign_pdf",
]

SIGNATURE_FIELD = "BalintCmeSignature"
"""The name of the one signature field a signed certificate carries."""
_TIMESTAMP_MARGIN = 4096
"""Extra room (bytes) for a timestamp token beyond the one measured when loading."""


# ---------------------------------------------------------------------------------------------
# The identity (parent process) and the plan (workers)


@dataclass(frozen=True)
class SignaturePlan:
    """What a worker needs to prepare a signature: public material only (picklable)."""

    certificate: bytes
    """The signing certificate (DER)."""
    chain: tuple[bytes, ...]
    """Further certificates to embed (DER): intermediates, for a CA-issued certificate."""
    reserved: int
    """Hex digits reserved for the signature container (twice its bytes, and some room)."""


@dataclass(frozen=True)
class PreparedSignature:
    """A PDF with its signature update written and the signature still to fill in."""

    data: bytes
    start: int
    """Offset of the `<` that opens the placeholder (the end of the first signed range)."""
    end: int
    """Offset just past the `>` that closes it (the start of the second signed range)."""


class SigningIdentity:
    """The society's signing key and certificate, loaded once in the process that signs.

    Never pickled (it holds the private key): workers get `plan`, the public part.
    """

    __slots__ = (
        "_key",
        "_signer",
        "_template",
        "_timestamper",
        "certificate_sha256",
        "plan",
        "subject",
        "timestamp_url",
    )

    def __init__(
        self, key: Any, certificates: Sequence[Any], *, timestamp_url: str | None = None
    ) -> None:
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )
        from pyhanko.sign.signers.pdf_cms import SimpleSigner
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise VerificationError(
                "the signing key must be RSA or ECDSA (other kinds need PDF 2.0, which a "
                "PDF/A-3 certificate cannot be)"
            )
        mine = public_der(key.public_key())
        matching = [c for c in certificates if public_der(c.public_key()) == mine]
        if not matching:
            raise VerificationError("the signing certificate does not belong to the signing key")
        certificate = matching[0]
        chain = [c for c in certificates if c is not certificate]
        self._key = key
        self.subject = certificate_subject(certificate)
        der = certificate.public_bytes(Encoding.DER)
        self.certificate_sha256 = hashlib.sha256(der).hexdigest()
        chain_der = tuple(c.public_bytes(Encoding.DER) for c in chain)
        self._signer = SimpleSigner(
            signing_cert=asn1_x509.Certificate.load(der),
            signing_key=asn1_keys.PrivateKeyInfo.load(
                key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
            ),
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [asn1_x509.Certificate.load(c) for c in chain_der]
            ),
        )
        self.timestamp_url = timestamp_url
        self._timestamper: Any = None
        if timestamp_url:
            from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper

            self._timestamper = HTTPTimeStamper(timestamp_url, timeout=30)
        self._template = _Template.build(self)
        reserved = len(self._template.der)
        if self._timestamper is not None:
            reserved = self._timestamped_size() + _TIMESTAMP_MARGIN
        self.plan = SignaturePlan(certificate=der, chain=chain_der, reserved=2 * (reserved + 64))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a SigningIdentity cannot be pickled: its key stays in this process")

    def __repr__(self) -> str:
        return f"SigningIdentity(subject={self.subject!r}, timestamp_url={self.timestamp_url!r})"

    @property
    def level(self) -> str:
        """ "B-T" with a timestamp authority, else "B-B"."""
        return "B-T" if self._timestamper is not None else "B-B"

    def use_timestamper(self, timestamper: Any) -> None:
        """Timestamp with this pyHanko TimeStamper (e.g. a test authority) instead of a URL."""
        self._timestamper = timestamper
        self.timestamp_url = self.timestamp_url or "(timestamper given)"
        reserved = 2 * (self._timestamped_size() + _TIMESTAMP_MARGIN + 64)
        self.plan = SignaturePlan(self.plan.certificate, self.plan.chain, reserved)

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run(coroutine)

    def _timestamped_size(self) -> int:
        """The size of a container with a real timestamp token (one request, at load)."""
        try:
            container = self._run(
                self._signer.async_sign(
                    hashlib.sha256(b"size").digest(),
                    "sha256",
                    use_pades=True,
                    timestamper=self._timestamper,
                )
            )
        except Exception as err:  # network, HTTP or TSA errors: pyHanko wraps them variously
            raise CertificateError(
                f"the timestamp authority {self.timestamp_url} did not answer: {err}"
            ) from err
        return len(container.dump())

    def sign_digest(self, digest: bytes) -> bytes:
        """The DER signature container (CMS) for a document digest (SHA-256)."""
        if self._timestamper is None:
            return self._template.sign(self._key, digest)
        try:
            container = self._run(
                self._signer.async_sign(
                    digest, "sha256", use_pades=True, timestamper=self._timestamper
                )
            )
        except Exception as err:
            raise CertificateError(
                f"the timestamp authority {self.timestamp_url} did not answer: {err}"
            ) from err
        return bytes(container.dump())

    def finish(self, prepared: PreparedSignature) -> bytes:
        """Sign `prepared.data` (page seal already patched in) and fill the placeholder."""
        data, start, end = prepared.data, prepared.start, prepared.end
        if data[start : start + 1] != b"<" or data[end - 1 : end] != b">":
            raise CertificateError("the signature placeholder moved: the file was changed")
        digest = hashlib.sha256()
        digest.update(memoryview(data)[:start])
        digest.update(memoryview(data)[end:])
        container = self.sign_digest(digest.digest()).hex().upper().encode("ascii")
        room = end - start - 2
        if len(container) > room:
            raise CertificateError(
                f"the signature needs {len(container) // 2} bytes but {room // 2} were reserved"
            )
        return data[: start + 1] + container + data[start + 1 + len(container) :]


class _Template:
    """A PAdES signature container built once; per document only the message digest and the
    signature value are replaced (PAdES puts no signing time in it: the time is /M)."""

    def __init__(
        self, der: bytes, attrs_at: int, attrs: bytes, digest_at: int, sig_at: int, sig_len: int
    ) -> None:
        self.der = der
        self.attrs_at = attrs_at
        self.attrs = attrs
        self.digest_at = digest_at
        self.sig_at = sig_at
        self.sig_len = sig_len

    @classmethod
    def build(cls, identity: SigningIdentity) -> _Template:
        marker = secrets.token_bytes(32)
        container = identity._run(identity._signer.async_sign(marker, "sha256", use_pades=True))
        der = bytes(container.dump())
        info = container["content"]["signer_infos"][0]
        attrs = bytes(info["signed_attrs"].dump())
        signature = bytes(info["signature"].native)
        if der.count(attrs) != 1 or attrs.count(marker) != 1 or der.count(signature) != 1:
            raise CertificateError("cannot build the signature template (unexpected encoding)")
        return cls(
            der,
            der.index(attrs),
            attrs,
            attrs.index(marker),
            der.index(signature),
            len(signature),
        )

    def sign(self, key: Any, digest: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding

        attrs = self.attrs[: self.digest_at] + digest + self.attrs[self.digest_at + 32 :]
        signed = b"\x31" + attrs[1:]  # signed over as a SET OF (RFC 5652, 5.4)
        for _ in range(64):
            if isinstance(key, ec.EllipticCurvePrivateKey):
                signature = key.sign(signed, ec.ECDSA(hashes.SHA256()))
            else:
                signature = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
            if len(signature) == self.sig_len:  # ECDSA's DER length varies: draw again
                break
        else:  # pragma: no cover - 64 draws of another length: practically impossible
            raise CertificateError("could not produce a signature of the expected length")
        der = self.der
        der = der[: self.attrs_at] + attrs + der[self.attrs_at + len(attrs) :]
        return der[: self.sig_at] + signature + der[self.sig_at + self.sig_len :]


def load_signing_identity(
    key_path: Path,
    cert_path: Path | None = None,
    *,
    timestamp_url: str | None = None,
    now: _dt.datetime | None = None,
) -> SigningIdentity:
    """The society's signing identity from a PKCS#12 file, or a PEM key and certificate.

    The key file must be owner-only (as the HMAC key file). An encrypted key's passphrase is
    read from $BALINT_CME_SIGNING_PASSPHRASE. With `timestamp_url`, one request is made now,
    so a wrong address fails before anything is drawn.

    Raises:
        VerificationError: the key file is readable by others or another user's, the
            certificate is not the key's, or it is expired or not yet valid.
        DataFileError: a file is missing or is not a key or certificate.
        CertificateError: the timestamp authority does not answer.
    """
    key, certificates = load_key_material(
        Path(key_path), None if cert_path is None else Path(cert_path)
    )
    identity_cert = next(
        (c for c in certificates if public_der(c.public_key()) == public_der(key.public_key())),
        None,
    )
    if identity_cert is None:
        raise VerificationError(
            f"the signing certificate does not belong to the signing key {key_path}"
        )
    moment = now or _dt.datetime.now(_dt.UTC)
    if not identity_cert.not_valid_before_utc <= moment <= identity_cert.not_valid_after_utc:
        raise VerificationError(
            f"the signing certificate ({certificate_subject(identity_cert)}) is valid from "
            f"{identity_cert.not_valid_before_utc:%Y-%m-%d} to "
            f"{identity_cert.not_valid_after_utc:%Y-%m-%d}: not today"
        )
    return SigningIdentity(key, certificates, timestamp_url=timestamp_url)


# ---------------------------------------------------------------------------------------------
# The signature update (worker side)


def _writer_class() -> Any:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    class SealKeepingWriter(IncrementalPdfFileWriter):
        """Writes the signature update and nothing else."""

        def _update_meta(self) -> None:
            # pyHanko restamps /Info (ModDate, Producer) and rewrites the XMP packet; both are
            # covered by the page seal and must agree for PDF/A-3b, so neither is touched.
            return None

        def ensure_output_version(self, version: Any) -> None:
            # A PDF/A-3 file stays PDF 1.7: never raised to 2.0 (pyHanko does for ECDSA).
            return None

        def register_extension(self, ext: Any) -> None:
            # Only the PAdES (ESIC) extension, which PDF 1.7 knows; not the PDF 2.0 ones.
            if str(getattr(ext, "prefix_name", "")) == "/ESIC":
                super().register_extension(ext)

    return SealKeepingWriter


_worker_loop: asyncio.AbstractEventLoop | None = None


def _run_in_worker_loop(coroutine: Any) -> Any:
    """Run pyHanko's coroutine on one event loop per process (asyncio.run would make and tear
    down a loop per certificate, a fifth of the cost of preparing a signature)."""
    global _worker_loop
    if _worker_loop is None or _worker_loop.is_closed():
        _worker_loop = asyncio.new_event_loop()
        atexit.register(_worker_loop.close)
    return _worker_loop.run_until_complete(coroutine)


def prepare_signature(plan: SignaturePlan, data: bytes) -> PreparedSignature:
    """Add the signature update to `data` with a zero-filled placeholder (no key needed)."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers.pdf_cms import ExternalSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    external = ExternalSigner(
        asn1_x509.Certificate.load(plan.certificate),
        SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(c) for c in plan.chain]),  # type: ignore[no-untyped-call]
        signature_value=256,
    )
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    pdf_signer = signers.PdfSigner(
        meta, signer=external, new_field_spec=fields.SigFieldSpec(SIGNATURE_FIELD)
    )
    writer = _writer_class()(io.BytesIO(data))
    prepared, _, output = _run_in_worker_loop(
        pdf_signer.async_digest_doc_for_signing(writer, bytes_reserved=plan.reserved)
    )
    written: bytes = output.getvalue()  # a BytesIO: pyHanko's default output
    return PreparedSignature(
        data=written,
        start=prepared.reserved_region_start,
        end=prepared.reserved_region_end,
    )


def sign_pdf(identity: SigningIdentity, data: bytes) -> bytes:
    """Sign a finished (page-sealed) certificate PDF in one step."""
    return identity.finish(prepare_signature(identity.plan, data))
