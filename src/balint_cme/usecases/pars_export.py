"""The PARS export use case: the ACCME learner file built from the ledger's records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from balint_cme.credit import award_series
from balint_cme.io.pars import (
    ParsReport,
    build_pars_report,
    load_pars_columns,
    save_pars_export,
)
from balint_cme.io.series_file import load_series
from balint_cme.ledger import Ledger
from balint_cme.model import DomainModel
from balint_cme.usecases.on_record import credit_on_record, recorded_register

__all__ = ["ParsExport", "export_pars"]


class ParsExport(DomainModel):
    """What export_pars() wrote, and who was left out and why."""

    report: ParsReport
    uncertified: tuple[tuple[str, str, str], ...]
    """(series id, participant id, why) of physicians with credit but no valid certificate
    (revoked, superseded and pending ones are never reported)."""


def export_pars(
    ledger: Ledger,
    series_files: Sequence[Path],
    out: Path,
    *,
    columns: Path | None = None,
    activity_ids: Mapping[str, str] | None = None,
) -> ParsExport:
    """Write the ACCME PARS learner file for `series_files` from the ledger's records.

    A row is a consenting physician's completion backed by a currently valid certificate of
    credit, with that certificate's credits; learners missing an identifier, without consent
    or without a valid certificate are listed instead. `activity_ids` maps series ids to PARS
    activity IDs (the series id is used where none is given).

    Raises:
        DataFileError: a series file or the column map is unreadable, or `out` is not .xlsx/.txt.
    """
    column_map = load_pars_columns(columns)
    activities = []
    uncertified: list[tuple[str, str, str]] = []
    for path in series_files:
        series = load_series(path)
        certified = []
        for award in award_series(series, recorded_register(ledger, series)):
            if award.kind != "credit":
                continue
            backing = credit_on_record(ledger, series.id, award.participant_id)
            if backing.reason is not None:
                uncertified.append((series.id, award.participant_id, backing.reason))
                continue
            # The certificate is the record of what was awarded.
            certified.append(award.evolve(points=backing.points))
        activities.append((series, certified))
    # Consent belongs to the person who gave it: each series' roster id is looked up through
    # the ledger person it is, so one consent never releases another person's row.
    consenting = {
        (series.id, roster_id)
        for series, _ in activities
        for roster_id in ledger.consenting(series_id=series.id)
    }
    report = build_pars_report(
        activities, consenting, activity_ids=activity_ids, columns=column_map
    )
    save_pars_export(out, report, column_map)
    return ParsExport(report=report, uncertified=tuple(uncertified))
