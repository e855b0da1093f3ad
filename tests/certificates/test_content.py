"""Certificate content: who gets one, what it says, the exact statements (docs/rules.md §3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from balint_cme import AttendanceRegister, Facilitator, Series, award_credit, award_series
from balint_cme.certificates.content import (
    accreditation_statement,
    accreditor_short_name,
    build_certificate,
    designation_statement,
    eligible_awards,
)
from balint_cme.certificates.formatting import credit_phrase, format_amount, format_dates
from balint_cme.errors import CertificateError
from tests.certificate_helpers import (
    ISSUED_ON,
    TEST_KEY,
    award_for,
    certificate_for,
    register_2020,
    renamed,
)
from tests.conftest import attend

JOINT_STATEMENT = (
    "This activity has been planned and implemented in accordance with the accreditation "
    "requirements and policies of the California Medical Association (CMA) through the joint "
    "providership of Fresno Madera Medical Society and Sierra Sacramento Valley Medical "
    "Society. Fresno Madera Medical Society is accredited by the CMA to provide continuing "
    "medical education for physicians."
)
DESIGNATION = (
    "The Fresno Madera Medical Society designates this live activity for a maximum of 5.0 "
    "AMA PRA Category 1 Credit(s)™. Physicians should claim only the credit commensurate with "
    "the extent of their participation in the activity."
)


def test_designation_statement_follows_the_ama_template(series_2020: Series) -> None:
    assert designation_statement(series_2020) == DESIGNATION


def test_accreditation_statement_is_the_joint_form_when_jointly_provided(
    series_2020: Series,
) -> None:
    assert accreditation_statement(series_2020.provider) == JOINT_STATEMENT


def test_accreditation_statement_is_the_direct_form_without_joint_provider(
    series_2020: Series,
) -> None:
    direct = series_2020.provider.evolve(joint=())
    assert accreditation_statement(direct) == (
        "Fresno Madera Medical Society is accredited by the California Medical Association "
        "(CMA) to provide continuing medical education for physicians."
    )


def test_accreditation_statement_names_the_accreditor_from_data(series_2020: Series) -> None:
    accme = series_2020.provider.evolve(
        accreditor="Accreditation Council for Continuing Medical Education (ACCME)"
    )
    text = accreditation_statement(accme)
    assert "policies of the Accreditation Council for Continuing Medical Education (ACCME)" in text
    assert "is accredited by the ACCME to provide" in text
    assert "CMA" not in text


@pytest.mark.parametrize(
    ("accreditor", "short"),
    [
        ("California Medical Association (CMA)", "CMA"),
        ("ACCME", "ACCME"),
        ("Texas Medical Association", "Texas Medical Association"),
    ],
)
def test_accreditor_short_name_is_the_abbreviation_in_parentheses(
    accreditor: str, short: str
) -> None:
    assert accreditor_short_name(accreditor) == short


@pytest.mark.parametrize(
    ("value", "text"),
    [("5.00", "5.0"), ("4.75", "4.75"), ("4.50", "4.5"), ("0.25", "0.25"), ("12", "12.0")],
)
def test_format_amount_keeps_one_or_two_decimals(value: str, text: str) -> None:
    assert format_amount(Decimal(value)) == text


def test_format_dates_groups_by_year() -> None:
    days = [date(2020, 9, 9), date(2020, 10, 14), date(2020, 12, 9), date(2021, 1, 13)]
    assert format_dates(days) == "September 9, October 14 and December 9, 2020; January 13, 2021"


def test_credit_phrase_carries_the_trademark_and_number() -> None:
    assert (
        credit_phrase("AMA PRA Category 1 Credit", plural=None) == "AMA PRA Category 1 Credit(s)™"
    )
    assert credit_phrase("AMA PRA Category 1 Credit", plural=True) == "AMA PRA Category 1 Credits™"
    assert credit_phrase("AMA PRA Category 1 Credit™", plural=False) == "AMA PRA Category 1 Credit™"


def test_credit_certificate_lists_only_the_sessions_attended(series_2020: Series) -> None:
    certificate = certificate_for(series_2020, "p02")
    assert certificate.kind == "credit"
    assert certificate.session_dates == (date(2020, 9, 9), date(2020, 11, 11))
    assert certificate.credits == Decimal("1.75")
    assert certificate.hours is None
    assert certificate.designated_maximum == Decimal("5.00")
    assert certificate.name == "Zoë Ångström"
    assert certificate.credentials == "DO"


def test_non_physician_gets_a_participation_certificate_with_hours(series_2020: Series) -> None:
    certificate = certificate_for(series_2020, "p03")
    assert certificate.kind == "participation"
    assert certificate.hours == Decimal("1.00")
    assert certificate.credits is None
    assert certificate.session_dates == (date(2020, 10, 14),)
    assert certificate.designation_statement == DESIGNATION


def test_no_certificate_for_someone_not_enrolled(series_2020: Series) -> None:
    award = award_credit(series_2020, register_2020(series_2020), "stranger")
    with pytest.raises(CertificateError, match="not enrolled"):
        build_certificate(series_2020, award, number="X-1", issued_on=ISSUED_ON, key=TEST_KEY)


def test_no_certificate_for_someone_who_attended_nothing(series_2020: Series) -> None:
    award = award_credit(series_2020, AttendanceRegister(), "p01")
    with pytest.raises(CertificateError, match="attended no session"):
        build_certificate(series_2020, award, number="X-1", issued_on=ISSUED_ON, key=TEST_KEY)


def test_facilitators_own_sessions_earn_no_certificate(series_2020: Series) -> None:
    leader = Facilitator(name="Ana Ruiz", credentials="MD", participant_id="p01")
    series = series_2020.evolve(facilitators=(leader,))
    award = award_credit(series, register_2020(series), "p01")
    with pytest.raises(CertificateError, match="attended no session"):
        build_certificate(series, award, number="X-1", issued_on=ISSUED_ON, key=TEST_KEY)


def test_facilitator_who_led_some_sessions_is_certified_for_the_others(
    series_2020: Series,
) -> None:
    leader = Facilitator(name="Ana Ruiz", credentials="MD", participant_id="p01", leads=(1, 2))
    series = series_2020.evolve(facilitators=(leader,))
    certificate = build_certificate(
        series,
        award_credit(series, register_2020(series), "p01"),
        number="X-1",
        issued_on=ISSUED_ON,
        key=TEST_KEY,
    )
    assert certificate.credits == Decimal("3.00")
    assert len(certificate.session_dates) == 3


def test_no_participation_certificate_when_the_policy_withholds_them(series_2020: Series) -> None:
    series = series_2020.evolve(policy=series_2020.policy.evolve(participation_certificates=False))
    award = award_credit(series, register_2020(series), "p03")
    with pytest.raises(CertificateError, match="not a physician"):
        build_certificate(series, award, number="X-1", issued_on=ISSUED_ON, key=TEST_KEY)


def test_no_certificate_for_a_few_minutes_of_attendance(series_2020: Series) -> None:
    register = AttendanceRegister([attend(series_2020, "p03", 1, 0, 5)])
    award = award_credit(series_2020, register, "p03")
    with pytest.raises(CertificateError, match=r"below the 7\.5-minute minimum"):
        build_certificate(series_2020, award, number="X-1", issued_on=ISSUED_ON, key=TEST_KEY)


def test_refusal_names_the_policy_minimum_for_a_physician(series_2020: Series) -> None:
    series = series_2020.evolve(policy=series_2020.policy.evolve(minimum_minutes=30))
    award = award_credit(series, AttendanceRegister([attend(series, "p01", 1, 0, 20)]), "p01")
    with pytest.raises(CertificateError, match="below the policy minimum of 30 minutes"):
        build_certificate(series, award, number="X-1", issued_on=ISSUED_ON, key=TEST_KEY)


def test_physician_without_credit_is_not_called_a_non_physician(series_2020: Series) -> None:
    policy = series_2020.policy.evolve(all_or_nothing_ratio="0.9", participation_certificates=False)
    series = series_2020.evolve(policy=policy)
    award = award_credit(series, AttendanceRegister([attend(series, "p01", 1, 0, 50)]), "p01")
    with pytest.raises(CertificateError, match="no credit earned, and this series gives no"):
        build_certificate(series, award, number="X-1", issued_on=ISSUED_ON, key=TEST_KEY)


def test_issue_date_before_the_activity_is_refused(series_2020: Series) -> None:
    award = award_credit(series_2020, register_2020(series_2020), "p01")
    with pytest.raises(CertificateError, match="issue date 2019-01-01 is before the last session"):
        build_certificate(
            series_2020, award, number="X-1", issued_on=date(2019, 1, 1), key=TEST_KEY
        )


def test_eligible_awards_keeps_credit_and_participation(series_2020: Series) -> None:
    register = register_2020(series_2020)
    awards = award_series(series_2020, register)
    kept = eligible_awards(series_2020, awards)
    assert [a.participant_id for a in kept] == ["p01", "p02", "p03"]
    withheld = series_2020.evolve(
        policy=series_2020.policy.evolve(participation_certificates=False)
    )
    assert [a.participant_id for a in eligible_awards(withheld, awards)] == ["p01", "p02"]


def test_number_issue_date_and_version_come_from_the_arguments(series_2020: Series) -> None:
    certificate = build_certificate(
        series_2020,
        award_for(series_2020, "p01"),
        number="FMMS-2020-0042",
        issued_on=date(2021, 2, 1),
        version=2,
        key=TEST_KEY,
    )
    assert (certificate.number, certificate.issued_on, certificate.version) == (
        "FMMS-2020-0042",
        date(2021, 2, 1),
        2,
    )


def test_verify_url_template_receives_the_quoted_code(series_2020: Series) -> None:
    certificate = certificate_for(
        series_2020, verify_url_template="https://cme.example.org/v/{number}?c={code}"
    )
    assert certificate.verify_url == (
        f"https://cme.example.org/v/FMMS-2020-0002?c={certificate.verification_code}"
    )
    # The QR code reads the same URL, with the case-insensitive parts (scheme, host, code)
    # upper-cased for the QR alphanumeric mode.
    code = certificate.verification_code
    assert certificate.qr_payload == f"HTTPS://CME.EXAMPLE.ORG/v/FMMS-2020-0002?c={code.upper()}"


def test_qr_payload_is_the_code_alone_without_a_template(series_2020: Series) -> None:
    certificate = certificate_for(series_2020, verify_url_template=None)
    assert certificate.qr_payload == certificate.verification_code


def test_verify_url_template_without_code_is_refused(series_2020: Series) -> None:
    with pytest.raises(CertificateError, match=r"\{code\}"):
        certificate_for(series_2020, verify_url_template="https://cme.example.org/verify")


@pytest.mark.parametrize("name", ["Ana\u202eziuR", "Ana\u200bRuiz", "Ana\x00Ruiz"])
def test_control_and_format_characters_in_a_name_are_refused(
    series_2020: Series, name: str
) -> None:
    # Controls and bidi overrides are refused by the roster itself (one plain line); other
    # format characters (a zero-width space) when the certificate is built.
    if name == "Ana\u200bRuiz":
        with pytest.raises(CertificateError, match="control or format characters"):
            certificate_for(renamed(series_2020, name))
    else:
        with pytest.raises(ValidationError, match="one plain line"):
            renamed(series_2020, name)


def test_award_for_another_series_is_refused(series_2020: Series, series_2023: Series) -> None:
    with pytest.raises(CertificateError, match="not 'ssvms-balint-2023'"):
        build_certificate(
            series_2023,
            award_for(series_2020, "p01"),
            number="X-1",
            issued_on=ISSUED_ON,
            key=TEST_KEY,
        )


@settings(max_examples=25)
@given(
    number=st.from_regex(r"[A-Z]{2,5}-[0-9]{1,6}", fullmatch=True),
    day=st.dates(min_value=date(2021, 1, 14), max_value=date(2030, 12, 31)),
)
def test_building_twice_gives_the_same_certificate(
    series_2020: Series, number: str, day: date
) -> None:
    # Nothing reads the clock or makes random ids: equal inputs, equal certificates.
    series = series_2020
    award = award_for(series, "p01")
    first = build_certificate(series, award, number=number, issued_on=day, key=TEST_KEY)
    second = build_certificate(series, award, number=number, issued_on=day, key=TEST_KEY)
    assert first == second
    assert first.issued_on == day
