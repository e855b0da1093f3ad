"""Start-up of the balint-cme command: wall and CPU time of `--version`, `--help` and
`certify --help`, medians of 10 fresh processes (run by hand; see README "Performance").

    .venv/bin/python benchmarks/bench_startup.py [PATH_TO_BALINT_CME]
"""

from __future__ import annotations

import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 10


def measure(argv: list[str], folder: Path) -> tuple[float, float]:
    """Median wall and CPU seconds (user + system of the child) over RUNS runs."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    given = sys.argv[1] if len(sys.argv) > 1 else None
    default = str(Path(sys.executable).parent / "balint-cme")
    command = str(Path(given).resolve()) if given else shutil.which("balint-cme") or default
    with tempfile.TemporaryDirectory() as folder:  # no settings file or ledger nearby
        for args in (["--version"], ["--help"], ["certify", "--help"]):
            wall, cpu = measure([command, *args], Path(folder))
            print(f"{' '.join(args):<16} wall {wall * 1000:6.0f} ms   CPU {cpu * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
