"""Check the PDF signature of a signed certificate: its shape (nothing but the one invisible
signature field) and, with pyHanko, that it is intact and covers the whole file.

`signature_parts()` finds the signature structure that certificates/signing.py adds, and
refuses anything else: a second field, a visible widget, another annotation, any other entry.
The page digest (page_seal.py) leaves exactly these parts out, so a signed certificate's digest
is the one recorded when it was drawn, and every other change still changes the digest.

`check_signature()` validates the signature with pyHanko: intact (the signed bytes are the
ones signed), a valid signature value, coverage of the entire file (no later incremental
update), and a timestamp token, if any, that matches. Whose signature it is: the signer's
certificate compared byte for byte with the society's signing certificates (pinned, so a
self-signed certificate works, and the system's certificate authorities play no part).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NumberObject,
)

from balint_cme.model import DomainModel

__all__ = [
    "SignatureCheck",
    "SignatureInfo",
    "SignatureParts",
    "SignatureShapeError",
    "check_signature",
    "signature_parts",
]

_FIELD_KEYS = frozenset({"/FT", "/T", "/Type", "/Subtype", "/F", "/Rect", "/P", "/V"})
_VALUE_KEYS = frozenset(
    {
        "/Type",
        "/Filter",
        "/SubFilter",
        "/ByteRange",
        "/Contents",
        "/M",
        "/Name",
        "/Reason",
        "/Location",
        "/ContactInfo",
        "/Reference",
        "/Prop_Build",
    }
)
_CATALOG_SIGNATURE_KEYS = ("/AcroForm", "/Perms", "/Extensions")


class SignatureShapeError(Exception):
    """The file's form or signature is not the one balint-cme adds (reason in the message)."""


@dataclass(frozen=True)
class SignatureParts:
    """The signature structure of a signed certificate, which the page digest leaves out."""

    catalog_keys: frozenset[str]
    """Catalog entries that belong to the signature (/AcroForm, /Perms, /Extensions)."""
    widget: tuple[int, int]
    """The signature field (merged with its widget), as (object number, generation)."""
    page: tuple[int, int]
    """The page whose /Annots lists the widget."""


class SignatureInfo(DomainModel):
    """A certificate's PDF signature, as verify reports it."""

    signer: str
    """The signer's certificate subject (RFC 4514)."""
    signer_sha256: str
    """SHA-256 of the signer's certificate (DER), hex: compare with the society's."""
    society: bool
    """Whether the signer's certificate is one of the society's signing certificates given."""
    signed_at: datetime | None = None
    """The signing time the signer claims (/M)."""
    level: Literal["B-B", "B-T"] = "B-B"
    """PAdES baseline level: B-T carries an RFC 3161 timestamp token."""
    timestamped_at: datetime | None = None
    """The time in the timestamp token (B-T)."""
    timestamp_authority: str | None = None
    timestamp_trusted: bool = False
    """Whether the timestamp authority chains to a certificate authority this system trusts."""


@dataclass(frozen=True)
class SignatureCheck:
    """What check_signature found: the signature, or why it is not a good one."""

    info: SignatureInfo | None
    problem: str | None = None


def _get(dictionary: Any, key: str) -> Any:
    value = dictionary.get(key)
    return value.get_object() if isinstance(value, IndirectObject) else value


def _identity(ref: Any) -> tuple[int, int]:
    if not isinstance(ref, IndirectObject):
        raise SignatureShapeError("the signature field is not a separate object")
    return (ref.idnum, ref.generation)


def _zero_area(rect: Any) -> bool:
    if not isinstance(rect, ArrayObject) or len(rect) != 4:
        return False
    try:
        x1, y1, x2, y2 = (float(value) for value in rect)
    except (TypeError, ValueError):
        return False
    return x1 == x2 and y1 == y2


def _check_catalog_extras(root: Any, field_ref: IndirectObject) -> frozenset[str]:
    keys = {"/AcroForm"}
    perms = _get(root, "/Perms")
    if perms is not None:
        if not isinstance(perms, DictionaryObject) or set(map(str, perms)) != {"/DocMDP"}:
            raise SignatureShapeError("the document's permissions are not the signature's")
        value = _get(field_ref.get_object(), "/V")
        docmdp = perms.get("/DocMDP")
        if not isinstance(docmdp, IndirectObject) or docmdp.get_object() is not value:
            raise SignatureShapeError("the document's permissions are not the signature's")
        keys.add("/Perms")
    extensions = _get(root, "/Extensions")
    if extensions is not None:
        esic = _get(extensions, "/ESIC") if isinstance(extensions, DictionaryObject) else None
        if (
            not isinstance(extensions, DictionaryObject)
            or set(map(str, extensions)) != {"/ESIC"}
            or not isinstance(esic, DictionaryObject)
            or set(map(str, esic)) != {"/Type", "/BaseVersion", "/ExtensionLevel"}
            or esic.get("/Type") != "/DeveloperExtensions"
            or esic.get("/BaseVersion") != "/1.7"
            or esic.get("/ExtensionLevel") != 1
        ):
            raise SignatureShapeError("the document declares extensions a certificate never has")
        keys.add("/Extensions")
    return frozenset(keys)


