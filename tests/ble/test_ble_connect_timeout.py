"""Connecting to a device that does not answer: a clean timeout and no zombie connection."""

from __future__ import annotations

import asyncio
import time

import pytest
from bleak import BleakClient
from bleak.exc import BleakDeviceNotFoundError

from tests.ble.ble_testdb import CHAR_RW, NAME, SERVICE, DemoDb
from wearsync.ble.bumble_backend import BumbleBleakClient, BumbleTimeoutError, get_central
from wearsync.sim.link import VirtualLink
from wearsync.sim.peripheral import Peripheral, start_peripheral

GHOST = "C3:00:00:00:0B:05"  # a random static address nobody uses


async def test_unknown_address_is_not_found_within_timeout(
    link: VirtualLink, watch: Peripheral
) -> None:
    client = BleakClient(GHOST, backend=BumbleBleakClient, hci=link, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(BleakDeviceNotFoundError):
        await client.connect()
    assert time.monotonic() - started < 1.0


async def test_connect_to_silent_address_times_out_without_zombie(
    link: VirtualLink, watch: Peripheral
) -> None:
    # With the address type given there is no scan: the controller initiates at once.
    client = BleakClient(
        GHOST, backend=BumbleBleakClient, hci=link, timeout=0.3, address_type="random"
    )
    started = time.monotonic()
    with pytest.raises(TimeoutError) as caught:
        await client.connect()
    elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 1.0  # well below the 1.3 s safety net: the cancel worked
    assert isinstance(caught.value, BumbleTimeoutError)
    assert not client.is_connected

    # The controller is not left initiating: a real device connects at once...
    async with BleakClient(watch.address, backend=BumbleBleakClient, hci=link) as real:
        assert await real.read_gatt_char(CHAR_RW) == b"hello"

    # ...and when the ghost shows up later, nothing connects to it behind our back.
    ghost = await start_peripheral(
        link,
        name="Ghost",
        services=[DemoDb().service],
        service_uuids=[SERVICE],
        address=GHOST,
    )
    await asyncio.sleep(0.1)
    assert ghost.connections == []
    central = await get_central(link)
    assert not central.device.connections
    await ghost.close()


async def test_timeout_is_per_call(link: VirtualLink, watch: Peripheral) -> None:
    client = BleakClient(NAME, backend=BumbleBleakClient, hci=link, timeout=5.0)
    # An address string that is really a name is not an address we can scan for.
    started = time.monotonic()
    with pytest.raises(BleakDeviceNotFoundError):
        await client.connect(timeout=0.2)
    assert time.monotonic() - started < 0.5


async def test_cancelled_connect_stops_initiating(link: VirtualLink, watch: Peripheral) -> None:
    client = BleakClient(
        GHOST, backend=BumbleBleakClient, hci=link, timeout=30.0, address_type="random"
    )
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await client.connect()
    # The controller was told to stop: the next connect is not refused as "already pending".
    async with BleakClient(watch.address, backend=BumbleBleakClient, hci=link) as real:
        assert await real.read_gatt_char(CHAR_RW) == b"hello"
    ghost = await start_peripheral(
        link, name="Ghost", services=[DemoDb().service], service_uuids=[SERVICE], address=GHOST
    )
    await asyncio.sleep(0.1)
    assert ghost.connections == []
    await ghost.close()
