"""``wearsync --help`` stays light: no bleak, no bumble, no pydantic at start-up.

Timing is measured by scripts/bench_startup.py, not here; this test checks what is imported.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from wearsync.cli.app import app
sys.argv = ["wearsync", "--help"]
try:
    app()
except SystemExit as exc:
    code = exc.code
sys.stderr.write("EXIT=%s\\n" % code)
sys.stderr.write("LOADED=" + ",".join(sorted(m for m in ("bleak", "bumble", "pydantic", "aiohttp",
                                                         "icalendar", "rich") if m in sys.modules)))
"""


def test_help_lists_commands_without_heavy_imports() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert "routine" in done.stdout
    assert "EXIT=0" in done.stderr
    loaded = done.stderr.rsplit("LOADED=", 1)[1].strip()
    assert loaded == "", f"--help imported {loaded}"


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wearsync", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().startswith("wearsync ")
