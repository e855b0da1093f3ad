"""The page design: where and how large each part of a certificate is drawn on the canvas.

Blocks of lines (provider, title, name, activity, award, statements) are fitted for a scale
and drawn top to bottom; when they do not fit, the whole page shrinks (down to the layout's
minimum scale) rather than run off the paper. Then the signatures, the footer and the QR code.
The words come from wording.py; the text goes through canvas text objects, never Paragraph
markup, so "<b>" or "&" in a name prints as typed.

About 420 lines: one class, the page's design, kept whole so the design reads top to bottom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from balint_cme.certificates import wording
from balint_cme.certificates.content import Certificate
from balint_cme.certificates.glyphs import ShapedFace, glyph_operators
from balint_cme.certificates.layout import CertificateLayout
from balint_cme.certificates.qr import draw_qr
from balint_cme.certificates.typesetting import Typesetter
from balint_cme.certificates.wording import Span
from balint_cme.errors import CertificateError

__all__ = ["Page"]


@dataclass
class _Block:
    lines: list[list[Span]]
    size: float
    colour: str
    leading: float
    space_after: float
    char_space: float = 0.0
    rule_after: float = 0.0
    """Width of an accent rule drawn under the block (0: none)."""
    image: Path | None = None
    image_height: float = 0.0

    @property
    def height(self) -> float:
        if self.image is not None:
            return self.image_height + self.space_after
        return len(self.lines) * self.size * self.leading + self.space_after


class Page:
    """Draws one certificate on a canvas page."""

    def __init__(self, canvas: Canvas, layout: CertificateLayout, setter: Typesetter) -> None:
        self.canvas = canvas
        self.layout = layout
        self.setter = setter
        self.width, self.height = layout.page_size
        self.margin = layout.margin
        self.text_width = self.width - 2 * self.margin - 24
        self.boxes: list[tuple[float, float, float, float]] = []
        """(left, baseline, width, size) of every line drawn."""

    # -- primitives --------------------------------------------------------------------------

    def colour(self, value: str | None, default: str) -> Color:
        return HexColor(value or default)

    def draw_line(
        self,
        spans: Sequence[Span],
        y: float,
        size: float,
        colour: str,
        *,
        align: Literal["left", "centre", "right"] = "centre",
        x: float | None = None,
        char_space: float = 0.0,
    ) -> None:
        count = sum(len(span.text) for span in spans)
        line_width = self.setter.width(spans, size) + char_space * max(count - 1, 0)
        if align == "centre":
            left = (self.width - line_width) / 2 if x is None else x - line_width / 2
        elif align == "right":
            left = (x if x is not None else self.width - self.margin) - line_width
        else:
            left = x if x is not None else self.margin
        self.boxes.append((left, y, line_width, size))
        # One text object per line: the pieces follow each other, so text extraction reads
        # the line as written, without breaks where the font or colour changes.
        text = self.canvas.beginText(left, y)
        if char_space:
            text.setCharSpace(char_space)
        for span in spans:
            text.setFillColor(self.colour(span.colour, colour))
            for font, piece, rtl in self.setter.runs(span.text, span.style):
                if isinstance(font, ShapedFace):
                    glyphs = font.shape(piece, rtl)
                    cast(Any, text)._code.append(
                        glyph_operators(font, cast(Any, self.canvas)._doc, glyphs, size)
                    )
                    continue
                text.setFont(font, size)
                text.textOut(piece)
        if char_space:
            text.setCharSpace(0)  # the spacing is graphics state: it would outlive this line
        self.canvas.drawText(text)

    # -- the page ----------------------------------------------------------------------------

    def border(self) -> None:
        layout, canvas = self.layout, self.canvas
        if not layout.border:
            return
        inset = max(self.margin * 0.45, 12.0)
        canvas.setStrokeColor(HexColor(layout.primary_colour))
        canvas.setLineWidth(2.2)
        canvas.rect(inset, inset, self.width - 2 * inset, self.height - 2 * inset)
        canvas.setStrokeColor(HexColor(layout.accent_colour))
        canvas.setLineWidth(0.8)
        gap = 5.0
        canvas.rect(
            inset + gap,
            inset + gap,
            self.width - 2 * (inset + gap),
            self.height - 2 * (inset + gap),
        )

    def body_blocks(self, certificate: Certificate, scale: float) -> list[_Block]:
        layout, setter = self.layout, self.setter
        width = self.text_width
        floor = layout.min_scale
        blocks: list[_Block] = []

        def block(
            spans: Sequence[Span],
            size: float,
            colour: str,
            *,
            space_after: float,
            max_lines: int = 1,
            leading: float = 1.25,
            max_width: float = width,
            **extra: Any,
        ) -> None:
            fitted_size, lines = setter.fit(
                spans, size * scale, max_width, max_lines=max_lines, min_size=size * floor
            )
            blocks.append(_Block(lines, fitted_size, colour, leading, space_after * scale, **extra))

        if layout.logo is not None:
            blocks.append(
                _Block(
                    [],
                    0,
                    "",
                    1,
                    10 * scale,
                    image=layout.logo,
                    image_height=layout.logo_height * scale,
                )
            )
        block(
            [Span(certificate.provider, "bold")],
            13.5,
            layout.primary_colour,
            space_after=3 if certificate.joint_providers else 14,
            max_lines=2,
        )
        if certificate.joint_providers:
            block(
                [Span(wording.joint_providers_line(certificate.joint_providers), "italic")],
                10.5,
                layout.muted_colour,
                space_after=14,
                max_lines=2,
            )
        block(
            [Span(wording.heading(certificate.kind).upper())],
            layout.title_size,
            layout.primary_colour,
            space_after=10,
            char_space=2.0 * scale,
            rule_after=150 * scale,
            leading=1.15,
        )
        block(
            [Span(wording.CERTIFIES, "italic")],
            layout.body_size,
            layout.muted_colour,
            space_after=8,
        )
        block(
            [Span(wording.person_line(certificate.name, certificate.credentials), "bold")],
            layout.name_size,
            layout.text_colour,
            space_after=9,
            max_lines=2,
            leading=1.18,
            rule_after=min(width * 0.72, 440 * scale),
        )
        block(
            [Span(wording.participation_line(certificate.learning_format))],
            layout.body_size,
            layout.text_colour,
            space_after=6,
        )
        block(
            [Span(certificate.series_title, "bold")],
            layout.activity_size,
            layout.primary_colour,
            space_after=6,
            max_lines=2,
            leading=1.2,
        )
        block(
            wording.place_and_sessions(certificate, layout.muted_colour),
            layout.body_size * 0.92,
            layout.text_colour,
            space_after=12,
            max_lines=3,
            leading=1.3,
        )
        block(
            wording.award_spans(certificate),
            layout.body_size * 1.17,
            layout.text_colour,
            space_after=14,
            max_lines=3,
            leading=1.3,
        )
        statement_width = min(width, 560.0)
        block(
            wording.designation_spans(
                certificate.designation_statement, certificate.credit_phrase_designated
            ),
            layout.statement_size,
            layout.muted_colour,
            space_after=5,
            max_lines=40,
            leading=1.35,
            max_width=statement_width,
        )
        block(
            [Span(certificate.accreditation_statement)],
            layout.statement_size,
            layout.muted_colour,
            space_after=0,
            max_lines=40,
            leading=1.35,
            max_width=statement_width,
        )
        return blocks

    def draw_blocks(self, blocks: list[_Block], top: float) -> None:
        canvas = self.canvas
        y = top
        for block in blocks:
            if block.image is not None:
                self.draw_image(
                    block.image,
                    self.width / 2,
                    y - block.image_height,
                    block.image_height,
                    self.text_width,
                )
                y -= block.height
                continue
            for line in block.lines:
                y -= block.size * block.leading
                baseline = y + block.size * (block.leading - 1.0) + block.size * 0.22
                self.draw_line(
                    line, baseline, block.size, block.colour, char_space=block.char_space
                )
            if block.rule_after:
                canvas.setStrokeColor(HexColor(self.layout.accent_colour))
                canvas.setLineWidth(0.9)
                rule_y = y - block.space_after * 0.15
                canvas.line(
                    (self.width - block.rule_after) / 2,
                    rule_y,
                    (self.width + block.rule_after) / 2,
                    rule_y,
                )
            y -= block.space_after

    def draw_image(
        self, path: Path, centre_x: float, bottom: float, height: float, max_width: float
    ) -> None:
        try:
            reader = ImageReader(str(path))
            pixel_width, pixel_height = reader.getSize()
        except Exception as err:  # PIL and reportlab raise many types for a bad image
            raise CertificateError(f"cannot use image {path}: {err}") from err
        draw_width = height * pixel_width / pixel_height
        draw_height = height
        if draw_width > max_width:
            draw_width, draw_height = max_width, max_width * pixel_height / pixel_width
        self.canvas.drawImage(
            reader,
            centre_x - draw_width / 2,
            bottom + (height - draw_height) / 2,
            draw_width,
            draw_height,
            mask="auto",
        )

    def signatures(self, certificate: Certificate, line_y: float) -> None:
        layout, canvas, setter = self.layout, self.canvas, self.setter
        signers = certificate.facilitators
        if not signers:
            return
        images = {item.facilitator: item.image for item in layout.signature_images}
        available = self.width - 2 * self.margin - 24
        gap = 28.0
        column = min(210.0, (available - gap * (len(signers) - 1)) / len(signers))
        total = column * len(signers) + gap * (len(signers) - 1)
        left = (self.width - total) / 2
        size = layout.footer_size
        for index, signer in enumerate(signers):
            x = left + index * (column + gap)
            centre = x + column / 2
            image = images.get(signer.name)
            if image is not None:
                self.draw_image(image, centre, line_y + 2, 30.0, column)
            canvas.setStrokeColor(HexColor(layout.text_colour))
            canvas.setLineWidth(0.6)
            canvas.line(x, line_y, x + column, line_y)
            label = wording.signer_label(signer.name, signer.credentials)
            fitted, lines = setter.fit(
                [Span(label, "bold")], size * 1.05, column, max_lines=2, min_size=size * 0.55
            )
            y = line_y - fitted * 1.3
            for line in lines:
                self.draw_line(line, y, fitted, layout.text_colour, x=centre)
                y -= fitted * 1.2
            self.draw_line(
                [Span(wording.FACILITATOR, "italic")],
                y - 1,
                size * 0.92,
                layout.muted_colour,
                x=centre,
            )

    def footer(self, certificate: Certificate) -> None:
        layout, setter = self.layout, self.setter
        size = layout.footer_size
        qr_room = layout.qr_size + 16 if layout.show_qr else 0
        width = self.width - 2 * self.margin - 12 - qr_room
        muted, text = layout.muted_colour, layout.text_colour
        rows = wording.footer_rows(certificate, muted)
        lines: list[tuple[float, list[Span], bool]] = []
        for row_index, row in enumerate(rows):
            fitted, wrapped = setter.fit(row, size, width, max_lines=3, min_size=size * 0.5)
            is_url = bool(certificate.verify_url) and row_index == len(rows) - 1
            lines.extend((fitted, line, is_url) for line in wrapped)
        y = self.margin + sum(f * 1.45 for f, _, _ in lines) - lines[0][0]
        y = max(y, self.margin)
        link: list[tuple[float, float, float, float]] = []
        for fitted, line, is_url in lines:
            self.draw_line(line, y, fitted, text, align="left", x=self.margin + 6)
            if is_url:
                left, baseline, line_width, _ = self.boxes[-1]
                link.append((left, baseline - 0.3 * fitted, left + line_width, baseline + fitted))
            y -= fitted * 1.45
        if link and certificate.verify_url:
            # One link annotation (/Link, /URI action, no border) over the printed "Verify at"
            # line, so the URL opens from a PDF viewer too.
            rect = (
                min(r[0] for r in link),
                min(r[1] for r in link),
                max(r[2] for r in link),
                max(r[3] for r in link),
            )
            self.canvas.linkURL(certificate.verify_url, rect, relative=0, thickness=0)
        if layout.show_qr:
            draw_qr(
                self.canvas,
                certificate.qr_payload,
                self.width - self.margin - 6 - layout.qr_size,
                self.margin - 4,
                layout.qr_size,
                HexColor(layout.text_colour),
                mixed=bool(certificate.verify_url),
            )

    def footer_height(self, certificate: Certificate) -> float:
        return max(
            self.layout.qr_size if self.layout.show_qr else 0, 3 * self.layout.footer_size * 1.45
        )

    def draw(self, certificate: Certificate) -> None:
        self.border()
        footer_top = self.margin + self.footer_height(certificate)
        signature_line = footer_top + 34 if certificate.facilitators else footer_top
        body_bottom = signature_line + (40 if certificate.facilitators else 14)
        top = self.height - self.margin
        available = top - body_bottom
        scale = 1.0
        while True:
            blocks = self.body_blocks(certificate, scale)
            total = sum(block.height for block in blocks)
            if total <= available:
                break
            if scale <= 0.2:
                raise CertificateError(
                    f"certificate {certificate.number}: the text is too long to fit the page "
                    "even at the smallest size"
                )
            scale *= 0.93
        # Share the spare height: first widen the gaps between blocks (up to 2.5 times), then
        # centre the body in the space above the signatures.
        slack = available - total
        gaps = sum(block.space_after for block in blocks[:-1])
        if gaps > 0 and slack > 0:
            growth = min(slack / gaps, 1.5)
            for block in blocks[:-1]:
                block.space_after *= 1 + growth
            slack -= gaps * growth
        self.draw_blocks(blocks, top - slack * 0.45)
        self.signatures(certificate, signature_line)
        self.footer(certificate)
