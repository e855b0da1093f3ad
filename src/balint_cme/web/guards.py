"""What guards every answer of the verification web app: the per-client rate limit and the
security headers.

`TokenBucket` limits lookups per client (a burst, then a steady rate; the least recently seen
client is forgotten first). `SecurityHeaders` is plain ASGI middleware that adds
SECURITY_HEADERS to every response, drops any Set-Cookie, and turns a lookup path holding
control characters into an ordinary unknown code. No web library: app.py wires both in.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["SECURITY_HEADERS", "SecurityHeaders", "TokenBucket"]


_MAX_CLIENTS = 10_000
"""Buckets kept in memory; the least recently seen client is forgotten first."""

SECURITY_HEADERS: dict[str, str] = {
    # No script at all on the server-rendered page; styles only from our own file.
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class TokenBucket:
    """Per-client token buckets: `burst` lookups at once, then `per_minute` a minute."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        max_clients: int = _MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max_clients = max_clients
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Take one token for `client`: 0.0 if allowed, else the seconds until one is free."""
        now = self._clock()
        with self._lock:
            tokens, seen = self._buckets.pop(client, (self._burst, now))
            tokens = min(self._burst, tokens + (now - seen) * self._rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self._rate if self._rate > 0 else 3600.0
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
        return wait


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


_LOOKUP_PATHS = ("/api/v1/verify/", "/v/", "/V/")


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response and drops any Set-Cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        path = str(scope.get("path", ""))
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path) and path.startswith(_LOOKUP_PATHS):
            # Starlette's path patterns stop at a line break, which would answer 404: a code
            # with control characters is simply not a code ("unknown", like any other).
            prefix = next(p for p in _LOOKUP_PATHS if path.startswith(p))
            scope = {**scope, "path": prefix + "-", "raw_path": (prefix + "-").encode()}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"set-cookie"
                ]
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
