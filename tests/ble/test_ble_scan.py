"""Scanning through bleak's BleakScanner with the bumble backend."""

from __future__ import annotations

import asyncio

from bleak import BleakScanner

from tests.ble.ble_testdb import NAME, SERVICE
from wearsync.ble import find_device
from wearsync.ble.bumble_backend import BumbleBleakScanner
from wearsync.sim.link import VirtualLink
from wearsync.sim.peripheral import Peripheral


async def test_scanner_finds_peripheral_by_name_and_service(
    link: VirtualLink, watch: Peripheral
) -> None:
    found = await BleakScanner.find_device_by_filter(
        lambda _d, ad: ad.local_name == NAME,
        timeout=2.0,
        service_uuids=[SERVICE],
        backend=BumbleBleakScanner,
        hci=link,
    )
    assert found is not None
    assert found.address == watch.address
    assert found.name == NAME


async def test_scanner_reports_rssi_and_advertisement_data(
    link: VirtualLink, watch: Peripheral
) -> None:
    async with BleakScanner(backend=BumbleBleakScanner, hci=link) as scanner:
        async with asyncio.timeout(2.0):
            async for seen, seen_data in scanner.advertisement_data():
                if seen.address == watch.address:
                    device, data = seen, seen_data
                    break
    assert data.local_name == NAME
    assert data.service_uuids == [SERVICE]
    assert data.rssi == -50  # what bumble's virtual controller reports
    assert device.details.address.is_random
    assert watch.address in scanner.discovered_devices_and_advertisement_data


async def test_service_filter_hides_other_devices(link: VirtualLink, watch: Peripheral) -> None:
    other = "0000180d-0000-1000-8000-00805f9b34fb"
    devices = await BleakScanner.discover(
        timeout=0.2, service_uuids=[other], backend=BumbleBleakScanner, hci=link
    )
    assert devices == []


async def test_find_device_helper(link: VirtualLink, watch: Peripheral) -> None:
    device = await find_device(name=NAME, service_uuid=SERVICE, hci=link, scan_seconds=2.0)
    assert device.address == watch.address
