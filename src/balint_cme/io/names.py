"""Display names in meeting reports: the key two spellings of one person's name share.

normalise_name() folds case, accents, punctuation, "Dr." prefixes, credential suffixes, "Last,
First" order, phone numbers and the parenthesised labels platforms add (devices, pronouns,
"(External)"); is_tag() and trailing_parenthetical() tell such a label from a Zoom "(Original
Name)". Pure text functions: roster_match.py and the Zoom reader use them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "is_tag",
    "loose_key",
    "name_key",
    "normalise_name",
    "token_key",
    "trailing_parenthetical",
]


# Parenthesised words that are part of a display name, not a Zoom "(Original Name)".
_TAG_WORDS = frozenset(
    {
        "external",
        "unverified",
        "guest",
        "host",
        "co-host",
        "cohost",
        "organizer",
        "presenter",
        "me",
        "iphone",
        "ipad",
        "android",
        "phone",
        "mobile",
        "tablet",
        "laptop",
        "desktop",
        "pc",
        "mac",
        "macbook",
        "chromebook",
        "zoom room",
        "zoom rooms",
        "telephone",
        "dial-in",
        "audio",
        "audio only",
        "video",
        "2",
        "second device",
    }
)
_DEVICE_HINTS = ("iphone", "ipad", "android", "galaxy", "pixel", "macbook", "laptop", "phone")
_PRONOUNS = frozenset(
    {"he", "him", "his", "she", "her", "hers", "they", "them", "theirs", "ze", "zir", "xe", "xem"}
)
_CREDENTIAL_WORDS = frozenset(
    {"md", "do", "phd", "mft", "lmft", "np", "rn", "lcsw", "mbbs", "psyd", "dnp", "pa", "pa-c"}
)


def is_tag(inner: str) -> bool:
    """Whether a parenthesised part is a device, pronoun, credential or Teams/Zoom label.

    "Priya Raghunathan (she/her)" and "Ana Ruiz (iPad)" keep their whole name; a Zoom
    "Current Name (Original Name)" has something else in the parentheses.
    """
    key = " ".join(inner.split()).casefold().strip(" .")
    if not key:
        return True
    if key in _TAG_WORDS or key in _CREDENTIAL_WORDS:
        return True
    words = [w for w in key.replace(",", "/").replace(" ", "/").split("/") if w]
    if words and all(w in _PRONOUNS for w in words) and len(words) >= 2:
        return True
    if key in {"any pronouns", "any/all", "all pronouns"}:
        return True
    return any(hint in key for hint in _DEVICE_HINTS) and len(key.split()) <= 3


def trailing_parenthetical(text: str) -> tuple[str, str] | None:
    """(before, inside) of a balanced "(...)" that ends `text`, or None."""
    text = text.rstrip()
    if not text.endswith(")"):
        return None
    depth = 0
    for position in range(len(text) - 1, -1, -1):
        char = text[position]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                return text[:position].rstrip(), text[position + 1 : -1].strip()
    return None


_PREFIX = re.compile(r"^(?:dr|doctor|prof|professor)\b\.?\s+", re.IGNORECASE)
_CREDENTIALS = frozenset(
    {
        *("MD", "DO", "PHD", "MFT", "LMFT", "NP", "RN", "LCSW", "MBBS", "MBCHB", "PSYD", "DNP"),
        *("PA", "PAC", "MPH", "FAAFP", "FACP", "FAPA", "MSW", "MSN", "BSN", "APRN", "FNP"),
        *("PMHNP", "LPCC", "LPC", "DDS", "PHARMD", "MBA", "MS", "MA", "MBBCH", "MDCM", "BMBS"),
    }
)
_MIXED_CASE_CREDENTIALS = frozenset({"PhD", "PsyD", "PharmD", "MBChB", "MBBCh"})
_GENERATIONAL = frozenset({"jr", "sr", "ii", "iii", "iv"})
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "\u0131": "i",  # dotless i
        "þ": "th",
    }
)
_APOSTROPHES = re.compile("['`\u2019\u02bc]")
_NOT_WORD = re.compile(r"[\W_]+")
_PHONE = re.compile(r"\+?[\d\s().\-]{7,}")
_UNSPACED_SCRIPTS = (
    (0x1100, 0x11FF),  # Hangul jamo (Hangul syllables decompose to these)
    (0x3040, 0x30FF),  # kana
    (0x3130, 0x318F),
    (0x3400, 0x4DBF),  # CJK
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FA1F),
)


def _is_unspaced(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED_SCRIPTS)


def _credential_part(text: str) -> bool:
    tokens = [t for t in re.split(r"[\s/]+", text.replace(".", "")) if t]
    return bool(tokens) and all(t.upper() in _CREDENTIALS for t in tokens)


def _credential_token(token: str) -> bool:
    bare = token.strip(".,").replace(".", "")
    return (bare.isupper() and bare in _CREDENTIALS) or bare in _MIXED_CASE_CREDENTIALS


def _without_tags(text: str) -> str:
    while True:
        parts = trailing_parenthetical(text)
        if parts is None or not parts[0] or not is_tag(parts[1]):
            return text
        text = parts[0]


def _without_parentheticals(text: str) -> str:
    while True:
        parts = trailing_parenthetical(text)
        if parts is None or not parts[0]:
            return text
        text = parts[0]


def normalise_name(text: str) -> str:
    """The key two spellings of one person's name share.

    Ignores case, accents, punctuation, a "Dr." prefix, credential suffixes (", MD", " M.D.",
    ", MD, PhD"), "Last, First" order, and trailing labels in parentheses that are not part of
    the name: Teams' "(External)" and "(Unverified)", devices ("(iPad)"), pronouns
    ("(she/her)"). A phone number becomes "tel:" and its digits. "" for nothing left.
    """
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    text = _without_tags(text)
    if _PHONE.fullmatch(text):
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]  # +1 (North America) is often dropped
        if len(digits) >= 7:
            return f"tel:{digits}"
    text = _PREFIX.sub("", text)
    parts = [part.strip() for part in text.split(",")]
    while len(parts) > 1 and _credential_part(parts[-1]):
        parts.pop()
    if len(parts) == 2 and parts[0] and parts[1]:
        if parts[1].strip(".").casefold() in _GENERATIONAL:
            text = f"{parts[0]} {parts[1]}"
        else:
            text = f"{parts[1]} {parts[0]}"  # "Núñez, José" -> "José Núñez"
    else:
        text = " ".join(parts)
    tokens = text.split()
    while len(tokens) > 2 and _credential_token(tokens[-1]):
        tokens.pop()
    text = _PREFIX.sub("", " ".join(tokens))
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_LETTERS)
    text = _APOSTROPHES.sub("", text)
    text = " ".join(_NOT_WORD.sub(" ", text).split())
    if text and all(_is_unspaced(ch) for ch in text if ch != " "):
        text = text.replace(" ", "")  # "王 秀英" and "王秀英" are one name
    return text


name_key = lru_cache(maxsize=65_536)(normalise_name)
"""normalise_name, remembered: a large report repeats the same names many times."""


def loose_key(text: str) -> str:
    """The key with every trailing parenthesis removed ("Ana Ruiz (Clinic)" -> "ana ruiz")."""
    return name_key(_without_parentheticals(" ".join(text.split())))


def token_key(key: str) -> str:
    """Word order ignored: "nguyen thi minh anh" and "minh anh nguyen thi" share this key."""
    words = key.split()
    return " ".join(sorted(words)) if len(words) >= 2 else ""
