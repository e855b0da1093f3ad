"""The built-in demo: the seed "2020 Balint Group" with a synthetic set of Zoom reports.

Everything here is fictional attendance for fictional participants (the two facilitators are
the seed's). The reports are written in Zoom's classic web-portal "Participants" layout, so
the demo runs the same readers, credit engine and certificates as real work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from balint_cme.certificates.keys import create_key, load_key
from balint_cme.errors import OutputWriteError
from balint_cme.io.series_file import parse_series
from balint_cme.ledger import Ledger
from balint_cme.model import Series
from balint_cme.storage import write_atomically
from balint_cme.workflow import assess, certify, credits_document, format_credits_table

__all__ = ["DEMO_SERIES_TOML", "DemoInputs", "run_demo", "write_demo_inputs"]

DEMO_SERIES_TOML = """\
# The seed series of the demo: five one-hour virtual sessions, 1.0 credit each, 5.0 maximum.
# Participants are fictional; the facilitators are the seed's.
id = "ssvms-balint-2020"
title = "2020 Balint Group"
learning_format = "live activity"
delivery = "virtual"
location = "Online"
timezone = "America/Los_Angeles"
eligibility = "clinicians"
registration = "closed"

[provider]
accredited = "Fresno Madera Medical Society"
accreditor = "California Medical Association (CMA)"
joint = ["Sierra Sacramento Valley Medical Society"]

[credit]
type = "AMA PRA Category 1 Credit"
per_session = "1.0"
series_maximum = "5.0"

[schedule]
first_start = 2020-09-09T18:45:00
duration_minutes = 60
rrule = "FREQ=MONTHLY;BYDAY=+2WE;COUNT=5"

[[facilitators]]
name = "Rochelle Frank"
credentials = "MD"
participant_id = "f01"

[[facilitators]]
name = "Marissa Pierce"
credentials = "MFT"

[[participants]]
id = "p01"
name = "Ana Ruiz"
credentials = "MD"
email = "ana.ruiz@example.org"

[[participants]]
id = "p02"
name = "Zoë Ångström"
credentials = "DO"
email = "zoe.angstrom@example.net"
# What ACCME PARS needs (fictional): birth month and day, and a licence or an NPI
birth_month = 3
birth_day = 14
license_state = "CA"
license_number = "G999001"
aliases = ["Zoe Angstrom"]

[[participants]]
id = "p03"
name = "Grace Lindqvist"
credentials = "NP"
email = "grace.lindqvist@example.org"

[[participants]]
id = "p04"
name = "José Núñez"
credentials = "MD"
email = "jose.nunez@example.org"

[[participants]]
id = "p05"
name = "Nguyễn Thị Minh Anh"
given_name = "Thị Minh Anh"  # family name first: PARS gets the parts right
family_name = "Nguyễn"
credentials = "MD"
email = "minh.anh@example.com"
birth_month = 11
birth_day = 2
npi = "1999999984"

[[participants]]
id = "p06"
name = "Lena Ortiz"
credentials = "MFT"
email = "lena.ortiz@example.com"

