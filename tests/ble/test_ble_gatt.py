"""Connecting and GATT through bleak's BleakClient with the bumble backend, against a real
bumble GATT server on a virtual link."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from tests.ble.ble_testdb import (
    CCCD,
    CHAR_DESC,
    CHAR_INDICATE,
    CHAR_NOTIFY,
    CHAR_RW,
    CHAR_SECRET,
    DESC_CUSTOM,
    NAME,
    SERVICE,
    USER_DESCRIPTION,
    DemoDb,
)
from wearsync.ble.bumble_backend import (
    BumbleBleakClient,
    BumbleBleakScanner,
    BumbleLinkLostError,
)
from wearsync.sim.link import VirtualLink
from wearsync.sim.peripheral import Peripheral


async def scan_for(link: VirtualLink) -> BLEDevice:
    device = await BleakScanner.find_device_by_name(
        NAME, timeout=2.0, backend=BumbleBleakScanner, hci=link
    )
    assert device is not None
    return device


async def test_connect_fills_services(link: VirtualLink, watch: Peripheral, db: DemoDb) -> None:
    device = await scan_for(link)
    async with BleakClient(device, backend=BumbleBleakClient, hci=link) as client:
        assert client.is_connected
        assert client.name == NAME
        service = client.services.get_service(SERVICE)
        assert service is not None
        uuids = {c.uuid for c in service.characteristics}
        assert uuids == {CHAR_RW, CHAR_NOTIFY, CHAR_INDICATE, CHAR_SECRET, CHAR_DESC}
        rw = client.services.get_characteristic(CHAR_RW)
        assert rw is not None
        assert set(rw.properties) == {"read", "write", "write-without-response"}
        assert rw.service_uuid == SERVICE
        notify = client.services.get_characteristic(CHAR_NOTIFY)
        assert notify is not None
        assert [d.uuid for d in notify.descriptors] == [CCCD]
        described = client.services.get_characteristic(CHAR_DESC)
        assert described is not None
        assert [d.uuid for d in described.descriptors] == [USER_DESCRIPTION, DESC_CUSTOM]
        # Handles are the server's: the characteristic value handle follows its declaration.
        assert rw.handle == db.rw.handle
        # GAP and GATT services of the server are there too.
        assert client.services.get_service("1800") is not None
    assert not client.is_connected


async def test_mtu_is_exchanged(link: VirtualLink, watch: Peripheral) -> None:
    device = await scan_for(link)
    async with BleakClient(device, backend=BumbleBleakClient, hci=link) as client:
        assert client.mtu_size == 247
        assert watch.connection is not None and watch.connection.att_mtu == 247
        rw = client.services.get_characteristic(CHAR_RW)
        assert rw is not None and rw.max_write_without_response_size == 244
    async with BleakClient(device, backend=BumbleBleakClient, hci=link, mtu=517) as client:
        assert client.mtu_size == 517


async def test_connect_by_address_string_scans_for_the_type(
    link: VirtualLink, watch: Peripheral
) -> None:
    async with BleakClient(watch.address, backend=BumbleBleakClient, hci=link, timeout=2.0) as c:
        assert c.is_connected
        assert await c.read_gatt_char(CHAR_RW) == b"hello"


async def test_read_and_write(link: VirtualLink, watch: Peripheral, db: DemoDb) -> None:
    async with BleakClient(await scan_for(link), backend=BumbleBleakClient, hci=link) as client:
        value = await client.read_gatt_char(CHAR_RW)
        assert value == bytearray(b"hello") and isinstance(value, bytearray)

        await client.write_gatt_char(CHAR_RW, b"with response", response=True)
        assert db.writes[-1] == b"with response"

        await client.write_gatt_char(CHAR_RW, b"without response", response=False)
        # A write without response returns once queued; a read behind it is a barrier.
        assert await client.read_gatt_char(CHAR_RW) == b"without response"
        assert db.writes[-1] == b"without response"

        assert await client.read_gatt_char(CHAR_RW, use_cached=True) == b"without response"


async def test_long_write_arrives_intact(link: VirtualLink, watch: Peripheral, db: DemoDb) -> None:
    payload = bytes(range(256)) + bytes(range(144))  # 400 bytes > MTU - 3
    async with BleakClient(await scan_for(link), backend=BumbleBleakClient, hci=link) as client:
        await client.write_gatt_char(CHAR_RW, payload, response=True)
        assert db.writes[-1] == payload
        # Reading it back needs Read Blob: the value is longer than MTU - 1.
        assert await client.read_gatt_char(CHAR_RW) == payload


async def test_oversized_write_without_response_is_refused(
    link: VirtualLink, watch: Peripheral
) -> None:
    async with BleakClient(await scan_for(link), backend=BumbleBleakClient, hci=link) as client:
        with pytest.raises(BleakError):
            await client.write_gatt_char(CHAR_RW, bytes(245), response=False)


async def test_notifications_arrive_as_bytearray(
    link: VirtualLink, watch: Peripheral, db: DemoDb
) -> None:
    received: asyncio.Queue[bytearray] = asyncio.Queue()
    async with BleakClient(await scan_for(link), backend=BumbleBleakClient, hci=link) as client:
        await client.start_notify(CHAR_NOTIFY, lambda _c, data: received.put_nowait(data))
        for i in range(3):
            await watch.notify(db.notify, f"tick {i}".encode())
        got = [await asyncio.wait_for(received.get(), 1.0) for _ in range(3)]
        assert got == [b"tick 0", b"tick 1", b"tick 2"]
        assert all(type(g) is bytearray for g in got)

        await client.stop_notify(CHAR_NOTIFY)
        await watch.notify(db.notify, b"after stop")
        await client.read_gatt_char(CHAR_RW)  # round trip: anything sent before has arrived
        assert received.empty()


async def test_indications(link: VirtualLink, watch: Peripheral, db: DemoDb) -> None:
    received: asyncio.Queue[bytearray] = asyncio.Queue()
    async with BleakClient(await scan_for(link), backend=BumbleBleakClient, hci=link) as client:
        await client.start_notify(CHAR_INDICATE, lambda _c, data: received.put_nowait(data))
        # Returns once the client confirmed the indication.
        await asyncio.wait_for(watch.indicate(db.indicate, b"indicated"), 1.0)
        assert await asyncio.wait_for(received.get(), 1.0) == b"indicated"


async def test_descriptors(link: VirtualLink, watch: Peripheral, db: DemoDb) -> None:
    async with BleakClient(await scan_for(link), backend=BumbleBleakClient, hci=link) as client:
        described = client.services.get_characteristic(CHAR_DESC)
        assert described is not None
        user = described.get_descriptor(USER_DESCRIPTION)
        custom = described.get_descriptor(DESC_CUSTOM)
        assert user is not None and custom is not None
        assert await client.read_gatt_descriptor(user) == b"described"
        await client.write_gatt_descriptor(custom, b"\xaa\xbb")
        assert await client.read_gatt_descriptor(custom.handle) == b"\xaa\xbb"
        assert db.custom_descriptor.value == b"\xaa\xbb"


async def test_disconnect_callback_fires_when_peripheral_disconnects(
    link: VirtualLink, watch: Peripheral
) -> None:
    gone = asyncio.Event()
    client = BleakClient(
        await scan_for(link),
        disconnected_callback=lambda _c: gone.set(),
        backend=BumbleBleakClient,
        hci=link,
    )
    await client.connect()
    await watch.disconnect_all()
    await asyncio.wait_for(gone.wait(), 1.0)
    assert not client.is_connected
    with pytest.raises(BumbleLinkLostError):
        await client.read_gatt_char(CHAR_RW)
    # The watch advertises again, and the same client object reconnects.
    await client.connect()
    assert await client.read_gatt_char(CHAR_RW) == b"hello"
    await client.disconnect()


async def test_disconnect_callback_fires_on_own_disconnect(
    link: VirtualLink, watch: Peripheral
) -> None:
    calls: list[BleakClient] = []
    client = BleakClient(
        await scan_for(link),
        disconnected_callback=calls.append,
        backend=BumbleBleakClient,
        hci=link,
    )
    await client.connect()
    await client.disconnect()
    await asyncio.sleep(0)
    assert calls == [client]
    await client.disconnect()  # idempotent
