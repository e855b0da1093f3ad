"""Hypothesis helpers shared by the tests (domain strategies ship in balint_cme.testing)."""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["mutate_bytes"]


def mutate_bytes(data: st.DataObject, raw: bytes, *, most: int = 8, widest: int = 16) -> bytes:
    """Flip, delete, insert or cut bytes of `raw` at drawn places (up to `most` changes)."""
    mutated = bytearray(raw)
    for _ in range(data.draw(st.integers(1, most), label="mutations")):
        if not mutated:
            break
        at = data.draw(st.integers(0, len(mutated) - 1), label="at")
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip":
            mutated[at] = data.draw(st.integers(0, 255), label="byte")
        elif action == "delete":
            del mutated[at : at + data.draw(st.integers(1, widest), label="width")]
        elif action == "insert":
            mutated[at:at] = data.draw(st.binary(min_size=1, max_size=12), label="inserted")
        else:
            del mutated[at:]
    return bytes(mutated)
