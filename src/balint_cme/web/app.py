"""The public verification web app: an ASGI application (Starlette, Jinja2 templates).

    GET  /                      the verify page: a form to type a code, a form to upload a PDF
    GET  /verify?code=CODE      the answer as a page (also /v/CODE and /V/CODE, for QR codes)
    POST /verify/pdf            a PDF upload: is this file the one issued?
    GET  /api/v1/verify/{code}  the answer as JSON (shape: /api/v1/schema.json)

It reads the ledger through read-only connections (a coordinator may certify into the same
file meanwhile) and writes only the verification counts (counts.py). Lookups are rate limited
per client, every response carries the security headers and no cookie, answers may be cached
for `cache_seconds` (the longest a revocation can go unseen), and each lookup logs one line
with a hash of the code, never the code or the name. The rate limit and the security headers
are guards.py (TokenBucket and SECURITY_HEADERS stay importable from here).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from balint_cme.certificates.keys import KeyRing
from balint_cme.certificates.verification import MAX_PDF_BYTES, VerificationResult
from balint_cme.ledger import Ledger
from balint_cme.usecases.verify import verify_certificate_pdf
from balint_cme.web.answers import (
    UNKNOWN,
    PublicAnswer,
    answer_document,
    answer_for_record,
    code_digest,
    look_up,
)
from balint_cme.web.counts import VerificationCounts, default_counts_path
from balint_cme.web.guards import SECURITY_HEADERS, SecurityHeaders, TokenBucket

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_CACHE_SECONDS",
    "DEFAULT_LOOKUPS_PER_MINUTE",
    "SECURITY_HEADERS",
    "TokenBucket",
    "create_app",
    "run_server",
    "verify_uploaded_pdf",
]

log = logging.getLogger("balint_cme.web")

DEFAULT_LOOKUPS_PER_MINUTE = 60.0
"""Sustained lookups per client (one a second), after a burst of DEFAULT_BURST."""
DEFAULT_BURST = 20
DEFAULT_CACHE_SECONDS = 60
"""Answers may be cached this long: the longest a revocation can go unseen by a verifier."""
_MAX_CACHED = 50_000
"""Answers kept in memory between changes to the ledger (a few hundred bytes each)."""


def verify_uploaded_pdf(data: bytes, keys: KeyRing, ledger: Ledger) -> VerificationResult:
    """Adapter over the library's one verify entry point for a PDF
    (usecases.verify.verify_certificate_pdf): structure, claims' seal, page seal, then the ledger."""
    return verify_certificate_pdf(data, keys=keys, ledger=ledger)


def _is_sealed(verdict: VerificationResult) -> bool:
    """Whether the result came from a PDF whose seals checked out (valid, or valid but since
    superseded or revoked): only then may the ledger's record of its number be shown."""
    return verdict.claims is not None and str(verdict.status) in ("valid", "superseded", "revoked")


