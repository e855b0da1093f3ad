"""Load test of the verification web app: lookups per second and latency, on loopback only.

Run by hand (`.venv/bin/python benchmarks/bench_web.py`); never part of the test suite. It
certifies the 2020 example series into a temporary ledger, starts `balint-cme serve` on a free
port of 127.0.0.1 (rate limit raised out of the way: one client makes every request; the
limiter still runs on each), and sends a bounded number of requests (default 20,000, and never
for longer than --seconds) from --connections keep-alive connections: JSON API and page
lookups of valid codes, and unknown codes, in a fixed mix. Target: at least 500 lookups/s
with p99 under 50 ms on the project's 2-core machine (the client shares those cores).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from balint_cme.certificates.keys import create_key
from balint_cme.ledger import Ledger
from balint_cme.usecases.certify import certify

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), or 0.0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _prepare(folder: Path) -> tuple[Path, Path, list[str]]:
    key_path = folder / "keys" / "signing.key"
    key = create_key(key_path)
    ledger_path = folder / "ledger.sqlite3"
    with Ledger.open(ledger_path) as ledger:
        result = certify(
            EXAMPLES / "ssvms-balint-2020.toml",
            [(p, None) for p in sorted((EXAMPLES / "reports").glob("zoom-session-*.csv"))],
            folder / "certificates",
            key=key,
            ledger=ledger,
            issued_on=date(2021, 1, 20),
            actor="benchmark",
            workers=1,
        )
    return ledger_path, key_path, [item.verification_code for item in result.issued]


async def _worker(
    port: int, paths: list[str], deadline: float, latencies: list[float], counter: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while counter[0] > 0 and time.monotonic() < deadline:
            counter[0] -= 1
            path = random.choice(paths)
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected answer: {head[:40]!r}")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _load(
    port: int, paths: list[str], requests: int, seconds: float, connections: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    counter = [requests]
    started = time.monotonic()
    await asyncio.gather(
        *(_worker(port, paths, started + seconds, latencies, counter) for _ in range(connections))
    )
    return latencies, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60.0, help="stop after this long")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="balint-cme-bench-web-") as folder:
        ledger_path, key_path, codes = _prepare(Path(folder))
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable, "-m", "balint_cme", "serve", "--port", str(port),
                "--ledger", str(ledger_path), "--key-file", str(key_path),
                "--lookups-per-minute", "1e9", "--burst", "1000000000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), 0.5),
                ):
                    break
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
            unknown = "kbench0001.AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
            paths = (
                [f"/api/v1/verify/{code}" for code in codes] * 3
                + [f"/v/{code}" for code in codes]
                + [f"/api/v1/verify/{unknown}"] * 2
            )
            asyncio.run(_load(port, paths, 500, 10.0, 2))  # warm up
            cpu_before = _cpu_seconds(server.pid)
            latencies, elapsed = asyncio.run(
                _load(port, paths, args.requests, args.seconds, args.connections)
            )
            cpu = _cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=15)
    latencies.sort()
    count = len(latencies)

    def p(q: float) -> float:
        return latencies[min(count - 1, int(q * count))] * 1000

    print(
        f"{count} lookups in {elapsed:.2f} s over {args.connections} connections: "
        f"{count / elapsed:.0f} lookups/s; latency median {statistics.median(latencies) * 1000:.2f} ms, "
        f"p95 {p(0.95):.2f} ms, p99 {p(0.99):.2f} ms, max {latencies[-1] * 1000:.2f} ms "
        "(mix: 3/4 JSON API, 1/8 HTML page, 1/8 unknown code)"
    )
    if cpu > 0:
        print(
            f"server CPU: {cpu * 1000 / count:.3f} ms per lookup, so one core serves about "
            f"{count / cpu:.0f} lookups/s when it is not shared (load average now "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
        )
    print(
        f"target >= 500 lookups/s and p99 < 50 ms: {'met' if count / elapsed >= 500 and p(0.99) < 50 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
