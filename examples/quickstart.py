"""Quickstart: who earned what in the 2020 Balint Group (run: python examples/quickstart.py)."""

from datetime import timedelta
from pathlib import Path

from balint_cme import AttendanceRecord, AttendanceRegister, award_series, validate_claim
from balint_cme.errors import ClaimError
from balint_cme.io.series_file import load_series

series = load_series(Path(__file__).parent / "ssvms-balint-2020.toml")
starts = [s.starts_at for s in series.sessions if s.starts_at is not None]
minutes = {  # person -> session number -> (joined, left) in minutes from the session start
    "p01": {1: (0, 52), 2: (-5, 60)},  # 52 minutes -> 0.75, then a whole session
    "p02": {n: (0, 60) for n in range(1, 6)},  # all five sessions -> the 5.00 maximum
    "p03": {1: (0, 60), 2: (10, 55)},  # a nurse practitioner: hours, no AMA credit
    "f01": {n: (-10, 65) for n in range(1, 6)},  # the facilitator: no learner credit
}
register = AttendanceRegister(
    AttendanceRecord(
        participant_id=person,
        session=n,
        joined_at=starts[n - 1] + timedelta(minutes=a),
        left_at=starts[n - 1] + timedelta(minutes=b),
    )
    for person, sessions in minutes.items()
    for n, (a, b) in sessions.items()
)
for award in award_series(series, register):
    cells = " | ".join(f"{s.minutes:>5} min {s.credit}" for s in award.sessions)
    print(
        f"{award.name:<16} {award.credentials:<4} credit {award.points}  hours {award.participation_hours}  {cells}"
    )
    print(f"{'':<22}why: {'; '.join(award.shortfalls) or 'full credit'}")
try:
    validate_claim(series, register, "p01", "5.0")
except ClaimError as err:
    print(f"claim refused: {err}")
