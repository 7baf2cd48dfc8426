"""Fixtures: a virtual link with the test peripheral on it; centrals closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.ble.ble_testdb import NAME, SERVICE, DemoDb
from wearsync.sim.link import VirtualLink
from wearsync.sim.peripheral import Peripheral, start_peripheral


@pytest.fixture
def db() -> DemoDb:
    return DemoDb()


@pytest.fixture
async def watch(link: VirtualLink, db: DemoDb) -> AsyncIterator[Peripheral]:
    peripheral = await start_peripheral(
        link, name=NAME, services=[db.service], service_uuids=[SERVICE]
    )
    yield peripheral
    await peripheral.close()
