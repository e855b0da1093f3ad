"""Render many certificates: one file each, or one merged PDF; both cores; flat memory.

Certificates are taken from any iterable (a generator keeps even the input out of memory),
cut into chunks and rendered by a pool of worker processes with a bounded number of chunks
in flight, so memory does not grow with the batch. Separate files are named from the
certificate number through `safe_slug` (never from a person's name) and written atomically by
the workers. A merged PDF is stitched together from the workers' multi-page chunks as they
arrive, streaming to a temporary file that is renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import re
import tempfile
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import IO, Annotated

from pydantic import Field

from balint_cme.certificates.archive import (
    DOCUMENT_LANGUAGE,
    PDF_VERSION,
    pdf_date,
    srgb_profile,
    xmp_packet,
)
from balint_cme.certificates.content import Certificate
from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.certificates.layout import DEFAULT_LAYOUT, CertificateLayout
from balint_cme.certificates.page_seal import NotACertificateError, inspect_certificate_pdf
from balint_cme.certificates.pdf import check_renderable, render_pages, render_pdf
from balint_cme.certificates.signing import (
    PreparedSignature,
    SignaturePlan,
    SigningIdentity,
    prepare_signature,
)
from balint_cme.certificates.verification import seal_page
from balint_cme.errors import BalintCmeError, CertificateError
from balint_cme.model import DomainModel
from balint_cme.storage import safe_slug, write_atomically

__all__ = [
    "RenderedFile",
    "certificate_file_name",
    "render_batch",
]

ProgressCallback = Callable[[int], None]
"""Called with the number of certificates just finished (tqdm's `update` fits)."""


class RenderedFile(DomainModel):
    """One certificate written to disk."""

    number: str
    version: int = 1
    path: Path
    sha256: str
    """Of the file's bytes (for a merged PDF: of the whole file)."""
    page: Annotated[int, Field(ge=1)] = 1
    """The certificate's page in the file (1 for separate files)."""
    page_digest: str | None = None
    """Hex digest of everything the file displays (separate files; page_seal.page_digest)."""
    signed: bool = False
    """Whether the file carries a PDF signature (certificates/signing.py)."""


def certificate_file_name(certificate: Certificate) -> str:
    """ "fmms-2020-0007.pdf" from the number ("-v2" added for a reissue); never from a name."""
    stem = safe_slug(certificate.number, max_length=80, fallback="certificate")
    if certificate.version > 1:
        stem += f"-v{certificate.version}"
    return f"{stem}.pdf"


# ---------------------------------------------------------------------------------------------
# Work done in the worker processes (or inline with one worker)


def _render_files(
    layout: CertificateLayout,
    jobs: list[tuple[Certificate, str]],
    plan: SignaturePlan | None = None,
) -> list[tuple[Certificate, str, bytes, bytes, tuple[int, int] | None]]:
    # The keys never leave the parent: the worker draws the page (the seal entry holding a
    # placeholder), computes its digest and, to be signed, writes the signature update with an
    # empty signature (signing.prepare_signature), the costly parts; the parent seals, signs
    # and writes.
    done = []
    for certificate, path in jobs:
        data = render_pdf(certificate, layout)
        try:
            digest = inspect_certificate_pdf(data).digest
        except NotACertificateError as err:
            raise CertificateError(f"certificate {certificate.number}: {err}") from err
        region = None
        if plan is not None:
            try:
                prepared = prepare_signature(plan, data)
            except Exception as err:  # pyHanko's errors: one message for the parent
                raise CertificateError(
                    f"certificate {certificate.number}: cannot prepare its signature: {err}"
                ) from err
            data, region = prepared.data, (prepared.start, prepared.end)
        done.append((certificate, path, data, digest, region))
    return done


def _render_chunk(layout: CertificateLayout, certificates: list[Certificate]) -> bytes:
    return render_pages(certificates, layout)


def _guarded(function: Callable[..., object], *args: object) -> object:
    # Domain errors carry constructor arguments that do not survive pickling back to the
    # parent; send them as plain messages instead.
    try:
        return function(*args)
    except BalintCmeError as err:
        return _Failure(f"{type(err).__name__}: {err}")


class _Failure:
    def __init__(self, message: str) -> None:
        self.message = message


# ---------------------------------------------------------------------------------------------
# Scheduling


def _chunks(items: Iterable[Certificate], size: int) -> Iterator[list[Certificate]]:
    chunk: list[Certificate] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _pool(workers: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    # forkserver/spawn: safe with threads in the parent (a tqdm monitor, a test runner).
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _run_in_order(
    tasks: Iterator[tuple[Callable[..., object], tuple[object, ...], int]],
    workers: int,
) -> Iterator[tuple[object, int]]:
    """Run tasks (function, args, size) in a pool, at most 2 per worker in flight, yielding
    (result, size) in submission order."""
    if workers <= 1:
        for function, args, size in tasks:
            yield _guarded(function, *args), size
        return
    with _pool(workers) as pool:
        pending: deque[tuple[Future[object], int]] = deque()
        try:
            for function, args, size in tasks:
                pending.append((pool.submit(_guarded, function, *args), size))
                if len(pending) >= 2 * workers:
                    future, done_size = pending.popleft()
                    yield future.result(), done_size
            while pending:
                future, done_size = pending.popleft()
                yield future.result(), done_size
        finally:
            for future, _ in pending:
                future.cancel()


def _checked(result: object) -> object:
    if isinstance(result, _Failure):
        raise CertificateError(result.message)
    return result


# ---------------------------------------------------------------------------------------------
# The public entry point


def render_batch(
    certificates: Iterable[Certificate],
    out_dir: Path,
    *,
    layout: CertificateLayout = DEFAULT_LAYOUT,
    workers: int = 2,
    merged: bool = False,
    merged_name: str = "certificates.pdf",
    chunk_size: int = 25,
    progress: ProgressCallback | None = None,
    key: SigningKey | KeyRing | None = None,
    signer: SigningIdentity | None = None,
) -> list[RenderedFile]:
    """Render `certificates` into `out_dir`: one PDF each, or one merged PDF for printing.

    With `signer`, separate files are also signed (PAdES, certificates/signing.py) after
    their page seal; a merged PDF, which is for printing, is not.

    Separate files are page-sealed with `key` (the key, or a ring of the keys, that sealed
    the certificates' claims), in this process: the key is never sent to a worker. Without a
    key the files carry no page seal and verify cannot prove their page ("could-not-check").

    File names come from certificate numbers (`certificate_file_name`); two numbers that slug
    alike get a short hash so nothing is overwritten. Every file is written atomically. With
    `workers` > 1 the rendering runs in that many processes. `progress(n)` is called as each
    chunk of n certificates finishes.

    Raises:
        CertificateError: a certificate number repeats (same version), a certificate cannot be
            drawn (UnrenderableTextError names the characters), or the folder cannot be written.
            Files finished before the failure stay; a merged PDF is not left half-written.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CertificateError(f"cannot create output folder {out_dir}: {err.strerror}") from err
    checked = _precheck(certificates, layout)
    if merged:
        name = safe_slug(merged_name.removesuffix(".pdf"), fallback="certificates") + ".pdf"
        return _render_merged(checked, out_dir / name, layout, workers, chunk_size, progress)
    return _render_separate(checked, out_dir, layout, workers, chunk_size, progress, key, signer)


def _precheck(
    certificates: Iterable[Certificate], layout: CertificateLayout
) -> Iterator[Certificate]:
    seen: set[tuple[str, int]] = set()
    for certificate in certificates:
        identity = (certificate.number, certificate.version)
        if identity in seen:
            raise CertificateError(
                f"certificate number {certificate.number} (version {certificate.version}) "
                "appears twice in the batch"
            )
        seen.add(identity)
        # In the parent, so an unrenderable name fails with its own error type and names.
        check_renderable(certificate, layout)
        yield certificate


def _render_separate(
    certificates: Iterator[Certificate],
    out_dir: Path,
    layout: CertificateLayout,
    workers: int,
    chunk_size: int,
    progress: ProgressCallback | None,
    key: SigningKey | KeyRing | None,
    signer: SigningIdentity | None = None,
) -> list[RenderedFile]:
    used: set[str] = set()
    plan = None if signer is None else signer.plan

    def file_for(certificate: Certificate) -> str:
        name = certificate_file_name(certificate)
        if name in used:
            digest = hashlib.sha256(
                f"{certificate.number}\x00{certificate.version}".encode()
            ).hexdigest()[:10]
            name = f"{name.removesuffix('.pdf')}-{digest}.pdf"
        used.add(name)
        return str(out_dir / name)

    tasks = (
        (_render_files, (layout, [(c, file_for(c)) for c in chunk], plan), len(chunk))
        for chunk in _chunks(certificates, chunk_size)
    )
    rendered: list[RenderedFile] = []
    try:
        for result, size in _run_in_order(tasks, workers):
            for certificate, path, data, digest, region in _checked(result):  # type: ignore[attr-defined]
                if key is not None:
                    data = seal_page(data, certificate.claims, certificate.seal, key, digest=digest)
                if signer is not None and region is not None:
                    data = signer.finish(PreparedSignature(data, *region))
                write_atomically(Path(path), data)
                rendered.append(
                    RenderedFile(
                        number=certificate.number,
                        version=certificate.version,
                        path=Path(path),
                        sha256=hashlib.sha256(data).hexdigest(),
                        page_digest=digest.hex(),
                        signed=signer is not None and region is not None,
                    )
                )
            if progress is not None:
                progress(size)
    except OSError as err:
        raise CertificateError(f"cannot write certificates to {out_dir}: {err}") from err
    return rendered


def _render_merged(
    certificates: Iterator[Certificate],
    target: Path,
    layout: CertificateLayout,
    workers: int,
    chunk_size: int,
    progress: ProgressCallback | None,
) -> list[RenderedFile]:
    identities: list[tuple[str, int]] = []
    first: list[Certificate] = []

    def remember(chunk: list[Certificate]) -> list[Certificate]:
        identities.extend((c.number, c.version) for c in chunk)
        if not first and chunk:
            first.append(chunk[0])
        return chunk

    tasks = (
        (_render_chunk, (layout, remember(chunk)), len(chunk))
        for chunk in _chunks(certificates, chunk_size)
    )
    try:
        with _atomic_output(target) as handle:
            merger = _PdfConcatenation(handle)
            for result, size in _run_in_order(tasks, workers):
                merger.add(_checked(result))  # type: ignore[arg-type]
                if progress is not None:
                    progress(size)
            if not identities:
                raise CertificateError("no certificates to render")
            merger.finish(
                title=f"{len(identities)} certificates: {first[0].series_title}",
                author=first[0].provider,
                subject=first[0].series_title,
                created_on=first[0].issued_on,
            )
            digest = merger.sha256
    except OSError as err:
        raise CertificateError(f"cannot write {target}: {err}") from err
    return [
        RenderedFile(number=number, version=version, path=target, sha256=digest, page=page)
        for page, (number, version) in enumerate(identities, start=1)
    ]


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A file handle whose contents appear at `path` only when the block completes.

    The streaming twin of storage.write_atomically: temporary file in the same folder,
    flushed and fsynced, then renamed over `path`; removed on any failure.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


# ---------------------------------------------------------------------------------------------
# Streaming PDF concatenation


_REFERENCE = re.compile(rb"(?<![\w.])(\d+) 0 R(?![\w])")
_SUBSET_TAG = re.compile(rb"/([A-Z]{6})\+")


class _PdfConcatenation:
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
