"""Pairing (LE Secure Connections, Just Works, bonding) through bleak with the bumble backend."""

from __future__ import annotations

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakGATTProtocolError, BleakGATTProtocolErrorCode

from tests.ble.ble_testdb import CHAR_SECRET, NAME
from wearsync.ble.bumble_backend import BumbleBleakClient, BumbleBleakScanner
from wearsync.sim.link import VirtualLink
from wearsync.sim.peripheral import Peripheral


async def scan_for(link: VirtualLink) -> BLEDevice:
    device = await BleakScanner.find_device_by_name(
        NAME, timeout=2.0, backend=BumbleBleakScanner, hci=link
    )
    assert device is not None
    return device


async def test_unpaired_read_of_protected_characteristic_fails_with_0x0f(
    link: VirtualLink, watch: Peripheral
) -> None:
    async with BleakClient(await scan_for(link), backend=BumbleBleakClient, hci=link) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.read_gatt_char(CHAR_SECRET)
    assert caught.value.code == BleakGATTProtocolErrorCode.INSUFFICIENT_ENCRYPTION == 0x0F


async def test_pair_then_read_protected_characteristic(
    link: VirtualLink, watch: Peripheral
) -> None:
    async with BleakClient(await scan_for(link), backend=BumbleBleakClient, hci=link) as client:
        await client.pair()
        assert await client.read_gatt_char(CHAR_SECRET) == b"secret"


async def test_bond_survives_reconnection_and_unpair_forgets_it(
    link: VirtualLink, watch: Peripheral
) -> None:
    device = await scan_for(link)
    async with BleakClient(device, backend=BumbleBleakClient, hci=link, pair=True) as client:
        assert await client.read_gatt_char(CHAR_SECRET) == b"secret"

    # Reconnecting restores encryption from the bond without pairing again.
    client = BleakClient(device, backend=BumbleBleakClient, hci=link)
    await client.connect()
    assert await client.read_gatt_char(CHAR_SECRET) == b"secret"
    await client.unpair()
    assert not client.is_connected

    # The central forgot the bond: the new link is plain again.
    await client.connect()
    with pytest.raises(BleakGATTProtocolError) as caught:
        await client.read_gatt_char(CHAR_SECRET)
    assert caught.value.code == 0x0F
    await client.disconnect()