[[participants]]
id = "f01"
name = "Rochelle Frank"
credentials = "MD"
"""


@dataclass(frozen=True)
class _Row:
    name: str
    email: str
    joined: int  # seconds from the session start
    left: int


def _rows_for(session: int) -> list[_Row]:
    """The synthetic attendance of one session: who joined and left when (seconds)."""
    rows = [
        _Row("Rochelle Frank", "rfrank@example.org", -600, 3900),  # facilitator
        _Row("Marissa Pierce", "mpierce@example.org", -540, 3840),  # co-facilitator, not a learner
        _Row("Zoë Ångström", "zoe.angstrom@example.net", -120, 3610),  # every session
        _Row("Lena Ortiz", "lena.ortiz@example.com", 0, 3600),  # MFT: participation hours
    ]
    if session == 1:
        # Ana joins late: 52 minutes -> 0.75. José drops and reconnects (overlapping rows).
        rows += [
            _Row("Ana Ruiz", "ana.ruiz@example.org", 480, 3600),
            _Row("José Núñez", "jose.nunez@example.org", -60, 1500),
            _Row("José Núñez (iPad)", "", 1440, 3660),
            _Row("iPhone", "", 600, 1350),  # an unmatched guest: listed, earns nothing
        ]
    else:
        rows += [
            _Row("Ana Ruiz", "ana.ruiz@example.org", -30, 3600),
            _Row("José Núñez", "jose.nunez@example.org", 0, 3600),
        ]
    if session in (2, 3, 4):
        rows.append(_Row("Grace Lindqvist", "grace.lindqvist@example.org", 0, 2700))  # 45 min
    if session != 5:
        rows.append(_Row("Nguyễn Thị Minh Anh", "", 0, 3600))  # a guest without email, by name
    return rows


def _zoom_csv(series: Series, number: int) -> bytes:
    """A classic Zoom 'Participants' export (with the meeting summary block) for one session."""
    session = series.sessions[number - 1]
    start = series.local_start(session)
    assert start is not None
    naive = start.replace(tzinfo=None)

    def stamp(seconds: int) -> str:
        return (naive + timedelta(seconds=seconds)).strftime("%m/%d/%Y %I:%M:%S %p")

    rows = _rows_for(number)
    first = min(r.joined for r in rows)
    last = max(r.left for r in rows)
    lines = [
        "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants,",
        f"81234567{number:02d},2020 Balint Group,{stamp(first)},{stamp(last)},"
        f"rfrank@example.org,{(last - first + 59) // 60},{len(rows)},",
        "",
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,Recording Consent",
    ]
    for row in rows:
        minutes = (row.left - row.joined + 59) // 60  # Zoom rounds up; the readers ignore it
        guest = "Yes" if not row.email else "No"
        lines.append(
            f"{row.name},{row.email},{stamp(row.joined)},{stamp(row.left)},{minutes},{guest},"
        )
    # As downloaded: UTF-8 with a byte-order mark and CRLF line ends.
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


@dataclass(frozen=True)
class DemoInputs:
    """Where write_demo_inputs() put the series file and the reports."""

    series_file: Path
    reports: tuple[tuple[Path, int], ...]


def write_demo_inputs(directory: Path, series: Series) -> DemoInputs:
    """Write the series file and one Zoom report per session into `directory`.

    Raises:
        OutputWriteError: the folder cannot be made (e.g. a file is in the way) or written.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputWriteError(directory, f"cannot make the folder: {err.strerror or err}") from err
    series_file = directory / "ssvms-balint-2020.toml"
    write_atomically(series_file, DEMO_SERIES_TOML.encode("utf-8"))
    reports = []
    for session in series.dated_sessions:
        path = directory / f"zoom-session-{session.number}.csv"
        write_atomically(path, _zoom_csv(series, session.number))
        reports.append((path, session.number))
    return DemoInputs(series_file=series_file, reports=tuple(reports))


def run_demo(out: Path, *, now: datetime) -> str:
    """Run the whole job into `out` and return the summary to print.

    Writes out/inputs (the series file and five Zoom reports), out/certificates (the PDFs and
    manifest.json), out/report.txt and out/credits.json, and keeps its own signing key and
    ledger inside `out`, so the demo never touches the user's real key or ledger. Re-running
    gives the same certificates (the ledger keeps their first issue date).
    """
    series = parse_series(DEMO_SERIES_TOML.encode("utf-8"), Path("ssvms-balint-2020.toml"))
    inputs = write_demo_inputs(out / "inputs", series)
    key_path = out / "demo-signing.key"
    key = load_key(key_path) if key_path.exists() else create_key(key_path, key_id="demo")
    reports = [(path, number) for path, number in inputs.reports]
    with Ledger.open(out / "ledger.sqlite3") as ledger:
        result = certify(
            inputs.series_file,
            reports,
            out / "certificates",
            key=key,
            ledger=ledger,
            issued_on=now.astimezone(series.zone).date(),
            actor="balint-cme demo",
        )
    reading, awards = assess(series, reports)
    table = format_credits_table(series, awards, reading)
    write_atomically(out / "report.txt", (table + "\n").encode("utf-8"))
    document = credits_document(series, awards, reading)
    write_atomically(
        out / "credits.json", (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    )
    lines = [table, "", f"certificates in {result.out_dir}:"]
    for item in result.issued:
        amount = f"{item.credits} credit" if item.kind == "credit" else f"{item.hours} h attended"
        lines.append(f"  {item.file}  {item.name}: {item.kind}, {amount} ({item.outcome})")
    for person in result.skipped:
        lines.append(f"  no certificate for {person.name}: {person.reason}")
    lines.append(
        f"report: {out / 'report.txt'}, {out / 'credits.json'}; ledger: {out / 'ledger.sqlite3'}"
    )
    lines.append(
        f"verify one: balint-cme verify {result.out_dir / result.issued[0].file} "
        f"--key-file {key_path} --ledger {out / 'ledger.sqlite3'}"
    )
    return "\n".join(lines)
