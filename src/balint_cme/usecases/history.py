"""The transcript use case: a ledger person's series, with attendance as the ledger holds it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from balint_cme.attendance import AttendanceRegister
from balint_cme.io.series_file import load_series, parse_series
from balint_cme.ledger import Ledger, PersonRecord
from balint_cme.model import Series
from balint_cme.usecases.on_record import recorded_register

__all__ = ["transcript_history"]


def transcript_history(
    ledger: Ledger, person: PersonRecord, series_files: Sequence[Path] = ()
) -> list[tuple[Series, AttendanceRegister]]:
    """Each series `person` (a ledger person) took part in, with their attendance as the
    ledger recorded it; pass `dict(person.roster_ids)` to build_transcript as `roster_ids`.

    The series come from `series_files` when given (those the person is not linked to in the
    ledger are left out), else from the snapshots in the ledger.

    Raises:
        DataFileError: a series file (or a snapshot) cannot be read.
    """
    roster_ids = dict(person.roster_ids)
    if series_files:
        chosen = [series for series in map(load_series, series_files) if series.id in roster_ids]
    else:
        chosen = []
        for series_id in roster_ids:
            content = ledger.series_content(series_id)
            if content is not None:
                # The snapshot is the file as used: JSON if it starts like JSON, else TOML.
                suffix = ".json" if content.lstrip()[:1] in (b"{", b"[") else ".toml"
                chosen.append(parse_series(content, Path(f"{series_id}{suffix}")))
    return [
        (series, recorded_register(ledger, series, [roster_ids[series.id]])) for series in chosen
    ]
