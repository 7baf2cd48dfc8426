"""Measure the CLI's start-up: ``wearsync --help`` wall time, and which heavy modules it imports.

Runs each command several times in fresh interpreters and prints the median and best wall time.
Target (issue 2): ``wearsync --help`` under 0.3 s on the project machine, with neither bleak nor
bumble imported.

    uv run python scripts/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

HEAVY = ("bleak", "bumble", "aiohttp", "icalendar", "rich")

COMMANDS = {
    "wearsync --help": ["--help"],
    "wearsync routine --help": ["routine", "--help"],
    "wearsync routine show foot-care --json": ["routine", "show", "foot-care", "--json"],
}


def wall_times(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def heavy_imports(args: list[str]) -> list[str]:
    probe = (
        "import sys\n"
        "from wearsync.cli.app import app\n"
        f"sys.argv = ['wearsync', *{args!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    err = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stderr
    return [m for m in err.rsplit("HEAVY=", 1)[-1].strip().split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    opts = parser.parse_args()
    exe = shutil.which("wearsync")
    entry = [exe] if exe else [sys.executable, "-m", "wearsync"]
    baseline = wall_times([sys.executable, "-c", "pass"], opts.runs)
    print(f"python -c pass: median {statistics.median(baseline) * 1000:.0f} ms")
    for label, args in COMMANDS.items():
        times = wall_times([*entry, *args], opts.runs)
        heavy = heavy_imports(args)
        print(
            f"{label}: median {statistics.median(times) * 1000:.0f} ms, "
            f"best {min(times) * 1000:.0f} ms over {opts.runs} runs; "
            f"heavy modules imported: {', '.join(heavy) or 'none'}"
        )


if __name__ == "__main__":
    main()
