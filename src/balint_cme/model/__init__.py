"""The domain records of a Balint group CME series: providers, sessions, people, policy.

Pure data with the invariants on the records themselves. This package opens no files, reads no
clock and imports nothing from the edges (certificates, io, ledger, cli) nor dateutil. There is
deliberately no field for case content, patients or recordings: a Balint group's cases stay in
the room. One module per kind of record: base (DomainModel and value types), credentials,
people, policy, series. The rules that act on records live beside them: enrolment in
balint_cme.enrollment, credit rounding in balint_cme.credit_rounding.
"""

from __future__ import annotations

from balint_cme.model.base import (
    MONTH_NAMES,
    CreditPoints,
    DomainModel,
    ParticipantId,
    SeriesId,
    Text,
    TimeZoneName,
)
from balint_cme.model.credentials import DEFAULT_PHYSICIAN_CREDENTIALS
from balint_cme.model.people import (
    Facilitator,
    FacilitatorLink,
    Participant,
    Provider,
    SessionKey,
    person_name_key,
)
from balint_cme.model.policy import (
    ACCEPTED_CREDIT_TYPES,
    AMA_CREDIT,
    CreditDesignation,
    CreditPolicy,
    ama_credit_phrase,
    canonical_credit_type,
)
from balint_cme.model.series import (
    Recurrence,
    Series,
    SeriesProfile,
    Session,
    SessionMove,
    facilitator_links,
)

__all__ = [
    "ACCEPTED_CREDIT_TYPES",
    "AMA_CREDIT",
    "DEFAULT_PHYSICIAN_CREDENTIALS",
    "MONTH_NAMES",
    "CreditDesignation",
    "CreditPoints",
    "CreditPolicy",
    "DomainModel",
    "Facilitator",
    "FacilitatorLink",
    "Participant",
    "ParticipantId",
    "Provider",
    "Recurrence",
    "Series",
    "SeriesId",
    "SeriesProfile",
    "Session",
    "SessionKey",
    "SessionMove",
    "Text",
    "TimeZoneName",
    "ama_credit_phrase",
    "canonical_credit_type",
    "facilitator_links",
    "person_name_key",
]
