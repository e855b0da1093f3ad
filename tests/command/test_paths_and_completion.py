"""`balint-cme paths` (platformdirs places, environment overrides) and shell completion."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from balint_cme import places
from balint_cme.cli import build_parser, main
from balint_cme.completion import SHELLS, completion_script


def test_places_follow_platform_conventions_and_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for env in (places.KEY_FILE_ENV, places.LEDGER_FILE_ENV, places.CACHE_DIR_ENV):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert places.key_file() == tmp_path / "cfg" / "balint-cme" / "keys" / "signing.key"
    assert places.ledger_file() == tmp_path / "data" / "balint-cme" / "ledger.sqlite3"
    assert places.cache_dir() == tmp_path / "cache" / "balint-cme"
    monkeypatch.setenv(places.LEDGER_FILE_ENV, str(tmp_path / "elsewhere.sqlite3"))
    assert places.ledger_file() == tmp_path / "elsewhere.sqlite3"


def test_paths_command_says_where_and_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(places.LEDGER_FILE_ENV, str(tmp_path / "led.sqlite3"))
    monkeypatch.delenv(places.KEY_FILE_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert main(["paths"]) == 0
    text = capsys.readouterr().out
    assert f"{tmp_path / 'led.sqlite3'}  (from ${places.LEDGER_FILE_ENV})" in text
    assert str(tmp_path / "cfg" / "balint-cme" / "keys" / "signing.key") in text
    assert "(not created yet)" in text
    assert main(["paths", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == 1
    ledger = next(p for p in document["places"] if p["name"] == "ledger")
    assert ledger == {
        "name": "ledger",
        "path": str(tmp_path / "led.sqlite3"),
        "source": places.LEDGER_FILE_ENV,
        "exists": False,
    }


def test_paths_lists_the_pdf_signing_key_and_certificate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """certify signs once these exist, so a coordinator must be able to find them."""
    monkeypatch.delenv(places.KEY_FILE_ENV, raising=False)
    monkeypatch.delenv("BALINT_CME_SIGNING_KEY", raising=False)
    monkeypatch.setenv("BALINT_CME_SIGNING_CERT", str(tmp_path / "society.pem"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert main(["paths", "--json"]) == 0
    found = {p["name"]: p for p in json.loads(capsys.readouterr().out)["places"]}
    keys = tmp_path / "cfg" / "balint-cme" / "keys"
    assert found["HMAC key"]["path"] == str(keys / "signing.key")
    assert found["PDF signing key"]["path"] == str(keys / "pdf-signing-key.pem")
    assert found["PDF signing key"]["source"] == "default"
    assert found["PDF signing cert"]["path"] == str(tmp_path / "society.pem")
    assert found["PDF signing cert"]["source"] == "BALINT_CME_SIGNING_CERT"


def _subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(action.choices)


def test_completion_scripts_name_every_subcommand() -> None:
    commands = _subcommands()
    assert {"certify", "verify", "paths", "completion"} <= set(commands)
    for shell in SHELLS:
        script = completion_script(build_parser(), shell)
        for command in commands:
            assert command in script, (shell, command)


def test_fish_completion_offers_each_subcommand_s_options_and_files() -> None:
    script = completion_script(build_parser(), "fish")
    lines = script.splitlines()
    certify = [line for line in lines if "__fish_seen_subcommand_from certify" in line]
    assert any("-l attendance" in line and "-r -F" in line for line in certify)
    assert any("-l key-file" in line and "-r -F" in line for line in certify)
    assert any(line.endswith("-F") and "check" in line for line in lines)
    ledger = [line for line in lines if "__fish_seen_subcommand_from ledger" in line]
    assert any("-a check" in line for line in ledger)
    assert any("-a purge" in line for line in ledger)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash missing")
def test_bash_completion_completes_commands_and_options(tmp_path: Path) -> None:
    script = tmp_path / "balint-cme.bash"
    script.write_text(completion_script(build_parser(), "bash"), encoding="utf-8")

    def complete(*words: str) -> list[str]:
        quoted = " ".join(f"'{w}'" for w in words)
        program = (
            f"source {script}; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
            f"COMP_LINE='{' '.join(words)}'; COMP_POINT=${{#COMP_LINE}}; "
            "_shtab_balint_cme; printf '%s\\n' \"${COMPREPLY[@]}\""
        )
        result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
        return result.stdout.split()

    assert complete("balint-cme", "cer") == ["certify"]
    assert "--attendance" in complete("balint-cme", "certify", "--att")
    assert set(complete("balint-cme", "ledger", "")) >= {"check", "purge"}


def test_completion_command_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "zsh"]) == 0
    assert "#compdef balint-cme" in capsys.readouterr().out
