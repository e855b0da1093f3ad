"""render_pdf(certificate, layout) -> bytes: the certificate as a PDF document.

The document around the page (page.py draws it): reportlab's canvas set up for identical
bytes from identical certificates, the document information (title, author, the claims and
seal for offline verification, the page-seal placeholder), the embedded JSON claims file and
the PDF/A-3b structure (archive.py), and with the key, the page seal binding everything the
file displays to the claims (page_seal.py). Every character is checked against the embedded
fonts once per certificate (fontset.check_renderable) before anything is drawn, so a
certificate either prints every character or fails with UnrenderableTextError naming them.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, cast

from reportlab import rl_config
from reportlab.pdfbase.pdfdoc import PDFDate, PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfgen.canvas import Canvas

from balint_cme.certificates.archive import (
    ATTACHMENT_NAME,
    PDF_VERSION,
    Attachment,
    make_archival,
)
from balint_cme.certificates.content import Certificate
from balint_cme.certificates.fontset import FontSet, check_renderable, fonts_for
from balint_cme.certificates.keys import KeyRing, SigningKey
from balint_cme.certificates.layout import DEFAULT_LAYOUT, CertificateLayout
from balint_cme.certificates.page import Page
from balint_cme.certificates.page_seal import PAGE_SEAL_KEY, PAGE_SEAL_PLACEHOLDER
from balint_cme.certificates.seal import CLAIMS_FORMAT, metadata_record
from balint_cme.certificates.typesetting import Typesetter
from balint_cme.certificates.verification import seal_page
from balint_cme.certificates.wording import document_title
from balint_cme.errors import CertificateError

__all__ = [
    "check_renderable",
    "render_checked",
    "render_pages",
    "render_pages_checked",
    "render_pdf",
    "text_boxes",
]


class _IssueDate:
    """A reportlab TimeStamp look-alike: the PDF's dates are the issue date, not 'now'."""

    def __init__(self, day: date) -> None:
        self.YMDhms = (day.year, day.month, day.day, 0, 0, 0)
        self.dhh = 0
        self.dmm = 0


class _CertificateInfo(PDFInfo):
    """Document information: title and author for people, the claims for verifiers."""

    def __init__(
        self, *, title: str, author: str, subject: str, issued_on: date, extra: dict[str, str]
    ) -> None:
        super().__init__()
        self.title = title
        self.author = author
        self.subject = subject
        self.creator = "balint_cme"
        self.keywords = ""
        self.issued_on = issued_on
        self._extra = extra

    def format(self, document: Any) -> bytes:
        stamp = PDFDate(ts=_IssueDate(self.issued_on))
        entries: dict[str, object] = {
            "Title": PDFString(self.title),
            "Author": PDFString(self.author),
            "Subject": PDFString(self.subject),
            "Creator": PDFString(self.creator),
            "Producer": PDFString(self.producer),
            "CreationDate": stamp,
            "ModDate": stamp,
            "Trapped": PDFName("False"),
        }
        for key, value in self._extra.items():
            entries[key] = PDFString(value)
        formatted: bytes = PDFDictionary(entries).format(document)
        return formatted


@contextlib.contextmanager
def _binary_streams() -> Iterator[None]:
    # reportlab wraps every stream in ASCII85 by default: 25 % larger and slower to write. The
    # switch is global in reportlab, so it is set only while a document is being made.
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


def _new_canvas(buffer: io.BytesIO, layout: CertificateLayout, fonts: FontSet) -> Canvas:
    # invariant=True: no timestamp or random id, so equal certificates give equal bytes.
    # initialFontName: otherwise every page lists Helvetica, a standard-14 font never drawn.
    return Canvas(
        buffer,
        pagesize=layout.page_size,
        invariant=True,
        pageCompression=1,
        initialFontName=fonts.primary["regular"],  # type: ignore[arg-type]  # stubs say float
        pdfVersion=PDF_VERSION,
    )


def _draw(
    canvas: Canvas, certificate: Certificate, layout: CertificateLayout, setter: Typesetter
) -> None:
    Page(canvas, layout, setter).draw(certificate)
    canvas.showPage()


def render_pdf(
    certificate: Certificate,
    layout: CertificateLayout = DEFAULT_LAYOUT,
    *,
    key: SigningKey | KeyRing | None = None,
) -> bytes:
    """Draw one certificate and return the PDF bytes (its claims and seal in the metadata).

    With `key` (the key, or a ring holding the key, that sealed the certificate's claims) the
    page is sealed too, so verify_pdf can prove the file shows exactly the sealed claims.
    Without it the page-seal entry holds a placeholder (verify then cannot prove the page):
    render_batch seals such files in the parent process, where the key lives.

    Raises:
        UnrenderableTextError: some character has no glyph in the configured fonts.
        CertificateError: a configured font or image cannot be used, or the text cannot fit.
    """
    check_renderable(certificate, layout)
    return render_checked(certificate, layout, key=key)


