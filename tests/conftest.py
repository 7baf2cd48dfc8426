"""Fixtures every test folder shares: its own data directory, a virtual radio, a manual clock,
a real SQLite store and the shipped device profiles.

Every test runs with its own data directory, so none reads or writes the user's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from wearsync.profiles import DeviceProfile
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's own data directory (lock files, database); no HCI transport from outside."""
    # Fixtures and tests that need a particular directory set their own afterwards.
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WEARSYNC_HCI", raising=False)
    return tmp_path / "home"


@pytest.fixture
async def link() -> AsyncIterator[VirtualLink]:
    """A virtual radio; every central opened on it is closed after the test."""
    from wearsync.ble.bumble_backend import close_centrals

    yield VirtualLink()
    await close_centrals()


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when the test advances it."""
    return ManualClock()


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    """The wearsync database in the test's data directory (a real SQLite file)."""
    with Store.open(home / "wearsync.db") as db:
        yield db


@pytest.fixture(scope="session")
def profiles() -> list[DeviceProfile]:
    """The shipped device profiles, each checked by its family."""
    from wearsync.watches.registry import load_profiles

    return load_profiles()