class _Ledgers:
    """One read-only ledger connection per thread (SQLite connections stay in their thread),
    and a cache of answers that is emptied whenever the ledger file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        Ledger.open(path, read_only=True).close()  # fail at start, not on the first lookup
        self._answers: dict[str, tuple[PublicAnswer, str | None]] = {}
        self._version: int | None = None
        self._lock = threading.Lock()
        self._watch = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )

    def get(self) -> Ledger:
        ledger: Ledger | None = getattr(self._local, "ledger", None)
        if ledger is None:
            ledger = Ledger.open(self.path, read_only=True)
            self._local.ledger = ledger
        return ledger

    def look_up(self, keys: KeyRing, code: str) -> tuple[PublicAnswer, str | None]:
        """look_up() with a cache: SQLite's data_version changes as soon as another connection
        (certify, revoke) commits, and the cache is dropped then, so it never adds staleness."""
        with self._lock:
            version = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
            if version != self._version:
                self._answers.clear()
                self._version = version
            cached = self._answers.get(code)
        if cached is not None:
            return cached
        found = look_up(self.get(), keys, code)
        with self._lock:
            if self._version == version:
                if len(self._answers) >= _MAX_CACHED:
                    self._answers.clear()
                self._answers[code] = found
        return found


def _templates() -> Jinja2Templates:
    folder = resources.files("balint_cme.web") / "templates"
    return Jinja2Templates(directory=str(folder))


def create_app(
    ledger_path: Path,
    keys: KeyRing,
    *,
    counts_path: Path | None = None,
    count_verifications: bool = True,
    lookups_per_minute: float = DEFAULT_LOOKUPS_PER_MINUTE,
    burst: int = DEFAULT_BURST,
    cache_seconds: int = DEFAULT_CACHE_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The verification app for the ledger at `ledger_path`, checking codes with `keys`.

    Mount it inside another ASGI app (`Mount("/cme", app=create_app(...))`) or serve it with
    uvicorn. Counts go to `counts_path` (default: beside the ledger, see counts.py) unless
    `count_verifications` is False.

    Raises:
        DataFileError: the ledger cannot be opened read-only, or the counts file cannot be made.
    """
    ledgers = _Ledgers(ledger_path)
    counts = (
        VerificationCounts(counts_path or default_counts_path(ledger_path))
        if count_verifications
        else None
    )
    limiter = TokenBucket(lookups_per_minute, burst, clock=clock)
    templates = _templates()
    cache_control = f"max-age={cache_seconds}" if cache_seconds > 0 else "no-store"

    def client_of(request: Request) -> str:
        return request.client.host if request.client is not None else "unknown"

    def limited(request: Request, *, as_json: bool) -> Response | None:
        wait = limiter.take(client_of(request))
        if wait <= 0:
            return None
        seconds = max(1, int(wait + 0.999))
        log.info("lookup refused client=%s reason=rate-limit", client_of(request))
        headers = {"retry-after": str(seconds), "cache-control": "no-store"}
        if as_json:
            return JSONResponse(
                {"error": "too many lookups", "retry_after_seconds": seconds},
                status_code=429,
                headers=headers,
            )
        return templates.TemplateResponse(
            request,
            "verify.html",
            {"base": request.scope.get("root_path", ""), "limited": seconds, "answer": None},
            status_code=429,
            headers=headers,
        )

    def answer(request: Request, code: str, via: str) -> PublicAnswer:
        found, number = ledgers.look_up(keys, code[:200])
        if counts is not None and number is not None:
            counts.add(number)
        log.info(
            "lookup via=%s code=%s status=%s client=%s",
            via,
            code_digest(code),
            found.status,
            client_of(request),
        )
        return found

    def page(
        request: Request,
        *,
        answer: PublicAnswer | None,
        code: str = "",
        upload: dict[str, Any] | None = None,
        status_code: int = 200,
        cache: str | None = None,
    ) -> Response:
        return templates.TemplateResponse(
            request,
            "verify.html",
            {
                "base": request.scope.get("root_path", ""),
                "answer": answer,
                "code": code[:200],
                "upload": upload,
                "limited": None,
            },
            status_code=status_code,
            headers={"cache-control": cache or cache_control},
        )

    async def home(request: Request) -> Response:
        code = request.query_params.get("code", "")
        if not code.strip():
            return page(request, answer=None)
        return await _lookup_page(request, code)

    async def short(request: Request) -> Response:
        return await _lookup_page(request, request.path_params["code"])

    async def _lookup_page(request: Request, code: str) -> Response:
        refused = limited(request, as_json=False)
        if refused is not None:
            return refused
        # A lookup is a few indexed reads (well under a millisecond): done on the event loop.
        found = answer(request, code, "page")
        return page(request, answer=found, code=found.code or code)

    async def api(request: Request) -> Response:
        refused = limited(request, as_json=True)
        if refused is not None:
            return refused
        found = answer(request, request.path_params["code"], "api")
        return JSONResponse(answer_document(found), headers={"cache-control": cache_control})

    async def schema(request: Request) -> Response:
        text = (resources.files("balint_cme.web") / "verify-answer.v1.schema.json").read_text(
            encoding="utf-8"
        )
        return Response(
            text,
            media_type="application/schema+json",
            headers={"cache-control": "max-age=3600"},
        )

    def check_upload(request: Request, data: bytes) -> dict[str, Any]:
        ledger = ledgers.get()
        sha256 = hashlib.sha256(data).hexdigest()
        verdict = verify_uploaded_pdf(data, keys, ledger)
        result: dict[str, Any] = {"sha256": sha256, "answer": UNKNOWN, "same_file": False}
        if _is_sealed(verdict) and verdict.claims is not None:
            record = ledger.certificate(verdict.claims.number, verdict.claims.version)
            if record is not None:
                shown = answer_for_record(ledger, record, keys)
                result["answer"] = shown
                result["same_file"] = record.pdf_sha256 == sha256
                if counts is not None and shown.status != "unknown":
                    counts.add(record.number, "uploads")
        result["genuine"] = _is_sealed(verdict) and result["answer"].status != "unknown"
        result["signature"] = verdict.signature if result["genuine"] else None
        # The verdict's own words, without the claims of a file that did not check out.
        result["verdict"] = verdict.headline if result["genuine"] else _public_problem(verdict)
        log.info(
            "lookup via=upload pdf=%s status=%s same_file=%s client=%s",
            sha256[:16],
            result["answer"].status,
            result["same_file"],
            client_of(request),
        )
        return result

    too_large = f"The file is larger than any certificate ({MAX_PDF_BYTES // 1_000_000} MB)."

    def upload_error(request: Request, message: str, status_code: int) -> Response:
        return page(
            request,
            answer=None,
            upload={"error": message},
            status_code=status_code,
            cache="no-store",
        )

    async def upload(request: Request) -> Response:
        refused = limited(request, as_json=False)
        if refused is not None:
            return refused
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_PDF_BYTES + 65_536:
            return upload_error(request, too_large, 413)
        form = await request.form(max_files=1, max_fields=5)
        try:
            item = form.get("pdf")
            if item is None or isinstance(item, str):
                return upload_error(request, "Choose a certificate PDF to check.", 400)
            data = await item.read(MAX_PDF_BYTES + 1)
        finally:
            await form.close()
        if len(data) > MAX_PDF_BYTES:
            return upload_error(request, too_large, 413)
        result = await run_in_threadpool(check_upload, request, data)
        return page(request, answer=result["answer"], upload=result, cache="no-store")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        if counts is not None:
            counts.flush()

    static = resources.files("balint_cme.web") / "static"
    app = Starlette(
        routes=[
            Route("/", home, methods=["GET", "HEAD"]),
            Route("/verify", home, methods=["GET", "HEAD"], name="verify"),
            Route("/v/{code:path}", short, methods=["GET", "HEAD"]),
            Route("/V/{code:path}", short, methods=["GET", "HEAD"]),
            Route("/verify/pdf", upload, methods=["POST"]),
            Route("/api/v1/verify/{code:path}", api, methods=["GET", "HEAD"]),
            Route("/api/v1/schema.json", schema, methods=["GET", "HEAD"]),
            Mount("/static", app=StaticFiles(directory=str(static)), name="static"),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeaders)
    app.state.counts = counts
    return app


def run_server(app: Starlette, *, host: str, port: int) -> None:
    """Serve `app` with uvicorn until stopped. uvicorn's access log is off: it would write the
    code in the path; the app logs its own line per lookup (a hash of the code)."""
    import uvicorn  # noqa: PLC0415 - only when serving, not when mounting the app elsewhere

    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")


def _public_problem(verdict: VerificationResult) -> str:
    """What went wrong with an uploaded file, in a sentence (no claims from the file)."""
    word = str(verdict.status)
    return {
        "altered": "This file is not the certificate issued: it was changed after issue.",
        "wrong-key": "This file was not sealed by this provider.",
        "could-not-check": "This file could not be proven to be the one issued.",
    }.get(word, "This file is not a certificate issued by this provider.")
