"""Who holds which degree: the physician credentials rule, on the text a person writes.

"MD", "M.D.", "MD, PhD candidate", "MD/PhD candidate": which degrees the credentials say are
held, and the default list of degrees that make a physician. Pure string rules, no records.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["DEFAULT_PHYSICIAN_CREDENTIALS"]

DEFAULT_PHYSICIAN_CREDENTIALS: tuple[str, ...] = (
    "MD",
    "DO",
    "MBBS",
    "MBCHB",
    "MBBCH",
    "BMBS",
    "MBBCHIR",
    "BMBCH",
    "MB",
    "MDCM",
    "MBBCHBAO",
)
"""Degrees that make a person a physician for AMA PRA credit: MD, DO and common foreign
equivalents (ama-assn.org, "apply AMA physician recognition award"). Policy data: a series can
list more, and a participant can be marked physician explicitly."""


_NOT_YET_QUALIFIED = frozenset({"CANDIDATE", "CAND", "STUDENT", "C", "EXPECTED", "PENDING"})
_CREDENTIAL_TOKEN = re.compile(r"[^\W_]+(?:[.\-'][^\W_]+)*\.?|[,;()/&+]")
_JOINERS = frozenset({"/", "&", "+"})


@lru_cache(maxsize=256)
def _held_degrees(credentials: str) -> frozenset[str]:
    """The degrees `credentials` says are held, normalised ("M.D." → "MD").

    A qualifier that says a degree is not held yet ("candidate", "student", "expected", "(c)")
    applies only to the degree it follows: "MD, PhD candidate", "MD (PhD candidate)" and
    "MD, MPH (expected 2025)" hold MD; "MD candidate" and "MD (expected 2025)" hold nothing.
    Degrees joined by "/", "&" or "+" are one programme ("MD/PhD candidate": neither held).
    A qualifier before any degree of its part ("expected MD") applies to the degrees after it.
    """
    held: dict[str, bool] = {}
    unit: list[str] = []  # the degrees the next qualifier applies to
    joined = False  # the previous token joins the next degree to `unit`
    pending = False  # a qualifier seen in this part before any degree
    for token in _CREDENTIAL_TOKEN.findall(credentials.upper()):
        if token in (",", ";"):
            unit, joined, pending = [], False, False
        elif token in _JOINERS:
            joined = True
        elif token in ("(", ")"):
            joined = False  # a parenthesis keeps `unit`: "MD (expected 2025)"
        else:
            word = re.sub(r"[^A-Z]", "", token)
            if word in _NOT_YET_QUALIFIED:
                if unit:
                    for degree in unit:
                        held[degree] = False
                else:
                    pending = True
            elif word:
                unit = [*unit, word] if joined else [word]
                held.setdefault(word, True)
                if pending:
                    held[word] = False
            joined = False
    return frozenset(degree for degree, is_held in held.items() if is_held)


@lru_cache(maxsize=16)
def _normalised_credentials(credentials: tuple[str, ...]) -> frozenset[str]:
    return frozenset(re.sub(r"[^A-Z]", "", c.upper()) for c in credentials)
