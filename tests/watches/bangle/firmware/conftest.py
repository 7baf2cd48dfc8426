"""Fixtures for the conformance tests: Espruino's own Linux build, one process per test.

The binaries come from ``wearsync/watches/bangle/espruino/build.sh`` (CI runs it first); without
them, or without a C compiler to make them, every test here skips and says how to build.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.watches.bangle.firmware.harness import BANGLE_BINARY, RealEspruino, build_error

_MISSING = build_error()
needs_espruino = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@pytest.fixture
def bangle(tmp_path: Path) -> Iterator[RealEspruino]:
    """A Bangle.js 2 interpreter with empty flash, in ``tmp_path``."""
    with RealEspruino(BANGLE_BINARY, tmp_path) as watch:
        yield watch
