"""Who is who across series (issue 10.1): a roster id is one file's key, not a person.

Two different people are never merged, whatever ids their files use; the same physician in
two series (same NPI or e-mail) is one person to `attendance` and `transcript`; a roster entry
that contradicts the ledger is refused before anything is written; consent is the person's own;
a schema-1 ledger that had joined two people is split on upgrade, and says so.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balint_cme.cli import main
from balint_cme.errors import IdentityConflictError
from balint_cme.io.series_file import parse_series
from balint_cme.ledger import Ledger
from balint_cme.model import Participant, Series
from tests.conftest import EXAMPLES

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SERIES_2020 = EXAMPLES / "ssvms-balint-2020.toml"
REPORTS = [str(EXAMPLES / "reports" / f"zoom-session-{n}.csv") for n in range(1, 6)]
FIXTURES = ROOT / "tests" / "fixtures" / "ledgers"

# A second society's file for the same evenings, with its own roster ids: its p01 is Zoë
# Ångström (p02 in the 2020 file) and its p05 is José Núñez (p04 there).
OTHER = (
    SERIES_2020.read_text(encoding="utf-8")
    .split("[[facilitators]]")[0]
    .replace('id = "ssvms-balint-2020"', 'id = "fmms-balint-2020"')
    .replace('title = "2020 Balint Group"', 'title = "FMMS Balint Group"')
    + """
[[participants]]
id = "p01"
name = "Zoë Ångström"
credentials = "DO"
email = "ZOE.ANGSTROM@example.net"

[[participants]]
id = "p05"
name = "José Núñez"
credentials = "MD"
email = "jose.nunez@example.org"
"""
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def two_societies(workspace: Path) -> Path:
    """A private workspace holding the second society's series file as other.toml."""
    (workspace / "other.toml").write_text(OTHER, encoding="utf-8")
    return workspace


def certify(capsys: pytest.CaptureFixture[str], series: Path, out: Path) -> tuple[int, str]:
    code, _, err = run(
        capsys,
        "certify",
        str(series),
        "--attendance",
        *REPORTS,
        "--out",
        str(out),
        "--issued-on",
        "2021-01-20",
        "--quiet",
    )
    # Only the error lines: certify also warns on stderr about report rows that matched nobody
    # (the example reports hold an unnamed "iPhone" row).
    return code, "".join(line for line in err.splitlines(keepends=True) if "error:" in line)


def both_certified(capsys: pytest.CaptureFixture[str], workspace: Path) -> None:
    assert certify(capsys, SERIES_2020, workspace / "a") == (0, "")
    assert certify(capsys, workspace / "other.toml", workspace / "b") == (0, "")


