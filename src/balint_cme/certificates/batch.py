"""Render many certificates: one file each, or one merged PDF; both cores; flat memory.

Certificates are taken from any iterable (a generator keeps even the input out of memory),
cut into chunks and rendered by a pool of worker processes with a bounded number of chunks
in flight, so memory does not grow with the batch. Separate files are named from the
certificate number through `safe_slug` (never from a person's name), drawn by the workers
and sealed and written atomically by this process (the key never leaves it). A merged PDF is
stitched together from the workers' multi-page chunks as they arrive (concatenation.py),
streaming to a temporary file that is renamed into place only when complete
(storage.atomic_output). Fonts are checked once per certificate, here, before the workers.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Annotated

from pydantic import Field

from balint_cme.certificates.concatenation import PdfConcatenation
from balint_cme.certificates.content import Certificate
from balint_cme.certificates.fontset import check_renderable
from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.certificates.layout import DEFAULT_LAYOUT, CertificateLayout
from balint_cme.certificates.page_seal import NotACertificateError, inspect_certificate_pdf
from balint_cme.certificates.pdf import render_checked, render_pages_checked
from balint_cme.certificates.signing import (
    PreparedSignature,
    SignaturePlan,
    SigningIdentity,
    prepare_signature,
)
from balint_cme.certificates.verification import seal_page
from balint_cme.errors import BalintCmeError, CertificateError
from balint_cme.model import DomainModel
from balint_cme.storage import atomic_output, safe_slug, write_atomically

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
        data = render_checked(certificate, layout)  # checked once, in the parent (_precheck)
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
    return render_pages_checked(certificates, layout)  # checked in the parent (_precheck)


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
    fonts_checked: bool = False,
    signer: SigningIdentity | None = None,
    sync: bool = True,
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
    chunk of n certificates finishes. `fonts_checked`: the caller has already run
    check_renderable on every certificate (certify checks before numbering), so it is not run
    again. Otherwise each certificate is checked once, in this process, before it goes to a
    worker (the workers only draw).
    `sync=False` (separate files into a fresh folder only, e.g. certify's staging folder):
    each file is written whole under a new name but not synced to disk one by one; the caller
    syncs the whole batch once.

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
    checked = _precheck(certificates, None if fonts_checked else layout)
    if merged:
        name = safe_slug(merged_name.removesuffix(".pdf"), fallback="certificates") + ".pdf"
        return _render_merged(checked, out_dir / name, layout, workers, chunk_size, progress)
    return _render_separate(
        checked, out_dir, layout, workers, chunk_size, progress, key, signer, sync
    )


def _precheck(
    certificates: Iterable[Certificate], layout: CertificateLayout | None
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
        if layout is not None:
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
    sync: bool = True,
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
                if sync:
                    write_atomically(Path(path), data)
                else:
                    _write_new(Path(path), data)
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


def _write_new(path: Path, data: bytes) -> None:
    """Write a new file (never over one) without syncing it: for a batch the caller syncs."""
    handle = path.open("xb")  # an existing file is never touched
    try:
        with handle:
            handle.write(data)
        os.chmod(path, 0o644)  # as write_atomically leaves it
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


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
        with atomic_output(target) as handle:
            merger = PdfConcatenation(handle)
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
