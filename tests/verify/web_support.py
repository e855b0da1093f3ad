"""A real ledger for the verification tests: the 2020 series certified from its Zoom reports,
with Ana Ruiz (p01) carrying every private field (e-mail, NPI, licence, birth date), so a test
can assert that none of them is ever shown."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from balint_cme.certificates.keys import KeyRing, SigningKey, _write_new_file, create_key
from balint_cme.ledger import Ledger
from balint_cme.workflow import CertifyResult, certify
from tests.conftest import EXAMPLES

PRIVATE = {
    "email": "ana.ruiz@example.org",
    "npi": "1234567893",
    "license_number": "A123456",
    "license_state": "CA",
    "birth": "07/19",
}
"""Ana Ruiz's private identifiers: none may appear in any public answer."""

_ANA = 'name = "Ana Ruiz"\ncredentials = "MD"\nemail = "ana.ruiz@example.org"\n'
_ANA_PRIVATE = (
    _ANA + 'npi = "1234567893"\nlicense_state = "CA"\nlicense_number = "A123456"\n'
    "birth_month = 7\nbirth_day = 19\n"
)


@dataclass
class Issued:
    """A certified ledger and what the tests need from it."""

    folder: Path
    series_file: Path
    ledger_path: Path
    key_path: Path
    key: SigningKey
    out: Path
    result: CertifyResult

    @property
    def keys(self) -> KeyRing:
        return KeyRing([self.key])

    def code_of(self, participant_id: str) -> str:
        return next(
            i for i in self.result.issued if i.participant_id == participant_id
        ).verification_code

    def number_of(self, participant_id: str) -> str:
        return next(i for i in self.result.issued if i.participant_id == participant_id).number

    def pdf_of(self, participant_id: str) -> Path:
        item = next(i for i in self.result.issued if i.participant_id == participant_id)
        return self.out / item.file

    def manifest(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / "manifest.json").read_text("utf-8"))
        return data

    def certify(
        self, *, name_of_p02: str | None = None, verify_url: str | None = None
    ) -> CertifyResult:
        """(Re-)certify; a new name for p02 issues version 2 of p02's number."""
        if name_of_p02 is not None:
            text = self.series_file.read_text("utf-8")
            start = text.index('id = "p02"')
            line_start = text.index("name = ", start)
            line_end = text.index("\n", line_start)
            text = text[:line_start] + f'name = "{name_of_p02}"' + text[line_end:]
            self.series_file.write_text(text, "utf-8")
        with Ledger.open(self.ledger_path) as ledger:
            self.result = certify(
                self.series_file,
                [(p, None) for p in sorted((EXAMPLES / "reports").glob("zoom-session-*.csv"))],
                self.out,
                key=self.key,
                ledger=ledger,
                issued_on=date(2021, 1, 20),
                actor="test",
                workers=1,
                verify_url_template=verify_url,
            )
        return self.result

    def revoke(self, participant_id: str, reason: str = "issued to the wrong person") -> None:
        with Ledger.open(self.ledger_path) as ledger:
            ledger.revoke(self.number_of(participant_id), reason=reason, actor="test")


def issue_2020(
    folder: Path, *, verify_url: str | None = None, key: SigningKey | None = None
) -> Issued:
    """Certify the 2020 series into `folder` (ledger, key file, certificates); with `key`, that
    key is written to the key file (so codes are the same on every run)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (EXAMPLES / "ssvms-balint-2020.toml").read_text("utf-8")
    assert _ANA in text
    series_file = folder / "series.toml"
    series_file.write_text(text.replace(_ANA, _ANA_PRIVATE), "utf-8")
    key_path = folder / "keys" / "signing.key"
    if key is None:
        key = create_key(key_path)
    else:
        key_path.parent.mkdir(mode=0o700, parents=True)
        _write_new_file(key_path, key._to_file_text())
    issued = Issued(
        folder=folder,
        series_file=series_file,
        ledger_path=folder / "ledger.sqlite3",
        key_path=key_path,
        key=key,
        out=folder / "certificates",
        result=None,  # type: ignore[arg-type]  # set by certify() below
    )
    issued.certify(verify_url=verify_url)
    return issued
