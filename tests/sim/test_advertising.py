"""The simulated radio advertises as real hardware does: at most 31 bytes of advertising data,
the name in the scan response, delivered only to an active scan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from bumble import hci

from wearsync.ble import make_scanner
from wearsync.ble.bumble_backend import close_centrals
from wearsync.sim.link import LEGACY_ADV_MAX, VirtualLink
from wearsync.sim.peripheral import (
    Peripheral,
    build_advertising_data,
    build_scan_response,
    start_peripheral,
)

SERVICE = "084b0001-0964-4b08-85d9-6f66f2b35e60"
NAME = "A watch with a rather long name"


@pytest.fixture
async def advertiser(link: VirtualLink) -> AsyncIterator[Peripheral]:
    peripheral = await start_peripheral(link, name=NAME, services=[], service_uuids=[SERVICE])
    yield peripheral
    await peripheral.close()


async def first_sighting(
    link: VirtualLink, mode: str, address: str
) -> tuple[str | None, list[str]]:
    scanner = make_scanner(hci=link, scanning_mode=mode)  # type: ignore[arg-type]
    async with scanner, asyncio.timeout(5):
        async for device, data in scanner.advertisement_data():
            if device.address == address and (mode == "passive" or data.local_name):
                return data.local_name, list(data.service_uuids)
    raise AssertionError("not seen")


async def test_an_active_scan_gets_the_name_from_the_scan_response(
    link: VirtualLink, advertiser: Peripheral
) -> None:
    name, uuids = await first_sighting(link, "active", advertiser.address)
    assert name == NAME[: LEGACY_ADV_MAX - 2]  # 31 characters: shortened to fit
    assert uuids == [SERVICE]
    await close_centrals()


async def test_a_passive_scan_sees_the_service_but_no_name(
    link: VirtualLink, advertiser: Peripheral
) -> None:
    name, uuids = await first_sighting(link, "passive", advertiser.address)
    assert name is None
    assert uuids == [SERVICE]
    await close_centrals()


def test_the_advertising_data_and_scan_response_fit_a_legacy_pdu() -> None:
    data = build_advertising_data([SERVICE])
    assert len(data) == 3 + 18 <= LEGACY_ADV_MAX
    response = build_scan_response(NAME)
    assert len(response) <= LEGACY_ADV_MAX
    assert response[1] == 0x08  # Shortened Local Name: the whole one does not fit
    assert build_scan_response("Bangle.js 1a2b")[1] == 0x09  # Complete Local Name
    with pytest.raises(ValueError, match="over 31"):
        build_advertising_data([SERVICE, "6e400001-b5a3-f393-e0a9-e50e24dcca9e"])


async def test_the_controller_refuses_advertising_data_over_31_bytes(link: VirtualLink) -> None:
    controller = link.new_controller()
    too_long = hci.HCI_LE_Set_Advertising_Data_Command(advertising_data=bytes(32))
    result = controller.on_hci_le_set_advertising_data_command(too_long)
    assert result.status == hci.HCI_INVALID_HCI_COMMAND_PARAMETERS_ERROR
    fits = hci.HCI_LE_Set_Advertising_Data_Command(advertising_data=bytes(31))
    assert controller.on_hci_le_set_advertising_data_command(fits).status == 0
