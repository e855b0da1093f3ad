"""The verification web app through Starlette's test client: every status, the JSON API and its
schema, the PDF upload, the rate limit, the headers, caching, logging, counts and privacy."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from balint_cme.web.app import SECURITY_HEADERS, TokenBucket, create_app
from balint_cme.web.counts import default_counts_path, read_counts
from tests.verify.web_support import PRIVATE, Issued, issue_2020

# End to end (the real command, ledger or renderer in every test): `scripts/check --fast`
# leaves this module out; `make test` and CI run it.
pytestmark = pytest.mark.slow

SCHEMA = json.loads(
    (resources.files("balint_cme.web") / "verify-answer.v1.schema.json").read_text("utf-8")
)


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    return issue_2020(tmp_path_factory.mktemp("web"))


@pytest.fixture
def revocable(tmp_path: Path) -> Issued:
    """A ledger of its own, for tests that revoke or re-issue."""
    return issue_2020(tmp_path)


def client_for(issued: Issued, **options: Any) -> TestClient:
    options.setdefault("lookups_per_minute", 100_000)
    options.setdefault("burst", 100_000)
    return TestClient(create_app(issued.ledger_path, issued.keys, **options))


@pytest.fixture
def client(issued: Issued) -> Iterator[TestClient]:
    with client_for(issued) as test_client:
        yield test_client


def api(client: TestClient, code: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/verify/{code}")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    jsonschema.validate(document, SCHEMA)
    return document


def status_of(html: str) -> str:
    found = re.search(r'data-status="([a-z]+)"', html)
    assert found is not None, html
    return found.group(1)


def test_a_valid_code_shows_exactly_the_sealed_claims(client: TestClient, issued: Issued) -> None:
    response = client.get(f"/v/{issued.code_of('p01')}")
    assert response.status_code == 200
    page = response.text
    assert status_of(page) == "valid"
    assert "Ana Ruiz, MD" in page
    assert "2020 Balint Group" in page
    assert "Fresno Madera Medical Society" in page
    assert "September 9, October 14, November 11 and December 9, 2020; January 13, 2021" in page
    assert "4.75 <em>AMA PRA Category 1 Credits™</em>" in page
    assert issued.number_of("p01") in page
    assert "January 20, 2021" in page
    assert '<html lang="en">' in page


def test_the_form_query_and_the_short_path_give_the_same_answer(
    client: TestClient, issued: Issued
) -> None:
    code = issued.code_of("p01")
    typed = code.replace("-", "").lower()  # without dashes, any case
    for url in (f"/verify?code={typed}", f"/v/{code}", f"/V/{code.upper()}"):
        assert status_of(client.get(url).text) == "valid", url


def test_participation_certificate_states_hours_not_credit(
    client: TestClient, issued: Issued
) -> None:
    page = client.get(f"/v/{issued.code_of('p03')}").text
    assert "2.25 hours of participation" in page
    assert "no <em>AMA PRA Category 1 Credit™</em> awarded" in page
    assert api(client, issued.code_of("p03"))["certificate"]["credits"] is None


@given(garbage=st.text(max_size=80))
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_unknown_or_malformed_codes_get_unknown_and_nothing_more(
    client: TestClient, garbage: str
) -> None:  # the client holds no state a lookup changes (counting is off for unknown codes)
    from urllib.parse import quote

    path = quote(garbage, safe="") or "x"
    response = client.get(f"/api/v1/verify/{path}")
    assert response.status_code == 200
    assert response.json() == {"api_version": "1", "status": "unknown"}
    if garbage.strip():  # an empty code shows the form alone
        page = client.get("/verify", params={"code": garbage})
        assert status_of(page.text) == "unknown"


def test_a_code_of_the_right_shape_but_never_issued_is_unknown(
    client: TestClient, issued: Issued
) -> None:
    real = issued.code_of("p01")
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    assert api(client, forged) == {"api_version": "1", "status": "unknown"}
    page = client.get(f"/v/{forged}").text
    assert status_of(page) == "unknown"
    assert "Ana Ruiz" not in page


def test_a_certificate_number_is_not_a_way_in(client: TestClient, issued: Issued) -> None:
    assert api(client, issued.number_of("p01")) == {"api_version": "1", "status": "unknown"}


def test_revoked_shows_the_reason_and_the_date(revocable: Issued) -> None:
    with client_for(revocable) as client:
        code = revocable.code_of("p02")
        assert api(client, code)["status"] == "valid"
        revocable.revoke("p02", "issued to the wrong person")
        document = api(client, code)
        assert document["status"] == "revoked"
        assert document["revoked"]["reason"] == "issued to the wrong person"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", document["revoked"]["on"])
        page = client.get(f"/v/{code}").text
        assert status_of(page) == "revoked"
        assert "Revoked" in page
        assert "issued to the wrong person" in page


def test_superseded_shows_the_version_and_the_current_one(revocable: Issued) -> None:
    old_code = revocable.code_of("p02")
    revocable.certify(name_of_p02="Zoë Ångström-Lind")
    with client_for(revocable) as client:
        document = api(client, old_code)
        assert document["status"] == "superseded"
        assert document["superseded"]["current_version"] == 2
        assert document["certificate"]["name"] == "Zoë Ångström"
        assert document["superseded"]["current"]["name"] == "Zoë Ångström-Lind"
        page = client.get(f"/v/{old_code}").text
        assert "Superseded by version 2" in page
        assert "Zoë Ångström-Lind" in page
        assert api(client, revocable.code_of("p02"))["status"] == "valid"
        revocable.revoke("p02")
        assert api(client, old_code)["status"] == "revoked"


def _all_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_no_private_field_is_ever_shown(client: TestClient, issued: Issued) -> None:
    code = issued.code_of("p01")
    document = api(client, code)
    assert set(document["certificate"]) == set(
        SCHEMA["$defs"]["certificate"]["properties"]
    )  # the schema forbids any other field
    page = client.get(f"/v/{code}").text
    with issued.pdf_of("p01").open("rb") as pdf:
        upload = client.post("/verify/pdf", files={"pdf": ("c.pdf", pdf, "application/pdf")}).text
    for shown in (_all_text(document), page, upload):
        for secret in PRIVATE.values():
            assert secret not in shown
        for field in ("email", "npi", "license", "licence_number", "birth"):
            assert f'"{field}' not in shown
        assert "p01" not in re.sub(r"<[^>]+>", "", shown)  # not even the roster id


def test_every_answer_validates_against_the_published_schema(revocable: Issued) -> None:
    with client_for(revocable) as client:
        old_code = revocable.code_of("p02")
        revocable.certify(name_of_p02="Zoë Ångström-Lind")
        for code in (*(i.verification_code for i in revocable.result.issued), old_code, "nonsense"):
            api(client, code)
        revocable.revoke("p01")
        api(client, revocable.code_of("p01"))
        schema = client.get("/api/v1/schema.json")
        assert schema.json() == SCHEMA


def test_uploading_the_issued_pdf_says_it_is_the_file_issued(
    client: TestClient, issued: Issued
) -> None:
    data = issued.pdf_of("p01").read_bytes()
    response = client.post("/verify/pdf", files={"pdf": ("c.pdf", data, "application/pdf")})
    assert response.status_code == 200
    assert status_of(response.text) == "valid"
    assert "byte for byte the one issued" in response.text
    assert "no-store" in response.headers["cache-control"]


def test_uploading_an_edited_pdf_is_not_valid_and_shows_no_claims(
    client: TestClient, issued: Issued
) -> None:
    data = issued.pdf_of("p01").read_bytes()
    forged = data.replace(b"4.75", b"9.75")  # the sealed claims in the metadata say 4.75
    assert forged != data
    response = client.post("/verify/pdf", files={"pdf": ("c.pdf", forged, "application/pdf")})
    assert status_of(response.text) == "unknown"
    assert "Ana Ruiz" not in response.text
    junk = client.post("/verify/pdf", files={"pdf": ("c.pdf", b"%PDF-1.4 junk", "application/pdf")})
    assert status_of(junk.text) == "unknown"


def test_uploading_a_revoked_certificate_says_revoked(revocable: Issued) -> None:
    revocable.revoke("p01", "attendance report was for another meeting")
    with client_for(revocable) as client:
        data = revocable.pdf_of("p01").read_bytes()
        page = client.post("/verify/pdf", files={"pdf": ("c.pdf", data, "application/pdf")}).text
        assert status_of(page) == "revoked"
        assert "attendance report was for another meeting" in page


def test_lookups_are_rate_limited_per_client(issued: Issued) -> None:
    with client_for(issued, lookups_per_minute=60, burst=3, clock=lambda: 1000.0) as client:
        code = issued.code_of("p01")
        assert [client.get(f"/api/v1/verify/{code}").status_code for _ in range(3)] == [200] * 3
        refused = client.get(f"/api/v1/verify/{code}")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert client.get(f"/v/{code}").status_code == 429
        assert client.get("/").status_code == 200  # the form itself is not a lookup


def test_token_bucket_refills_at_its_rate_and_forgets_old_clients() -> None:
    now = [0.0]
    bucket = TokenBucket(60, 2, max_clients=2, clock=lambda: now[0])
    assert [bucket.take("a"), bucket.take("a")] == [0.0, 0.0]
    assert bucket.take("a") == pytest.approx(1.0)
    now[0] += 1.0
    assert bucket.take("a") == 0.0
    bucket.take("b")
    bucket.take("c")  # "a" is forgotten: memory stays bounded
    assert bucket.take("a") == 0.0


def test_security_headers_and_no_cookies_on_every_response(
    client: TestClient, issued: Issued
) -> None:
    responses = [
        client.get("/"),
        client.get(f"/v/{issued.code_of('p01')}"),
        client.get("/api/v1/verify/x"),
        client.get("/static/verify.css"),
        client.get("/no-such-page"),
        client.post("/verify/pdf", files={"pdf": ("c.pdf", b"x", "application/pdf")}),
    ]
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        assert "set-cookie" not in response.headers
    csp = SECURITY_HEADERS["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "script-src" not in csp
    assert "frame-ancestors 'none'" in csp


def test_pages_have_no_inline_script_or_style(client: TestClient, issued: Issued) -> None:
    page = client.get(f"/v/{issued.code_of('p01')}").text
    assert "<script" not in page
    assert "<style" not in page
    assert " style=" not in page
    assert '<label for="code">' in page
    assert '<label for="pdf">' in page
    assert "<h1>" in page
    assert '<h2 id="result-heading">' in page


def test_answers_are_cached_at_most_the_stated_time(issued: Issued) -> None:
    with client_for(issued, cache_seconds=60) as client:
        response = client.get(f"/api/v1/verify/{issued.code_of('p01')}")
        assert response.headers["cache-control"] == "max-age=60"
        assert "etag" not in response.headers
        assert "expires" not in response.headers
        assert client.get(f"/v/{issued.code_of('p01')}").headers["cache-control"] == "max-age=60"


def test_each_lookup_logs_a_hash_of_the_code_never_the_code_or_name(
    client: TestClient, issued: Issued, caplog: pytest.LogCaptureFixture
) -> None:
    code = issued.code_of("p01")
    with caplog.at_level(logging.INFO, logger="balint_cme.web"):
        client.get(f"/v/{code}")
        client.get(f"/api/v1/verify/{code}")
    lines = [r.getMessage() for r in caplog.records if r.name == "balint_cme.web"]
    assert len(lines) == 2
    for line in lines:
        assert "status=valid" in line
        assert code not in line
        assert code.split(".")[1] not in line
        assert "Ana" not in line
        assert "Ruiz" not in line


def test_verifications_are_counted_per_certificate_not_per_person(revocable: Issued) -> None:
    with client_for(revocable) as client:
        for _ in range(3):
            client.get(f"/v/{revocable.code_of('p01')}")
        client.get("/api/v1/verify/unknown.AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")
        data = revocable.pdf_of("p01").read_bytes()
        client.post("/verify/pdf", files={"pdf": ("c.pdf", data, "application/pdf")})
    # Leaving the client's context stops the app, which writes the buffered counts.
    counts = read_counts(default_counts_path(revocable.ledger_path))
    assert [(c.number, c.lookups, c.uploads) for c in counts] == [
        (revocable.number_of("p01"), 3, 1)
    ]
    assert set(type(counts[0]).model_fields) == {"number", "day", "lookups", "uploads"}


def test_the_app_never_writes_the_ledger(revocable: Issued) -> None:
    before = revocable.ledger_path.read_bytes()
    with client_for(revocable) as client:
        client.get(f"/v/{revocable.code_of('p01')}")
        data = revocable.pdf_of("p01").read_bytes()
        client.post("/verify/pdf", files={"pdf": ("c.pdf", data, "application/pdf")})
    assert revocable.ledger_path.read_bytes() == before


def test_the_app_can_be_mounted_under_a_path(issued: Issued) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    inner = create_app(issued.ledger_path, issued.keys, count_verifications=False)
    outer = Starlette(routes=[Mount("/cme", app=inner)])
    with TestClient(outer) as client:
        page = client.get(f"/cme/v/{issued.code_of('p01')}").text
        assert status_of(page) == "valid"
        assert 'action="/cme/verify"' in page
        assert 'href="/cme/static/verify.css"' in page


def test_importing_balint_cme_web_does_not_load_starlette() -> None:
    import subprocess
    import sys

    code = (
        "import sys, balint_cme, balint_cme.web, balint_cme.web.publish; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('starlette', 'uvicorn', 'jinja2', 'multipart')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
