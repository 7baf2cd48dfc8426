"""Building the NimBLE firmware for the tests, or saying clearly why they cannot run."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
#: The sanitized variant (AddressSanitizer + UndefinedBehaviorSanitizer) is what tests run.
BUILD = FIRMWARE / "build" / "asan"


def _make(target: str) -> None:
    if shutil.which(os.environ.get("CC", "gcc")) is None or shutil.which("make") is None:
        pytest.skip("no C compiler or make on this machine: firmware tests need gcc and make")
    done = subprocess.run(
        ["make", "-C", str(FIRMWARE), "-j2", target], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        if "NimBLE not found" in done.stderr:
            pytest.skip(done.stderr.strip().splitlines()[-1])
        if "mbedtls/" in done.stderr and "No such file" in done.stderr:
            pytest.skip("no mbedtls headers for NimBLE's SM (apt-get install libmbedtls-dev)")
        pytest.fail(f"firmware build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")


@functools.cache
def _built(target: str) -> None:
    _make(target)


def validate_binary() -> Path:
    """The program-validation harness (pure core only), built if needed."""
    _built("tools-asan")
    return BUILD / "validate"


def firmware_binary() -> Path:
    """The firmware on NimBLE, built if needed (skips without NimBLE's sources)."""
    _built("asan")
    return BUILD / "wearsync-fw"
