"""The society's settings file (balint-cme.toml): found, applied, overridden, and checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from balint_cme import places
from balint_cme.cli import build_parser, main
from balint_cme.commands.settings import apply_settings as _apply_settings
from tests.conftest import EXAMPLES

SERIES = "ssvms-balint-2020.toml"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A society folder with the 2020 series, and an empty per-user config folder."""
    shutil.copy(EXAMPLES / SERIES, tmp_path / SERIES)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    monkeypatch.delenv(places.LEDGER_FILE_ENV, raising=False)
    monkeypatch.delenv(places.KEY_FILE_ENV, raising=False)
    return tmp_path


def _args(*argv: str) -> object:
    args = build_parser().parse_args(list(argv))
    _apply_settings(args)
    return args


def test_settings_beside_the_series_fill_what_the_command_line_leaves_out(folder: Path) -> None:
    (folder / "balint-cme.toml").write_text(
        'by = "FMMS CME office"\nledger = "records/ledger.sqlite3"\nlayout = "layout.toml"\n'
        'export_tz = "America/New_York"\n[pars_activity_ids]\nssvms-balint-2020 = "FMMS-2020-BG"\n',
        encoding="utf-8",
    )
    series = str(folder / SERIES)
    args = _args("certify", series, "--attendance", "x.csv", "--out", "o")
    assert vars(args)["by"] == "FMMS CME office"
    assert vars(args)["ledger"] == folder / "records" / "ledger.sqlite3"  # relative to the file
    assert vars(args)["layout"] == folder / "layout.toml"
    assert vars(args)["export_tz"] == "America/New_York"
    explicit = _args("certify", series, "--attendance", "x.csv", "--out", "o", "--by", "me",
                     "--export-tz", "UTC")  # fmt: skip
    assert vars(explicit)["by"] == "me"
    assert vars(explicit)["export_tz"] == "UTC"
    pars = _args("pars", series, "--out", "p.txt", "--activity-id", "other=X")
    assert dict(item.split("=", 1) for item in vars(pars)["activity_id"]) == {
        "ssvms-balint-2020": "FMMS-2020-BG",
        "other": "X",
    }
    overridden = _args("pars", series, "--out", "p.txt", "--activity-id", "ssvms-balint-2020=Y")
    assert (
        dict(item.split("=", 1) for item in vars(overridden)["activity_id"])["ssvms-balint-2020"]
        == "Y"
    )


def test_environment_beats_the_settings_file_for_the_ledger_and_key(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "balint-cme.toml").write_text(
        'ledger = "from-settings.sqlite3"\nkey_file = "k.key"\n', encoding="utf-8"
    )
    series = str(folder / SERIES)
    monkeypatch.setenv(places.LEDGER_FILE_ENV, str(folder / "from-env.sqlite3"))
    args = _args("certify", series, "--attendance", "x.csv", "--out", "o")
    assert vars(args)["ledger"] is None  # left to the environment variable
    assert vars(args)["key_file"] == folder / "k.key"
    # verify reads no series file: the settings file is named (or found in the user folder).
    verify = _args("--settings", str(folder / "balint-cme.toml"), "verify", "BC-2021-000001")
    assert vars(verify)["key_file"] == [folder / "k.key"]  # verify takes a list of keys


def test_the_user_settings_file_applies_when_none_is_beside_the_series(folder: Path) -> None:
    user = folder / "user-config" / "balint-cme"
    user.mkdir(parents=True)
    (user / "balint-cme.toml").write_text('by = "user default"\n', encoding="utf-8")
    args = _args("revoke", "BC-2021-000001", "--reason", "r")
    assert vars(args)["by"] == "user default"
    assert vars(args)["settings_file"] == user / "balint-cme.toml"


def test_export_zone_from_settings_changes_how_reports_are_read(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = str(EXAMPLES / "reports" / "zoom-session-1.csv")
    series = str(folder / SERIES)
    assert main(["credits", series, "--attendance", report, "--json"]) == 0
    (folder / "balint-cme.toml").write_text('export_tz = "Asia/Tokyo"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["credits", series, "--attendance", report, "--json"]) == 1
    assert "zoom-session-1.csv" in capsys.readouterr().err
    # The command line still wins over the file.
    assert (
        main(["credits", series, "--attendance", report, "--export-tz", "America/Los_Angeles"]) == 0
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("by = \n", "not valid TOML"),
        ("bogus = 1\n", "bogus: Extra inputs are not permitted (known settings: by,"),
        ('export_tz = "Mars/Olympus"\n', "export_tz: 'Mars/Olympus' is not an IANA time zone"),
    ],
)
def test_a_bad_settings_file_is_one_line_naming_the_file_and_setting(
    folder: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    (folder / "balint-cme.toml").write_text(content, encoding="utf-8")
    assert main(["check", str(folder / SERIES)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "balint-cme.toml" in err
    assert expected in err


def test_an_explicit_settings_file_that_is_missing_is_an_error(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--settings", str(folder / "nope.toml"), "check", str(folder / SERIES)]) == 1
    assert "nope.toml: cannot read the settings file" in capsys.readouterr().err
