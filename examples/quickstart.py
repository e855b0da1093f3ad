from balint_cme import (
    AttendanceRecord,
    AttendanceRegister,
    award_series,
    load_series,
    validate_claim,
)

series = load_series("examples/ssvms-balint-2020.toml")  # five 1.0-credit sessions, 5.0 maximum
attended = {  # person -> {session: (joined, left) in minutes from the session's start}
    "p01": {1: (0, 52), 2: (-5, 60)},  # Ana Ruiz, MD: 52 min -> 0.75, then a full hour
    "p02": {n: (0, 60) for n in range(1, 6)},  # Zoë Ångström, DO: all five sessions
    "p03": {1: (0, 60), 2: (10, 55)},  # Grace Lindqvist, NP: hours, no AMA credit
    "f01": {n: (-10, 65) for n in range(1, 6)},  # Rochelle Frank leads: no learner credit
}
register = AttendanceRegister(
    AttendanceRecord.in_session(series.sessions[n - 1], who, joined, left)
    for who, sessions in attended.items()
    for n, (joined, left) in sessions.items()
)
for award in (a for a in award_series(series, register) if a.participant_id in attended):
    cells = " | ".join(f"{s.minutes:>5} min {s.credit}" for s in award.sessions)
    print(f"{award.name:<16} {award.points} credit, {award.participation_hours} h: {cells}")
    print(f"{'':<16} {'; '.join(award.shortfalls) or 'full credit'}")
validate_claim(series, register, "p02", "5.0")  # fine; "p01" claiming 5.0 raises ClaimError
