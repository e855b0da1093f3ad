"""The page seal: a certificate PDF's whole displayable content, bound to its sealed claims.

`page_digest()` hashes everything that can change what a viewer shows: the object graph
reachable from the document catalog (/Root: the page, its content streams, fonts and their
font programs, images, annotations, metadata, output intents, attachments...) and the
document information dictionary except the page-seal entry itself. Streams are hashed as
their raw (still compressed) bytes plus their dictionary, so nothing is decompressed and the
work is bounded by the file size. The seal is an HMAC over that digest, the code and the
claims, stored in the document information under PAGE_SEAL_KEY.

`inspect_certificate_pdf()` refuses, before any heavy work, every file that is not shaped
like a one-page certificate: incremental updates, cross-reference streams, too many objects,
JavaScript, actions, forms, portfolios, annotations other than plain links. The renderer
writes a fixed-width placeholder in the seal entry, computes the digest and patches the
placeholder in place (same length, so no offset moves): `apply_page_seal()`.

A certificate signed by certificates/signing.py has exactly one more revision, holding only
its invisible signature field: that structure (signature_check.signature_parts) is left out
of the digest, so the digest is the one recorded at issue, and anything else added changes it.

One module of about 430 lines on purpose: the refusals and the digest walk share their limits
and forbidden keys, and together they decide which bytes a page seal covers, so a reviewer
reads every rule of that security boundary in one file and neither half changes alone.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from balint_cme.certificates.keys import SigningKey
from balint_cme.certificates.signature_check import (
    SignatureParts,
    SignatureShapeError,
    signature_parts,
)

__all__ = [
    "MAX_OBJECTS",
    "MAX_PDF_BYTES",
    "PAGE_SEAL_KEY",
    "PAGE_SEAL_PLACEHOLDER",
    "InspectedPdf",
    "NotACertificateError",
    "apply_page_seal",
    "compute_page_seal",
    "inspect_certificate_pdf",
    "is_page_seal",
    "page_digest",
]

MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_OBJECTS = 2_000
"""Indirect objects a certificate may hold (a genuine one has a few dozen)."""
_MAX_ENTRIES = 50_000
"""Dictionary entries and array items walked in all (a genuine certificate: a few thousand)."""
_MAX_DEPTH = 48
"""Nesting of direct arrays and dictionaries inside one object."""
_MAX_PARSED_BYTES = 128 * 1024
"""Bytes of objects (stream data aside) parsed in all: a genuine certificate has about 5 KB
(pypdf parses some 50,000 tokens a second on a busy machine, so this bounds the time)."""

PAGE_SEAL_KEY = "/BalintCmePageSeal"
"""The document-information entry that holds the page seal."""
_SEAL_PREFIX = "p1:"
_SEAL_BYTES = 32
PAGE_SEAL_PLACEHOLDER = _SEAL_PREFIX + "-" * 52
"""What the renderer writes before the digest is known: as long as a real seal."""
_SEAL_PATTERN = re.compile(r"p1:[A-Z2-7]{52}")

# Keys that run code, act on opening, hold forms or make a portfolio: a certificate has none.
_FORBIDDEN_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/OpenAction",
        "/AA",
        "/Launch",
        "/Collection",
        "/RichMedia",
        "/XFA",
        "/AcroForm",
        "/Encrypt",
        "/GoToR",
        "/SubmitForm",
        "/ImportData",
    }
)
_TRAILER_KEYS = frozenset({"/Size", "/Root", "/Info", "/ID"})


class NotACertificateError(Exception):
    """The bytes are not a balint-cme certificate PDF (reason in the message). Internal."""


@dataclass(frozen=True)
class InspectedPdf:
    """A PDF that passed the structure checks, with its document information and digest."""

    info: dict[str, Any]
    """Document information entries (name → value as text)."""
    digest: bytes
    """page_digest() of the file."""
    signed: bool = False
    """Whether the file carries the signature update of certificates/signing.py (check it)."""


def _check_bytes(data: bytes) -> bool:
    """Cheap checks on the raw bytes, before any parsing; True if there is a signature update."""
    if len(data) > MAX_PDF_BYTES:
        raise NotACertificateError(
            f"larger than {MAX_PDF_BYTES // (1024 * 1024)} MB: not a certificate"
        )
    if not data[:1024].lstrip().startswith(b"%PDF-"):
        raise NotACertificateError("not a PDF")
    revisions = data.count(b"startxref")
    # A signed certificate has one update after the drawn file: its signature (checked later).
    if revisions != 1 and not (revisions == 2 and b"/ByteRange" in data):
        raise NotACertificateError(
            "the file has been updated after it was written (more than one revision)"
        )
    if b"/ObjStm" in data or b"/XRefStm" in data:
        raise NotACertificateError(
            "the file uses object streams, which a balint-cme certificate never does"
        )
    match = re.search(rb"startxref\s+(\d{1,10})\s", data[-2048:] + b"\n")
    if match is None:
        raise NotACertificateError("the file has no readable end (startxref)")
    offset = int(match.group(1))
    if data[offset : offset + 4] != b"xref":
        raise NotACertificateError("the file has no classic cross-reference table")
    trailer_at = data.find(b"trailer", offset)
    if trailer_at < 0 or trailer_at - offset > (MAX_OBJECTS + 16) * 21:
        raise NotACertificateError(f"more than {MAX_OBJECTS} objects: not a certificate")
    size = re.search(rb"/Size\s+(\d{1,10})", data[trailer_at : trailer_at + 4096])
    if size is None or int(size.group(1)) > MAX_OBJECTS + 1:
        raise NotACertificateError(f"more than {MAX_OBJECTS} objects: not a certificate")
    return revisions == 2


_STREAM_HEAD = re.compile(rb"\s*\d+\s+\d+\s+obj\s*<<[^()]{0,4096}?>>\s*stream\r?\n")


def _check_object_sizes(reader: PdfReader, data: bytes) -> None:
    """Bound the parsing: the bytes pypdf will parse as objects (everything but stream data).

    A stream whose dictionary (no strings, at most 4 KB) is followed by `stream` counts only
    its dictionary; any other object counts all its bytes, up to the next object. An object
    listed under several numbers counts once per number.
    """
    offsets = sorted(
        {offset for table in reader.xref.values() for offset in table.values() if offset}
    )
    ends = dict(zip(offsets, [*offsets[1:], len(data)], strict=True))
    parsed = 0
    for table in reader.xref.values():
        for offset in table.values():
            if not offset:
                continue
            if not 0 < offset < len(data):
                raise NotACertificateError("the cross-reference table points outside the file")
            head = _STREAM_HEAD.match(data, offset, min(ends[offset], offset + 8192))
            parsed += head.end() - offset if head else ends[offset] - offset
            if parsed > _MAX_PARSED_BYTES:
                raise NotACertificateError("too many or too large objects for a certificate")


class _Walker:
    """Canonical, bounded serialisation of an object graph into a hash."""

    def __init__(self, signature: SignatureParts | None = None) -> None:
        self.signature = signature
        self.root: tuple[int, int] | None = None
        self.current: tuple[int, int] | None = None
        self.hash = hashlib.sha256(b"balint-cme page digest 1\x00")
        self.numbers: dict[tuple[int, int], int] = {}
        self.queue: list[IndirectObject] = []
        self.entries = 0

    def reference(self, ref: IndirectObject) -> None:
        identity = (ref.idnum, ref.generation)
        number = self.numbers.get(identity)
        if number is None:
            if len(self.numbers) >= MAX_OBJECTS:
                raise NotACertificateError(f"more than {MAX_OBJECTS} objects: not a certificate")
            number = len(self.numbers)
            self.numbers[identity] = number
            self.queue.append(ref)
        self.hash.update(b"R%d;" % number)

    def run(self) -> bytes:
        index = 0
        while index < len(self.queue):
            ref = self.queue[index]
            self.hash.update(b"obj%d;" % index)
            self.current = (ref.idnum, ref.generation)
            self.value(ref.get_object(), 0)
            index += 1
        return self.hash.digest()

    def count(self, how_many: int) -> None:
        self.entries += how_many
        if self.entries > _MAX_ENTRIES:
            raise NotACertificateError("too many objects: not a certificate")

    def value(self, obj: PdfObject | None, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise NotACertificateError("objects nested too deeply: not a certificate")
        update = self.hash.update
        if isinstance(obj, IndirectObject):
            self.reference(obj)
        elif isinstance(obj, StreamObject):
            self.dictionary(obj, depth, skip=("/Length",))
            # The raw bytes as stored (still compressed): nothing is decoded.
            raw: bytes = obj._data  # pypdf keeps the undecoded bytes here
            update(b"stream%d:" % len(raw) + hashlib.sha256(raw).digest())
        elif isinstance(obj, DictionaryObject):
            self.dictionary(obj, depth)
        elif isinstance(obj, ArrayObject):
            self.count(len(obj))
            update(b"[%d" % len(obj))
            for item in obj:
                self.value(item, depth + 1)
            update(b"]")
        elif obj is None or isinstance(obj, NullObject):
            update(b"null;")
        elif isinstance(obj, BooleanObject):
            update(b"true;" if obj else b"false;")
        elif isinstance(obj, NumberObject):
            update(b"i%d;" % obj)
        elif isinstance(obj, FloatObject):
            update(b"f" + repr(float(obj)).encode("ascii") + b";")
        elif isinstance(obj, NameObject):
            encoded = obj.encode("utf-8", "surrogatepass")
            update(b"n%d:" % len(encoded) + encoded)
        else:  # strings: as pypdf writes them (a function of their bytes)
            buffer = io.BytesIO()
            obj.write_to_stream(buffer)
            encoded = buffer.getvalue()
            update(type(obj).__name__.encode() + b"%d:" % len(encoded) + encoded)

    def dictionary(self, obj: DictionaryObject, depth: int, skip: tuple[str, ...] = ()) -> None:
        self.count(len(obj))
        if depth == 0 and self.signature is not None:
            obj = self._without_signature(obj)
        keys = sorted(str(key) for key in obj if str(key) not in skip)
        self.hash.update(b"<<%d" % len(keys))
        for key in keys:
            if key in _FORBIDDEN_KEYS:
                raise NotACertificateError(
                    f"the file contains {key}, which a certificate never has"
                )
            self.value(NameObject(key), depth + 1)
            self.value(obj.raw_get(key), depth + 1)
        self.hash.update(b">>")

    def _without_signature(self, obj: DictionaryObject) -> DictionaryObject:
        """The catalog and the page as they were before the signature update."""
        parts = self.signature
        assert parts is not None
        if self.current == self.root:
            return DictionaryObject(
                {k: v for k, v in obj.items() if str(k) not in parts.catalog_keys}
            )
        if self.current == parts.page:
            annotations = obj.get("/Annots")
            if isinstance(annotations, ArrayObject):
                kept = ArrayObject(
                    item
                    for item in annotations
                    if not (
                        isinstance(item, IndirectObject)
                        and (item.idnum, item.generation) == parts.widget
                    )
                )
                copy = DictionaryObject(obj.items())
                if kept:
                    copy[NameObject("/Annots")] = kept
                else:  # the page had no annotations before the signature's widget
                    del copy[NameObject("/Annots")]
                return copy
        return obj


def _get(dictionary: DictionaryObject, key: str) -> Any:
    """An entry with indirect references resolved (pypdf's .get does not resolve them)."""
    value = dictionary.get(key)
    return value.get_object() if isinstance(value, IndirectObject) else value


def _check_page_tree(root: DictionaryObject, widget: tuple[int, int] | None = None) -> None:
    pages = _get(root, "/Pages")
    if not isinstance(pages, DictionaryObject):
        raise NotACertificateError("the file has no pages")
    kids = _get(pages, "/Kids")
    count = _get(pages, "/Count")
    if not isinstance(kids, ArrayObject) or len(kids) != 1 or count != 1:
        raise NotACertificateError("a certificate has exactly one page")
    page = kids[0].get_object()
    if not isinstance(page, DictionaryObject) or page.get("/Type") != "/Page":
        raise NotACertificateError("a certificate has exactly one page")
    annotations = _get(page, "/Annots")
    for annotation in annotations if annotations is not None else ():
        if (
            isinstance(annotation, IndirectObject)
            and (
                annotation.idnum,
                annotation.generation,
            )
            == widget
        ):
            continue  # the signature's invisible widget (signature_check.signature_parts)
        _check_link(annotation.get_object())


def _check_link(annotation: Any) -> None:
    """Only plain web links (what a verify URL could be): no appearance, no other action."""
    if not isinstance(annotation, DictionaryObject) or annotation.get("/Subtype") != "/Link":
        raise NotACertificateError("the page carries annotations a certificate never has")
    action = _get(annotation, "/A")
    if "/AP" in annotation or "/Dest" in annotation:
        raise NotACertificateError("the page carries a link a certificate never has")
    if action is not None and (
        not isinstance(action, DictionaryObject) or action.get("/S") != "/URI"
    ):
        raise NotACertificateError("the page carries a link a certificate never has")


def page_digest(reader: PdfReader, signature: SignatureParts | None = None) -> bytes:
    """The digest of everything a viewer can show: /Root's graph and /Info without the seal
    (and without `signature`, the structure of a signed certificate's signature)."""
    walker = _Walker(signature)
    trailer = reader.trailer
    info = _get(trailer, "/Info")
    info_entries = DictionaryObject()
    if info is not None:
        if not isinstance(info, DictionaryObject):
            raise NotACertificateError("the document information is damaged")
        for key in info:
            if str(key) != PAGE_SEAL_KEY:
                info_entries[NameObject(str(key))] = info.raw_get(key)
    root = trailer.raw_get("/Root")
    if not isinstance(root, IndirectObject):
        raise NotACertificateError("the file has no document catalog")
    walker.hash.update(b"info;")
    walker.value(info_entries, 0)
    walker.hash.update(b"root;")
    walker.root = (root.idnum, root.generation)
    walker.reference(root)
    return walker.run()


def inspect_certificate_pdf(data: bytes) -> InspectedPdf:
    """Structure checks, then the digest; raises NotACertificateError with the reason."""
    updated = _check_bytes(data)
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        _check_object_sizes(reader, data)
        trailer = reader.trailer
        allowed = _TRAILER_KEYS | {"/Prev"} if updated else _TRAILER_KEYS
        for key in trailer:
            if str(key) not in allowed:
                raise NotACertificateError(f"the file's trailer has {key}, a certificate's never")
        root = trailer["/Root"].get_object()
        if not isinstance(root, DictionaryObject):
            raise NotACertificateError("the file has no document catalog")
        signature = _signature(reader, updated)
        _check_page_tree(root, None if signature is None else signature.widget)
        digest = page_digest(reader, signature)
        info_object = trailer.get("/Info")
        info: dict[str, Any] = {}
        if info_object is not None:
            for key, value in info_object.get_object().items():
                info[str(key)] = value
    except NotACertificateError:
        raise
    except RecursionError as err:
        raise NotACertificateError("objects nested too deeply: not a certificate") from err
    except Exception as err:  # pypdf raises many exception types for damaged files
        raise NotACertificateError(f"not a readable PDF ({type(err).__name__})") from err
    return InspectedPdf(info=info, digest=digest, signed=signature is not None)


def _signature(reader: PdfReader, updated: bool) -> SignatureParts | None:
    """The signature structure of the update, or None for a file of one revision."""
    if not updated:
        return None
    try:
        parts = signature_parts(reader)
    except SignatureShapeError as err:
        raise NotACertificateError(str(err)) from err
    if parts is None:
        raise NotACertificateError(
            "the file has been updated after it was written (more than one revision)"
        )
    return parts


def compute_page_seal(key: SigningKey, code: str, canonical_claims: bytes, digest: bytes) -> str:
    """The page seal: HMAC over the code, the canonical claims and the page digest."""
    message = b"\x00".join(
        (b"balint-cme page seal 1", key.key_id.encode(), code.encode(), canonical_claims, digest)
    )
    mac = key.mac(message)[:_SEAL_BYTES]
    return _SEAL_PREFIX + base64.b32encode(mac).decode("ascii").rstrip("=")


def is_page_seal(value: str) -> bool:
    """Whether `value` is shaped like a page seal (not the placeholder)."""
    return _SEAL_PATTERN.fullmatch(value) is not None


def apply_page_seal(data: bytes, seal: str) -> bytes:
    """Replace the placeholder with `seal` (same length: no offset moves)."""
    placeholder = PAGE_SEAL_PLACEHOLDER.encode("ascii")
    if len(seal) != len(PAGE_SEAL_PLACEHOLDER) or data.count(placeholder) != 1:
        raise ValueError("the page-seal placeholder is missing or repeated")
    return data.replace(placeholder, seal.encode("ascii"))
