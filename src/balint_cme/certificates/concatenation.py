"""The streaming PDF concatenator: many multi-page certificate PDFs become one, in flat memory.

render_batch's merged PDF for printing is stitched together from the workers' chunks as they
arrive (`PdfConcatenation.add`), each object copied with renumbered references and written
straight to the output handle; `finish` writes the merged file's own PDF/A-3b document level,
cross-reference table and trailer. It reads only what render_pages() writes.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from array import array
from datetime import date
from typing import IO

from balint_cme.certificates.archive import (
    DOCUMENT_LANGUAGE,
    PDF_VERSION,
    pdf_date,
    srgb_profile,
    xmp_packet,
)
from balint_cme.errors import CertificateError

__all__ = ["PdfConcatenation"]


_REFERENCE = re.compile(rb"(?<![\w.])(\d+) 0 R(?![\w])")
_SUBSET_TAG = re.compile(rb"/([A-Z]{6})\+")


class PdfConcatenation:
    """Appends reportlab's multi-page PDFs to one output PDF without holding them in memory.

    Handles exactly what render_pages() writes: a classic xref table, one Catalog, one flat
    Pages node, an Info dictionary, no object streams. Every object except those three and
    the chunk's document-level objects (XMP, output intent profile, viewer preferences) is
    copied with renumbered references; streams are copied byte for byte. The merged file gets
    its own PDF/A-3b document level when finished (one XMP packet, one sRGB output intent,
    /Lang, DisplayDocTitle). A font subset whose tag an earlier chunk already used (the same
    subset drawn again) is given a new tag, so every tag in the file is unique. Only the
    object offsets, page numbers and the tags used stay in memory (a few bytes per page).
    """

    _PAGES = 1
    _CATALOG = 2
    _INFO = 3

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._offsets = array("q", [0, 0, 0, 0])
        self._pages = array("q")
        self._position = 0
        self._chunks = 0
        self._hash = hashlib.sha256()
        self._tags: set[bytes] = set()
        self._write(b"%%PDF-%d.%d\n%%\xe2\xe3\xcf\xd3\n" % PDF_VERSION)

    def _write(self, data: bytes) -> None:
        self._handle.write(data)
        self._hash.update(data)
        self._position += len(data)

    def _next_number(self) -> int:
        self._offsets.append(0)
        return len(self._offsets) - 1

    def add(self, pdf: bytes) -> None:
        objects, root, info = _parse_classic_pdf(pdf)
        catalog = objects[root]
        pages_match = re.search(rb"/Pages (\d+) 0 R", catalog)
        if pages_match is None:
            raise CertificateError("internal: a rendered chunk has no page tree")
        pages_node = int(pages_match.group(1))
        kids_match = re.search(rb"/Kids \[([^\]]*)\]", objects[pages_node])
        if kids_match is None:
            raise CertificateError("internal: a rendered chunk lists no pages")
        dropped = {root, pages_node, info}
        for key in (b"Outlines", b"Metadata", b"ViewerPreferences", b"DestOutputProfile"):
            found = re.search(rb"/" + key + rb" (\d+) 0 R", catalog)
            if found:
                dropped.add(int(found.group(1)))
        numbers = {old: self._next_number() for old in objects if old not in dropped}
        numbers[pages_node] = self._PAGES
        chunk = self._chunks
        self._chunks += 1
        tags: dict[bytes, bytes] = {}

        def retag(match: re.Match[bytes]) -> bytes:
            original = match.group(1)
            if original not in tags:
                tags[original] = _unused_tag(original, chunk, self._tags)
            return b"/" + tags[original] + b"+"

        def renumber(match: re.Match[bytes]) -> bytes:
            old = int(match.group(1))
            if old not in numbers:
                raise CertificateError("internal: a rendered chunk refers to a dropped object")
            return b"%d 0 R" % numbers[old]

        for old, body in objects.items():
            if old in dropped:
                continue
            split = body.find(b"stream", body.find(b">>"))
            head, tail = (body, b"") if split < 0 else (body[:split], body[split:])
            head = _REFERENCE.sub(renumber, head)
            head = _SUBSET_TAG.sub(retag, head)
            self._offsets[numbers[old]] = self._position
            self._write(b"%d 0 obj\n" % numbers[old] + head + tail + b"\nendobj\n")
        for kid in _REFERENCE.finditer(kids_match.group(1)):
            self._pages.append(numbers[int(kid.group(1))])

    def _object(self, number: int, body: bytes) -> None:
        self._offsets[number] = self._position
        self._write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    def finish(self, *, title: str, author: str, subject: str, created_on: date) -> None:
        kids = b" ".join(b"%d 0 R" % number for number in self._pages)
        self._object(
            self._PAGES, b"<< /Type /Pages /Count %d /Kids [ %s ] >>" % (len(self._pages), kids)
        )
        creator = producer = "balint_cme"
        packet = xmp_packet(
            title=title,
            author=author,
            subject=subject,
            creator_tool=creator,
            producer=producer,
            created_on=created_on,
        )
        metadata = self._next_number()
        self._object(
            metadata,
            b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream"
            % (len(packet), packet),
        )
        profile = zlib.compress(srgb_profile())
        icc = self._next_number()
        self._object(
            icc,
            b"<< /N 3 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
            % (len(profile), profile),
        )
        condition = b"(sRGB IEC61966-2.1)"
        self._object(
            self._CATALOG,
            b"<< /Type /Catalog /Pages 1 0 R /PageMode /UseNone /Lang %s"
            b" /ViewerPreferences << /DisplayDocTitle true >> /Metadata %d 0 R"
            b" /OutputIntents [ << /Type /OutputIntent /S /GTS_PDFA1"
            b" /OutputConditionIdentifier %s /Info %s /RegistryName (http://www.color.org)"
            b" /DestOutputProfile %d 0 R >> ] >>"
            % (_pdf_text(DOCUMENT_LANGUAGE), metadata, condition, condition, icc),
        )
        stamp = _pdf_text(pdf_date(created_on))
        self._object(
            self._INFO,
            b"<< /Title %s /Author %s /Subject %s /Creator %s /Producer %s"
            b" /CreationDate %s /ModDate %s >>"
            % (
                _pdf_text(title),
                _pdf_text(author),
                _pdf_text(subject),
                _pdf_text(creator),
                _pdf_text(producer),
                stamp,
                stamp,
            ),
        )
        identity = self._hash.hexdigest()[:32].encode()
        start = self._position
        rows = [b"xref\n0 %d\n" % len(self._offsets), b"0000000000 65535 f \n"]
        rows.extend(b"%010d 00000 n \n" % offset for offset in self._offsets[1:])
        self._write(b"".join(rows))
        self._write(
            b"trailer\n<< /Size %d /Root 2 0 R /Info 3 0 R /ID [<%s><%s>] >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self._offsets), identity, identity, start)
        )

    @property
    def sha256(self) -> str:
        """Of everything written so far (the whole file once finished)."""
        return self._hash.hexdigest()


def _unused_tag(original: bytes, chunk: int, used: set[bytes]) -> bytes:
    """`original` if no earlier chunk used it, else six letters hashed from it and the chunk
    (hashed again until unused); the result is added to `used`."""
    tag = original
    digest = hashlib.sha256(b"%s:%d" % (original, chunk)).digest()
    while tag in used:
        value = int.from_bytes(digest[:8], "big")
        letters = bytearray()
        for _ in range(6):
            value, digit = divmod(value, 26)
            letters.append(ord("A") + digit)
        tag = bytes(letters)
        digest = hashlib.sha256(digest).digest()
    used.add(tag)
    return tag


def _pdf_text(text: str) -> bytes:
    """A PDF text string: literal when plain ASCII, else UTF-16BE with a byte-order mark."""
    if text.isascii() and text.isprintable():
        return b"(" + re.sub(rb"([()\\])", rb"\\\1", text.encode("ascii")) + b")"
    return b"<feff" + text.encode("utf-16-be").hex().encode() + b">"


def _parse_classic_pdf(pdf: bytes) -> tuple[dict[int, bytes], int, int]:
    """Objects (number → bytes between "N 0 obj" and "endobj"), the Root and the Info numbers."""
    start_match = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", pdf)
    if start_match is None:
        raise CertificateError("internal: a rendered chunk has no cross-reference table")
    xref_at = int(start_match.group(1))
    header = re.match(rb"xref\s+0 (\d+)\s+", pdf[xref_at:])
    if header is None:
        raise CertificateError("internal: a rendered chunk has an unexpected xref table")
    count = int(header.group(1))
    table = pdf[xref_at + header.end() : xref_at + header.end() + 20 * count]
    offsets = [int(table[20 * i : 20 * i + 10]) for i in range(1, count)]
    bounds = sorted((*offsets, xref_at))
    following = {offset: bounds[i + 1] for i, offset in enumerate(bounds[:-1])}
    objects: dict[int, bytes] = {}
    for number, offset in enumerate(offsets, start=1):
        raw = pdf[offset : following[offset]]
        body_start = raw.index(b"obj") + 3
        body_end = raw.rindex(b"endobj")
        objects[number] = raw[body_start:body_end].strip(b"\r\n")
    trailer = pdf[xref_at:]
    root = re.search(rb"/Root (\d+) 0 R", trailer)
    info = re.search(rb"/Info (\d+) 0 R", trailer)
    if root is None or info is None:
        raise CertificateError("internal: a rendered chunk has no Root or Info")
    return objects, int(root.group(1)), int(info.group(1))
