"""Fixtures for syncing against the simulated watch: link, watch, store, profiles, data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from wearsync.ble.bumble_backend import close_centrals
from wearsync.ble.connection import FoundWatch, find_watch
from wearsync.profiles import DeviceProfile, load_profiles
from wearsync.records import utc_now
from wearsync.sim.clock import ManualClock, SimClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.watches.wearsync_timer.sim.watch import SimWatch


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data directory (lock files, database)."""
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WEARSYNC_HCI", raising=False)
    return tmp_path / "home"


@pytest.fixture
async def link() -> AsyncIterator[VirtualLink]:
    yield VirtualLink()
    await close_centrals()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def watch(link: VirtualLink, clock: ManualClock, tmp_path: Path) -> AsyncIterator[SimWatch]:
    """A watch whose timer runs only when the test advances its clock."""
    sim = await SimWatch.start(link, flash_dir=tmp_path / "flash", clock=clock, utc=utc_now())
    yield sim
    await sim.close()


@pytest.fixture
async def realtime_watch(link: VirtualLink, tmp_path: Path) -> AsyncIterator[SimWatch]:
    """A watch on a real-time clock, so its clock stays in step with ours between syncs."""
    sim = await SimWatch.start(link, flash_dir=tmp_path / "rt-flash", clock=SimClock())
    yield sim
    await sim.close()


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    with Store.open(home / "wearsync.db") as db:
        yield db


@pytest.fixture(scope="session")
def profiles() -> list[DeviceProfile]:
    return load_profiles()


async def found(link: VirtualLink, profiles: list[DeviceProfile], watch: SimWatch) -> FoundWatch:
    return await find_watch(profiles, name_or_address=watch.address, hci=link, seconds=5)