def test_a_reused_roster_id_is_another_person(
    two_societies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both_certified(capsys, two_societies)
    # p01 is Ana Ruiz in one file and Zoë Ångström in the other: naming p01 is ambiguous.
    code, _, err = run(capsys, "transcript", "--person", "p01")
    assert code == 1
    assert "names 2 people" in err
    assert "ssvms-balint-2020:p01" in err
    assert "fmms-balint-2020:p01" in err
    # Ana is still found by her e-mail, and her transcript holds only her own series.
    code, out, _ = run(capsys, "transcript", "--person", "ana.ruiz@example.org")
    assert code == 0
    assert "Ana Ruiz" in out
    assert "fmms-balint-2020" not in out
    assert "total 4.75 credit" in out
    code, out, _ = run(capsys, "attendance", "--person", "ssvms-balint-2020:p01")
    assert code == 0
    assert "Zoë" not in out
    assert "fmms-balint-2020" not in out


def test_the_same_physician_in_two_series_is_one_person(
    two_societies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both_certified(capsys, two_societies)
    for query in ("zoe.angstrom@example.net", "ssvms-balint-2020:p02", "fmms-balint-2020:p01"):
        code, out, err = run(capsys, "attendance", "--person", query)
        assert code == 0, err
        assert "ssvms-balint-2020:p02" in out
        assert "fmms-balint-2020:p01" in out
        assert "2020 Balint Group (ssvms-balint-2020), 5.00 credit" in out
        assert "FMMS Balint Group (fmms-balint-2020), 5.00 credit" in out
    code, out, _ = run(capsys, "transcript", "--person", "jose.nunez@example.org")
    assert code == 0
    assert "(ssvms-balint-2020)" in out
    assert "(fmms-balint-2020)" in out
    with Ledger.open(two_societies / "ledger.sqlite3", create=False) as ledger:
        (zoe,) = ledger.find_people("Zoe.Angstrom@Example.NET")
        assert dict(zoe.roster_ids) == {"ssvms-balint-2020": "p02", "fmms-balint-2020": "p01"}
        assert ledger.check_chain().is_intact


def test_consent_releases_only_the_person_who_gave_it(
    two_societies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both_certified(capsys, two_societies)
    code, out, _ = run(capsys, "consent", "--person", "ssvms-balint-2020:p01")  # Ana
    assert code == 0
    code, out, _ = run(
        capsys,
        "pars",
        str(two_societies / "other.toml"),
        "--out",
        str(two_societies / "pars-b.txt"),
    )
    assert code == 0
    assert "wrote 0 learner row(s)" in out
    assert "not exported: p01 in fmms-balint-2020: no consent on record" in out
    # Zoë consents once, as herself: it covers both series she is on the roster of.
    code, _, _ = run(capsys, "consent", "--person", "fmms-balint-2020:p01")
    assert code == 0
    code, out, _ = run(
        capsys,
        "pars",
        str(SERIES_2020),
        str(two_societies / "other.toml"),
        "--out",
        str(two_societies / "pars.txt"),
    )
    assert code == 3  # a consenting learner was left out (missing data)
    # Considered as consenting in both series: exported from the example roster, which gives
    # her what PARS needs, and listed as missing it in the other file ...
    assert "wrote 1 learner row(s)" in out
    assert "\tZoë\tÅngström\t" in (two_societies / "pars.txt").read_text(encoding="utf-8")
    assert "Zoë Ångström (p01, fmms-balint-2020): missing" in out
    # ... while José, on both rosters too, gave no consent.
    assert "not exported: p05 in fmms-balint-2020: no consent on record" in out


def test_consent_by_an_ambiguous_roster_id_is_refused(
    two_societies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both_certified(capsys, two_societies)
    code, _, err = run(capsys, "consent", "--person", "p01")
    assert code == 1
    assert "names 2 people" in err
    with Ledger.open(two_societies / "ledger.sqlite3", create=False) as ledger:
        assert ledger.consenting() == {}


def _state(path: Path) -> tuple[object, ...]:
    connection = sqlite3.connect(path)
    try:
        return tuple(
            connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("audit", "people", "person_links", "enrollments", "certificates")
        )
    finally:
        connection.close()


def test_a_roster_id_reused_for_someone_else_in_the_same_series_is_refused_before_writing(
    two_societies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert certify(capsys, SERIES_2020, two_societies / "a") == (0, "")
    before = _state(two_societies / "ledger.sqlite3")
    changed = two_societies / "changed.toml"
    changed.write_text(
        SERIES_2020.read_text(encoding="utf-8")
        .replace('name = "Ana Ruiz"', 'name = "Bo Li"')
        .replace('email = "ana.ruiz@example.org"', 'email = "bo.li@example.org"'),
        encoding="utf-8",
    )
    code, err = certify(capsys, changed, two_societies / "b")
    assert code == 1
    assert err.count("\n") == 1
    assert "ssvms-balint-2020:p01 (Bo Li, bo.li@example.org) is not ledger person" in err
    assert "(Ana Ruiz, ana.ruiz@example.org)" in err
    assert "give the new person a roster id of their own" in err
    assert not (two_societies / "b").exists()
    assert _state(two_societies / "ledger.sqlite3") == before


def test_a_corrected_name_is_the_same_person(
    two_societies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert certify(capsys, SERIES_2020, two_societies / "a") == (0, "")
    corrected = two_societies / "corrected.toml"
    corrected.write_text(
        SERIES_2020.read_text(encoding="utf-8").replace("Ana Ruiz", "Ana Ruiz Ortega"),
        encoding="utf-8",
    )
    assert certify(capsys, corrected, two_societies / "a") == (0, "")
    with Ledger.open(two_societies / "ledger.sqlite3", create=False) as ledger:
        (ana,) = ledger.find_people("ana.ruiz@example.org")
        assert ana.name == "Ana Ruiz Ortega"
        assert ana.roster_ids == (("ssvms-balint-2020", "p01"),)


def _series(text: str, name: str = "s.toml") -> Series:
    return parse_series(text.encode(), Path(name))


def _with_npi(text: str, email: str, npi: str) -> str:
    return text.replace(f'email = "{email}"\n', f'email = "{email}"\nnpi = "{npi}"\n')


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        # The same e-mail under another NPI.
        (
            ("ana.ruiz@example.org", "1234567893"),
            ("ana.ruiz@example.org", "1245319599"),
            "has the e-mail of ledger person",
        ),
        # The same NPI under another e-mail (neither lists the other as an alias).
        (
            ("ana.ruiz@example.org", "1234567893"),
            ("zoe.angstrom@example.net", "1234567893"),
            "its NPI is ledger person .* but its e-mail is ledger person",
        ),
        # The same NPI under an e-mail nobody has.
        (
            ("ana.ruiz@example.org", "1234567893"),
            ("someone.else@example.org", "1234567893"),
            "has the NPI of ledger person",
        ),
    ],
)
def test_an_identifier_of_another_person_is_refused(
    tmp_path: Path, first: tuple[str, str], second: tuple[str, str], message: str
) -> None:
    a = _series(_with_npi(SERIES_2020.read_text(encoding="utf-8"), *first))
    b_text = _with_npi(OTHER, "ZOE.ANGSTROM@example.net", second[1]).replace(
        "ZOE.ANGSTROM@example.net", second[0]
    )
    if second[0] == "ana.ruiz@example.org":
        b_text = b_text.replace('name = "Zoë Ångström"', 'name = "Ana Ruiz"')
    b = _series(b_text)
    with Ledger.open(
        tmp_path / "l.sqlite3", clock=lambda: datetime(2021, 2, 1, tzinfo=UTC)
    ) as ledger:
        ledger.record_series(a, content=b"a", file_name="a.toml", actor="t")
        head = ledger.head()
        with pytest.raises(IdentityConflictError, match=message):
            ledger.check_roster(b)
        with pytest.raises(IdentityConflictError, match=message):
            ledger.record_series(b, content=b"b", file_name="b.toml", actor="t")
        assert ledger.head() == head


def test_an_alias_resolves_a_changed_email_under_the_same_npi(tmp_path: Path) -> None:
    a = _series(
        _with_npi(SERIES_2020.read_text(encoding="utf-8"), "ana.ruiz@example.org", "1234567893")
    )
    b = _series(
        OTHER.replace(
            'email = "ZOE.ANGSTROM@example.net"\n',
            'email = "ana@clinic.example.org"\nnpi = "1234567893"\naliases = ["ana.ruiz@example.org"]\n',
        ).replace('name = "Zoë Ångström"', 'name = "Ana Ruiz"')
    )
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        ledger.record_series(a, content=b"a", file_name="a.toml", actor="t")
        ledger.record_series(b, content=b"b", file_name="b.toml", actor="t")
        (ana,) = ledger.find_people("1234567893")
        assert dict(ana.roster_ids) == {"ssvms-balint-2020": "p01", "fmms-balint-2020": "p01"}


def test_two_roster_entries_of_one_file_never_share_a_person(tmp_path: Path) -> None:
    text = OTHER.replace('email = "jose.nunez@example.org"', 'email = "zoe.angstrom@example.net"')
    with (
        Ledger.open(tmp_path / "l.sqlite3") as ledger,
        pytest.raises(IdentityConflictError, match="are the same person"),
    ):
        ledger.record_series(_series(text), content=b"x", file_name="x.toml", actor="t")


def test_the_example_files_name_one_physician_once(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        for path in (SERIES_2020, EXAMPLES / "ssvms-balint-2023.toml"):
            series = parse_series(path.read_bytes(), path)
            ledger.record_series(series, content=path.read_bytes(), file_name=path.name, actor="t")
        (minh_anh,) = ledger.find_people("minh.anh@example.com")
        assert minh_anh.credentials == "MD"
        assert dict(minh_anh.roster_ids) == {"ssvms-balint-2020": "p05", "ssvms-balint-2023": "p12"}


# -- the schema-1 ledger ------------------------------------------------------------------------


def test_a_schema1_ledger_that_joined_two_people_is_split_on_upgrade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.sqlite3"
    shutil.copyfile(FIXTURES / "schema1-joined-p01.sqlite3", path)
    path.chmod(0o600)
    with Ledger.open(path, create=False) as ledger:
        notes = ledger.upgrade_notes
        assert any("roster id p01 named different people" in note for note in notes)
        assert any("consent recorded for p01" in note for note in notes)
        assert ledger.check_chain().is_intact
        (ana,) = ledger.find_people("ana.ruiz@example.org")
        (bo,) = ledger.find_people("bo.li@example.org")
        assert ana.person_id != bo.person_id
        assert ana.name == "Ana Ruiz"  # schema 1 had overwritten her with Bo Li's details
        assert ana.roster_ids == (("ssvms-balint-2020", "p01"),)
        assert bo.roster_ids == (("ssvms-balint-2021", "p01"),)
        assert [r.series_id for r in ledger.attendance_of(ana.person_id)] == ["ssvms-balint-2020"]
        # The consent "for p01" could be either person's: it stands for neither.
        assert ledger.consenting() == {}
        # Everyone else was the same person in both files, and stays one person.
        (zoe,) = ledger.find_people("zoe.angstrom@example.net")
        assert len(zoe.roster_ids) == 2
    with Ledger.open(path, create=False) as again:
        assert again.upgrade_notes == ()
    monkeypatch.setenv("BALINT_CME_LEDGER", str(path))
    code, out, _ = run(capsys, "transcript", "--person", "bo.li@example.org")
    assert code == 0
    assert "Ana" not in out
    # The command says what an upgrade changed.
    fresh = tmp_path / "fresh.sqlite3"
    shutil.copyfile(FIXTURES / "schema1-joined-p01.sqlite3", fresh)
    fresh.chmod(0o600)
    code, _, err = run(
        capsys, "attendance", "--person", "bo.li@example.org", "--ledger", str(fresh)
    )
    assert code == 0
    assert "ledger upgraded: roster id p01 named different people" in err
    # Ana's ledger id is still "p01", and Bo's roster id too: "p01" is ambiguous.
    code, _, err = run(capsys, "consent", "--person", "p01", "--ledger", str(fresh))
    assert code == 1
    assert "names 2 people" in err
    code, out, _ = run(capsys, "consent", "--person", "bo.li@example.org", "--ledger", str(fresh))
    assert code == 0
    with Ledger.open(fresh, create=False) as ledger:
        (bo,) = ledger.find_people("bo.li@example.org")
        assert set(ledger.consenting()) == {bo.person_id}
        assert set(ledger.consenting(series_id="ssvms-balint-2020")) == set()


# -- never merged, whatever ids the files use -------------------------------------------------

POOL = [
    Participant(
        id="x",
        name=f"Person {n}",
        credentials="MD",
        email=f"person{n}@example.org",
        npi=f"{1000000000 + n}" if n % 2 else None,
    )
    for n in range(6)
]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.sampled_from(range(6)), min_size=1, max_size=4, unique=True),
    st.lists(st.sampled_from(range(6)), min_size=1, max_size=4, unique=True),
    st.lists(
        st.sampled_from(["p01", "p02", "p03", "p04", "p05", "p06"]),
        min_size=8,
        max_size=8,
        unique=False,
    ),
)
def test_people_are_never_merged_and_always_linked(
    tmp_path_factory: pytest.TempPathFactory, first: list[int], second: list[int], ids: list[str]
) -> None:
    template = _series(SERIES_2020.read_text(encoding="utf-8").split("[[facilitators]]")[0])
    rosters = {}
    for series_id, people, offset in (("a", first, 0), ("b", second, 4)):
        roster_ids = list(dict.fromkeys([*ids[offset : offset + 4], "p07", "p08", "p09", "p10"]))
        rosters[series_id] = {roster_ids[i]: n for i, n in enumerate(people)}
    path = tmp_path_factory.mktemp("never-merged") / "l.sqlite3"
    with Ledger.open(path) as ledger:
        for series_id, roster in rosters.items():
            series = template.evolve(
                id=series_id,
                participants=tuple(POOL[n].evolve(id=rid) for rid, n in roster.items()),
            )
            ledger.record_series(series, content=series_id.encode(), file_name="f", actor="t")
        owner: dict[str, int] = {}
        for series_id, roster in rosters.items():
            for rid, n in roster.items():
                person = ledger.roster_entry(series_id, rid)
                assert person is not None
                # One ledger person is one real person (never merged) ...
                assert owner.setdefault(person.person_id, n) == n
        # ... and one real person is one ledger person (never split).
        assert len(owner) == len(set(first) | set(second))
