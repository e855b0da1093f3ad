"""What certify() will issue, worked out before anything is written: the plan.

Pure apart from reading the ledger: credit is awarded from the reports plus the ledger's
attendance for other sessions, each eligible person's certificate content is built once (a
draft: everything it will say except the number, version, date and seal the ledger assigns)
and checked once against the layout's fonts. A caller that must check before creating a key
or a ledger (the command) makes the plan first and hands it to certify(), which reuses it
while the ledger still holds the same attendance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from balint_cme.attendance import AttendanceRegister
from balint_cme.certificates.content import Certificate, draft_certificate, eligible_awards
from balint_cme.certificates.content import verify_url_template as content_verify_url_template
from balint_cme.certificates.layout import DEFAULT_LAYOUT, CertificateLayout
from balint_cme.certificates.pdf import check_renderable
from balint_cme.credit import CreditAward, award_series, certificate_decision
from balint_cme.errors import UnrenderableTextError
from balint_cme.io.reports import AttendanceReading
from balint_cme.ledger import Ledger
from balint_cme.model import Series
from balint_cme.usecases.certify_results import SkippedPerson
from balint_cme.usecases.credits import combined_register
from balint_cme.usecases.on_record import recorded_register

__all__ = ["CertifyPlan", "plan_certify", "resolved_verify_url"]


@dataclass(frozen=True)
class CertifyPlan:
    """What certify() will issue, worked out before anything is written (plan_certify)."""

    series: Series
    content: bytes | None
    """The series file's bytes, as the ledger keeps them (None: certify reads the file)."""
    reading: AttendanceReading
    on_record: AttendanceRegister
    """The ledger's attendance the plan counted (empty when there was no ledger yet)."""
    issued_on: date
    layout: CertificateLayout
    verify_url_template: str | None
    """As resolved_verify_url() gives it."""
    skip_unrenderable: bool
    covered: frozenset[int]
    awards: tuple[CreditAward, ...]
    eligible: tuple[CreditAward, ...]
    drafts: tuple[Certificate, ...]
    """One draft per `eligible` award, in order, each proven drawable with `layout`."""
    skipped: tuple[SkippedPerson, ...]
    unrenderable: tuple[SkippedPerson, ...]


def resolved_verify_url(template: str | None, layout: CertificateLayout) -> str | None:
    """The verify URL template certify uses: the one given, else the layout's, as a template
    (a `balint-cme serve` site address becomes SITE/v/{code})."""
    if template is None and layout.verify_url is not None:
        template = layout.verify_url
    return content_verify_url_template(template) if template is not None else None


def plan_certify(
    series: Series,
    reading: AttendanceReading,
    *,
    ledger: Ledger | None,
    issued_on: date,
    layout: CertificateLayout = DEFAULT_LAYOUT,
    verify_url_template: str | None = None,
    skip_unrenderable: bool = False,
    content: bytes | None = None,
) -> CertifyPlan:
    """Award credit and prove every certificate drawable; nothing is written or created.

    `ledger` is the existing ledger (None when there is none yet: nothing is on record); its
    roster is checked against `series` as certify() checks it. `content` is the series
    file's bytes when the caller has read them (read_series_file), so certify() need not
    read the file again.

    Raises:
        LedgerError: a roster entry contradicts the people on record.
        UnrenderableTextError: a certificate cannot be drawn (unless `skip_unrenderable`:
            then its person is listed in `unrenderable` and `skipped` instead).
    """
    if ledger is not None:
        ledger.check_roster(series)  # identity conflicts, refused before anything is written
    on_record = recorded_register(ledger, series) if ledger is not None else AttendanceRegister(())
    return _plan(
        series,
        reading,
        on_record,
        content=content,
        issued_on=issued_on,
        layout=layout,
        verify_url_template=resolved_verify_url(verify_url_template, layout),
        skip_unrenderable=skip_unrenderable,
    )


def replan(plan: CertifyPlan, on_record: AttendanceRegister) -> CertifyPlan:
    """`plan` again with the ledger's attendance as it is now (unchanged: `plan` itself)."""
    if on_record.records == plan.on_record.records:
        return plan
    return _plan(
        plan.series,
        plan.reading,
        on_record,
        content=plan.content,
        issued_on=plan.issued_on,
        layout=plan.layout,
        verify_url_template=plan.verify_url_template,
        skip_unrenderable=plan.skip_unrenderable,
    )


def _plan(
    series: Series,
    reading: AttendanceReading,
    on_record: AttendanceRegister,
    *,
    content: bytes | None,
    issued_on: date,
    layout: CertificateLayout,
    verify_url_template: str | None,
    skip_unrenderable: bool,
) -> CertifyPlan:
    covered, register = combined_register(reading, on_record)
    awards = award_series(series, register)
    eligible = eligible_awards(series, awards)
    chosen = {award.participant_id for award in eligible}
    skipped = [
        SkippedPerson(
            participant_id=award.participant_id,
            name=award.name,
            reason=certificate_decision(series, award).reason or "no certificate",
        )
        for award in awards
        if award.participant_id not in chosen
    ]
    unrenderable: list[SkippedPerson] = []
    kept: list[CreditAward] = []
    drafts: list[Certificate] = []
    for award in eligible:
        # The content, built once: the ledger's number, version and date and the seal are
        # added by certify() after the number is reserved (seal_certificate).
        draft = draft_certificate(
            series, award, issued_on=issued_on, verify_url_template=verify_url_template
        )
        try:
            check_renderable(draft, layout)  # the one font check of this certificate
        except UnrenderableTextError as err:
            if not skip_unrenderable:
                # The draft is numbered "DRAFT": name the person, not a number not yet given.
                raise UnrenderableTextError(
                    err.field,
                    err.characters,
                    person=err.person or f"{award.name} ({award.participant_id})",
                    advice=f"{err.advice} (or certify --skip-unrenderable to certify the others)",
                ) from None
            shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in err.characters)
            unrenderable.append(
                SkippedPerson(
                    participant_id=award.participant_id,
                    name=award.name,
                    reason=f"{err.field}: the configured fonts cannot draw {shown}",
                )
            )
            continue
        kept.append(award)
        drafts.append(draft)
    return CertifyPlan(
        series=series,
        content=content,
        reading=reading,
        on_record=on_record,
        issued_on=issued_on,
        layout=layout,
        verify_url_template=verify_url_template,
        skip_unrenderable=skip_unrenderable,
        covered=frozenset(covered),
        awards=tuple(awards),
        eligible=tuple(kept),
        drafts=tuple(drafts),
        skipped=(*skipped, *unrenderable),
        unrenderable=tuple(unrenderable),
    )
