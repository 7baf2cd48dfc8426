"""Fixtures for syncing against the simulated timer watch (link, store: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from wearsync.ble.connection import FoundWatch, find_watch
from wearsync.profiles import DeviceProfile
from wearsync.records import utc_now
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.watches.wearsync_timer.sim.watch import SimWatch


@pytest.fixture
async def watch(link: VirtualLink, clock: ManualClock, tmp_path: Path) -> AsyncIterator[SimWatch]:
    """A watch whose timer runs only when the test advances its clock."""
    sim = await SimWatch.start(link, flash_dir=tmp_path / "flash", clock=clock, utc=utc_now())
    yield sim
    await sim.close()


async def found(link: VirtualLink, profiles: list[DeviceProfile], watch: SimWatch) -> FoundWatch:
    return await find_watch(profiles, name_or_address=watch.address, hci=link, seconds=5)
