"""Who a report row is: roster matching by participant_id, e-mail, alias and name, never a guess.

RosterMatcher indexes a series' roster and its facilitators once and answers, for a row's name,
e-mail, Zoom original name and sign-in participant_id, who the row is: one roster participant,
a facilitator who is not on the roster, or nobody (no match, or ambiguous between several).
explain_match() logs each decision at DEBUG (`balint-cme -v`).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from balint_cme.io.names import loose_key, name_key, normalise_name, token_key
from balint_cme.io.report_rows import ReportRow
from balint_cme.io.report_text import shown
from balint_cme.model import Series, facilitator_links

__all__ = ["RosterMatch", "RosterMatcher", "explain_match", "match_log"]

match_log = logging.getLogger("balint_cme.io.reports")
"""The readers log under one name whichever module writes the line: a caller configures
`balint_cme.io.reports`, the public module, and sees every reading decision."""


class RosterMatch(NamedTuple):
    """Who a report row is: a roster participant, a facilitator not on the roster, or nobody."""

    participant_id: str | None
    facilitator: str | None = None
    """The facilitator's name when the row is a facilitator who is not on the roster."""
    reason: str | None = None
    """Why the row matched nobody: "no roster match" or "ambiguous: p08, p09"."""
    via: str = ""
    """"participant_id", "email", "alias", "name", "name without parentheses" or
    "name in any word order"."""


_FACILITATOR = "facilitator:"


class RosterMatcher:
    """Matches report rows to a series' roster and its facilitators.

    Order: the row's participant_id (sign-in sheets); e-mail, case-insensitive, against
    participants' e-mails and aliases that are e-mails; aliases; the normalised name; the name
    without any trailing parentheses; the name's words in any order. At the first level that
    finds anyone, one person is a match and two or more are ambiguous: never a guess.
    """

    def __init__(self, series: Series) -> None:
        self._ids = {p.id for p in series.participants}
        self._emails: dict[str, set[str]] = {}
        self._levels: tuple[dict[str, set[str]], ...] = ({}, {}, {}, {})
        aliases, names, loose, words = self._levels
        for participant in series.participants:
            if participant.email:
                self._emails.setdefault(participant.email.casefold(), set()).add(participant.id)
            for alias in participant.aliases:
                if "@" in alias and " " not in alias.strip():
                    self._emails.setdefault(alias.strip().casefold(), set()).add(participant.id)
                else:
                    self._index(alias, participant.id, aliases)
            self._index(participant.name, participant.id, names)
        linked = {id(link.facilitator): link.participant_id for link in facilitator_links(series)}
        for facilitator in series.facilitators:
            # A facilitator on the roster (linked by participant_id, e-mail or name) is that
            # roster entry; the credit engine withholds credit for the sessions they lead.
            target = linked.get(id(facilitator)) or f"{_FACILITATOR}{facilitator.name}"
            self._index(facilitator.name, target, names)
            if facilitator.email and target.startswith(_FACILITATOR):
                self._emails.setdefault(facilitator.email.casefold(), set()).add(target)
        for index in (aliases, names):
            for key, targets in index.items():
                loose.setdefault(key, set()).update(targets)
                token = token_key(key)
                if token:
                    words.setdefault(token, set()).update(targets)
        self._cache: dict[tuple[str, str | None, str | None, str | None], RosterMatch] = {}

    @staticmethod
    def _index(text: str, target: str, index: dict[str, set[str]]) -> None:
        key = normalise_name(text)
        if key:
            index.setdefault(key, set()).add(target)

    def match(
        self,
        name: str,
        *,
        email: str | None = None,
        original_name: str | None = None,
        participant_id: str | None = None,
    ) -> RosterMatch:
        """Who the row with this name, e-mail and (Zoom) original name is."""
        cache_key = (name, email, original_name, participant_id)
        found = self._cache.get(cache_key)
        if found is None:
            found = self._match(name, email, original_name, participant_id)
            self._cache[cache_key] = found
        return found

    def _match(
        self, name: str, email: str | None, original: str | None, participant_id: str | None
    ) -> RosterMatch:
        if participant_id:
            if participant_id in self._ids:
                return RosterMatch(participant_id, via="participant_id")
            return RosterMatch(None, reason=f"no roster participant {participant_id!r}")
        if email:
            hits = self._emails.get(email.strip().casefold())
            if hits:
                return self._decide(hits, "email")
        candidates = [text for text in (name, original) if text]
        keys = [name_key(text) for text in candidates]
        aliases, names, loose, words = self._levels
        lookups: tuple[tuple[str, dict[str, set[str]], list[str]], ...] = (
            ("alias", aliases, keys),
            ("name", names, keys),
            ("name without parentheses", loose, [loose_key(text) for text in candidates]),
            ("name in any word order", words, [token_key(key) for key in keys]),
        )
        for via, index, level_keys in lookups:
            hits = set()
            for key in level_keys:
                if key:
                    hits.update(index.get(key, ()))
            if hits:
                return self._decide(hits, via)
        return RosterMatch(None, reason="no roster match")

    @staticmethod
    def _decide(hits: set[str], via: str) -> RosterMatch:
        if len(hits) > 1:
            shown_hits = sorted(hit.removeprefix(_FACILITATOR) for hit in hits)
            return RosterMatch(None, reason=f"ambiguous: {', '.join(shown_hits)}", via=via)
        (hit,) = hits
        if hit.startswith(_FACILITATOR):
            return RosterMatch(None, facilitator=hit.removeprefix(_FACILITATOR), via=via)
        return RosterMatch(hit, via=via)


def explain_match(file: str, row: ReportRow, session: int, found: RosterMatch) -> None:
    """Log (at DEBUG, shown by `balint-cme -v`) who a row matched and by which rule."""
    who = shown(row.name) + (f" <{row.email}>" if row.email else "")
    if found.participant_id is not None:
        outcome = f"matched {found.participant_id} by {found.via}"
    elif found.facilitator is not None:
        outcome = f"is facilitator {shown(found.facilitator)} (not on the roster) by {found.via}"
    else:
        outcome = f"matched nobody: {found.reason or 'no roster match'}"
    match_log.debug("%s line %s (session %s): %s %s", file, row.line, session, who, outcome)