def render_checked(
    certificate: Certificate,
    layout: CertificateLayout = DEFAULT_LAYOUT,
    *,
    key: SigningKey | KeyRing | None = None,
) -> bytes:
    """render_pdf for a certificate whose characters check_renderable has already proven
    drawable in `layout` (render_batch checks in the parent and draws in its workers).

    Raises:
        CertificateError: as render_pdf (a character without a glyph is not detected here).
    """
    fonts = fonts_for(layout)
    setter = Typesetter(fonts)
    buffer = io.BytesIO()
    with _binary_streams():
        canvas = _new_canvas(buffer, layout, fonts)
        record = metadata_record(certificate.claims, certificate.seal)
        info = _CertificateInfo(
            title=document_title(certificate),
            author=certificate.provider,
            subject=certificate.series_title,
            issued_on=certificate.issued_on,
            extra={
                "BalintCmeCertificate": record,
                # A fixed-width placeholder, replaced in place once the digest is known.
                PAGE_SEAL_KEY.removeprefix("/"): PAGE_SEAL_PLACEHOLDER,
            },
        )
        cast(Any, canvas)._doc.info = info
        _archival(
            canvas,
            info,
            certificate={
                "CertificateNumber": certificate.number,
                "ClaimsFormat": CLAIMS_FORMAT,
                "ClaimsFile": ATTACHMENT_NAME,
            },
            attachments=(
                Attachment(
                    name=ATTACHMENT_NAME,
                    data=record.encode("ascii"),
                    mime_type="application/json",
                    description=f"Claims and seal of certificate {certificate.number} (JSON)",
                    # /Data: the information the page presents, in machine-readable form.
                    relationship="Data",
                    modified_on=certificate.issued_on,
                ),
            ),
        )
        _draw(canvas, certificate, layout, setter)
        canvas.save()
    data = buffer.getvalue()
    if key is not None:
        data = seal_page(data, certificate.claims, certificate.seal, key)
    return data


def _archival(
    canvas: Canvas,
    info: _CertificateInfo,
    *,
    certificate: dict[str, str] | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> None:
    """PDF/A-3b structure whose XMP repeats the document information exactly."""
    make_archival(
        canvas,
        title=info.title,
        author=info.author,
        subject=info.subject,
        creator_tool=info.creator,
        producer=info.producer,
        created_on=info.issued_on,
        certificate=certificate,
        attachments=attachments,
    )


def text_boxes(
    certificate: Certificate, layout: CertificateLayout = DEFAULT_LAYOUT
) -> list[tuple[float, float, float, float]]:
    """Where each line of text lands: (left, baseline, width, size) in points, for checks.

    Raises:
        UnrenderableTextError, CertificateError: as render_pdf.
    """
    check_renderable(certificate, layout)
    fonts = fonts_for(layout)
    with _binary_streams():
        page = Page(_new_canvas(io.BytesIO(), layout, fonts), layout, Typesetter(fonts))
        page.draw(certificate)
    return page.boxes


def render_pages(
    certificates: Iterable[Certificate], layout: CertificateLayout = DEFAULT_LAYOUT
) -> bytes:
    """Many certificates as the pages of one PDF, for printing (no per-certificate claims).

    Raises:
        UnrenderableTextError, CertificateError: as render_pdf.
    """
    return _pages(certificates, layout, check=True)


def render_pages_checked(
    certificates: Iterable[Certificate], layout: CertificateLayout = DEFAULT_LAYOUT
) -> bytes:
    """render_pages for certificates check_renderable has already proven drawable in `layout`.

    Raises:
        CertificateError: as render_pdf (a character without a glyph is not detected here).
    """
    return _pages(certificates, layout, check=False)


def _pages(certificates: Iterable[Certificate], layout: CertificateLayout, *, check: bool) -> bytes:
    fonts = fonts_for(layout)
    setter = Typesetter(fonts)
    buffer = io.BytesIO()
    with _binary_streams():
        canvas = _new_canvas(buffer, layout, fonts)
        first: Certificate | None = None
        count = 0
        for certificate in certificates:
            if check:
                check_renderable(certificate, layout)
            first = first or certificate
            _draw(canvas, certificate, layout, setter)
            count += 1
        if first is None:
            raise CertificateError("no certificates to render")
        info = _CertificateInfo(
            title=f"{count} certificates: {first.series_title}",
            author=first.provider,
            subject=first.series_title,
            issued_on=first.issued_on,
            extra={},
        )
        cast(Any, canvas)._doc.info = info
        _archival(canvas, info)
        canvas.save()
    return buffer.getvalue()