def signature_parts(reader: PdfReader) -> SignatureParts | None:
    """The signature structure, None when the file has no form, or SignatureShapeError.

    Allowed: one /AcroForm with /Fields [one field] and /SigFlags; that field a signature
    field merged with a zero-area widget on the one page, its value a signature dictionary;
    the certification entry (/Perms /DocMDP) pointing at that signature; the PAdES (ESIC)
    extension. Nothing else.
    """
    root = reader.trailer["/Root"].get_object()
    form = _get(root, "/AcroForm")
    if form is None:
        return None
    if not isinstance(form, DictionaryObject) or not set(map(str, form)) <= {
        "/Fields",
        "/SigFlags",
    }:
        raise SignatureShapeError("the file carries a form a certificate never has")
    fields = _get(form, "/Fields")
    if not isinstance(fields, ArrayObject) or len(fields) != 1:
        raise SignatureShapeError("the file carries form fields a certificate never has")
    if not isinstance(form.get("/SigFlags"), NumberObject):
        raise SignatureShapeError("the file carries a form a certificate never has")
    field_ref = fields[0]
    widget = _identity(field_ref)
    field = field_ref.get_object()
    if (
        not isinstance(field, DictionaryObject)
        or field.get("/FT") != "/Sig"
        or field.get("/Subtype") != "/Widget"
    ):
        raise SignatureShapeError("the file carries a form field that is not its signature")
    if not _zero_area(_get(field, "/Rect")):
        raise SignatureShapeError("the signature has a visible widget on the page")
    if not set(map(str, field)) <= _FIELD_KEYS:
        raise SignatureShapeError("the signature field carries entries a certificate's never has")
    value = _get(field, "/V")
    if (
        not isinstance(value, DictionaryObject)
        or not set(map(str, value)) <= _VALUE_KEYS
        or value.get("/Type", "/Sig") != "/Sig"
    ):
        raise SignatureShapeError("the signature field holds no signature")
    page_ref = field.get("/P")
    pages = _get(_get(root, "/Pages"), "/Kids")
    if not isinstance(page_ref, IndirectObject) or not isinstance(pages, ArrayObject):
        raise SignatureShapeError("the signature is not on the certificate's page")
    if [_identity(page_ref)] != [_identity(kid) for kid in pages]:
        raise SignatureShapeError("the signature is not on the certificate's page")
    annotations = _get(page_ref.get_object(), "/Annots")
    listed = [
        item
        for item in annotations or ()
        if isinstance(item, IndirectObject) and _identity(item) == widget
    ]
    if not isinstance(annotations, ArrayObject) or len(listed) != 1:
        raise SignatureShapeError("the signature's widget is not on the certificate's page")
    return SignatureParts(
        catalog_keys=_check_catalog_extras(root, field_ref),
        widget=widget,
        page=_identity(page_ref),
    )


def _name(certificate: Any) -> str:
    """RFC 4514 subject of an asn1crypto certificate (via cryptography)."""
    from cryptography import x509

    return str(x509.load_der_x509_certificate(certificate.dump()).subject.rfc4514_string())


_QUIET_LOCK = threading.Lock()
_quiet_depth = 0
_saved_levels: dict[str, int] = {}


@contextlib.contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """pyHanko logs every trust path it cannot build (a self-signed certificate, a signer
    not given); the result says what matters in one sentence, so its log is muted meanwhile."""
    global _quiet_depth
    with _QUIET_LOCK:
        if _quiet_depth == 0:
            for name in ("pyhanko", "pyhanko_certvalidator"):
                _saved_levels[name] = logging.getLogger(name).level
                logging.getLogger(name).setLevel(logging.CRITICAL)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                for name, level in _saved_levels.items():
                    logging.getLogger(name).setLevel(level)


@functools.cache
def _public_roots() -> tuple[Any, ...]:
    """The Mozilla root certificates (certifi), for timestamp authorities only."""
    import certifi
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    bundle = Path(certifi.where()).read_bytes()
    return tuple(
        asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(bundle, multiple=True)
    )


def check_signature(data: bytes, society: tuple[bytes, ...]) -> SignatureCheck:
    """Validate the one signature of `data` with pyHanko (no network: nothing is fetched).

    `society` is the society's signing certificates (DER): the result says whether the
    signer is one of them. A problem (not intact, not valid, not covering the whole file, a
    broken timestamp) comes back as `problem`, one sentence.
    """
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as err:  # pyHanko raises several types for damaged files
        return SignatureCheck(None, f"the signature cannot be read ({type(err).__name__})")
    if len(signatures) != 1:
        return SignatureCheck(None, "the file carries more than one signature")
    embedded = signatures[0]
    roots = [asn1_x509.Certificate.load(der) for der in society]
    # Only the society's certificates are trusted for the signer (never the system's list).
    context = ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
    )
    timestamps = ValidationContext(
        trust_roots=list(_public_roots()), allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        with _quiet_pyhanko():
            status = validate_pdf_signature(
                embedded, signer_validation_context=context, ts_validation_context=timestamps
            )
    except SignatureValidationError as err:
        return SignatureCheck(None, f"the signature is not valid: {err.failure_message}")
    except Exception as err:  # malformed signature containers
        return SignatureCheck(None, f"the signature cannot be checked ({type(err).__name__})")
    if not status.intact:
        return SignatureCheck(None, "the signed bytes were changed after signing")
    if not status.valid:
        return SignatureCheck(None, "the signature value does not match its certificate")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return SignatureCheck(
            None, "the file was updated after it was signed (the signature no longer covers it)"
        )
    signer = status.signing_cert
    fingerprint = hashlib.sha256(signer.dump()).hexdigest()
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid):
        return SignatureCheck(None, "the signature's timestamp does not match it")
    info = SignatureInfo(
        signer=_name(signer),
        signer_sha256=fingerprint,
        society=any(hashlib.sha256(der).hexdigest() == fingerprint for der in society),
        signed_at=status.signer_reported_dt,
        level="B-T" if stamp is not None else "B-B",
        timestamped_at=stamp.timestamp if stamp is not None else None,
        timestamp_authority=_name(stamp.signing_cert) if stamp is not None else None,
        timestamp_trusted=bool(stamp is not None and stamp.trusted),
    )
    return SignatureCheck(info)
