"""The QR code on a certificate: the payload split into the fewest-bit segments, drawn as vectors.

A verify URL mixes upper-case runs (alphanumeric mode) with characters only byte mode holds;
`qr_segments` finds the cheapest split, `qr_symbol` makes the segno symbol and `draw_qr` draws
it on the canvas as one filled path.
"""

from __future__ import annotations

from typing import Any

import segno
from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

__all__ = ["draw_qr", "qr_segments", "qr_symbol"]


_QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
# Bits per character times 6 (numeric 10/3, alphanumeric 11/2, byte 8), and a segment's header
# (4-bit mode + character count: 10, 9 and 8 bits up to version 9, where verify URLs land).
_QR_CHAR_COST = {"numeric": 20, "alphanumeric": 33, "byte": 48}
_QR_HEADER_COST = {"numeric": 6 * 14, "alphanumeric": 6 * 13, "byte": 6 * 12}


def _qr_fits(mode: str, char: str) -> bool:
    if mode == "numeric":
        return char.isascii() and char.isdigit()
    if mode == "alphanumeric":
        return char in _QR_ALPHANUMERIC
    return True


def qr_segments(payload: str) -> list[tuple[str, str]]:
    """`payload` split into QR segments (numeric, alphanumeric, byte) that take the fewest bits.

    A URL mixes upper-case runs (alphanumeric mode: 5.5 bits a character) with characters only
    byte mode holds (8 bits); one segment per run, where the switch pays for its header, gives
    a smaller code than byte mode for the whole string.
    """
    if not payload:
        return [("", "byte")]
    modes = tuple(_QR_CHAR_COST)
    infinity = 1 << 60
    # cost[mode]: fewest bits (x6) for the characters so far, ending in a segment of `mode`;
    # came[i][mode]: the mode of character i - 1 on that cheapest path (to walk back).
    cost: dict[str, int] = {}
    came: list[dict[str, str]] = []
    for index, char in enumerate(payload):
        step: dict[str, int] = {}
        back: dict[str, str] = {}
        for mode in modes:
            if not _qr_fits(mode, char):
                step[mode] = infinity
                back[mode] = mode
                continue
            if index == 0:
                total, before = _QR_HEADER_COST[mode], mode
            else:
                total, before = min(
                    (cost[b] + (0 if b == mode else _QR_HEADER_COST[mode]), b) for b in modes
                )
            width = len(char.encode("utf-8")) if mode == "byte" else 1
            step[mode] = total + _QR_CHAR_COST[mode] * width
            back[mode] = before
        cost = step
        came.append(back)
    mode = min(modes, key=lambda m: cost[m])
    chosen = [mode]
    for index in range(len(payload) - 1, 0, -1):
        mode = came[index][mode]
        chosen.append(mode)
    chosen.reverse()
    segments: list[tuple[str, str]] = []
    for char, char_mode in zip(payload, chosen, strict=True):
        if segments and segments[-1][1] == char_mode:
            segments[-1] = (segments[-1][0] + char, char_mode)
        else:
            segments.append((char, char_mode))
    return segments


def qr_symbol(payload: str, *, mixed: bool = True) -> Any:
    """The segno QR code drawn for `payload` (error correction M): in the fewest-bit segments
    when `mixed`, else in the one mode segno picks for the whole string."""
    if not mixed:
        return segno.make(payload, error="m", micro=False)
    # Each segment's text is given alone: segno picks its (already cheapest) mode itself.
    segments: Any = [text for text, _ in qr_segments(payload)]  # segno's stubs say str only
    return segno.make(segments, error="m", micro=False)


def draw_qr(
    canvas: Canvas, payload: str, x: float, y: float, size: float, colour: Color, *, mixed: bool
) -> None:
    """The QR code as one filled vector path, one rectangle per run of dark modules.

    Drawn in a coordinate system of one unit per module, so every rectangle is four small
    integers: reportlab's float formatting would cost more than the encoding.
    """
    matrix = qr_symbol(payload, mixed=mixed).matrix
    count = len(matrix)
    operators: list[str] = []
    for row_index, row in enumerate(matrix):
        bottom = count - row_index - 1
        column = 0
        while column < count:
            if row[column] & 1:
                start = column
                while column < count and row[column] & 1:
                    column += 1
                operators.append(f"{start} {bottom} {column - start} 1 re")
            else:
                column += 1
    canvas.saveState()
    canvas.setFillColor(colour)
    canvas.translate(x, y)
    canvas.scale(size / count, size / count)
    canvas.addLiteral("\n".join(operators) + "\nf")
    canvas.restoreState()
