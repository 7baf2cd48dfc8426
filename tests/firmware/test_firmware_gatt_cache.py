"""The firmware serves a Database Hash (0x2B2A, Core 5.1 Vol 3 Part G §7.3) that NimBLE 1.10
lacks, so the client's GATT cache holds for it too: a sync of a known watch with events waiting
costs no discovery (docs/protocol.md §14.4, issue 15's target of 6 ATT round trips)."""

from __future__ import annotations

import pytest

from tests.firmware.conftest import Firmware, found
from wearsync.ble.bumble_backend import BumbleBleakClient
from wearsync.profiles import DeviceProfile
from wearsync.routine import load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.att_tap import AttTap
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SyncContext
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.codec import Feature

DATABASE_HASH = "00002b2a-0000-1000-8000-00805f9b34fb"
CLIENT_SUPPORTED_FEATURES = "00002b29-0000-1000-8000-00805f9b34fb"
#: Read By Group Type (primary services), Read By Type, Find Information.
DISCOVERY = {0x10, 0x08, 0x04}


async def served_and_computed(link: VirtualLink, address: str) -> tuple[bytes, bytes]:
    client = BumbleBleakClient(address, hci=link)
    await client.connect(pair=False)
    try:
        characteristic = client.services.get_characteristic(DATABASE_HASH)
        assert characteristic is not None
        served = bytes(await client.read_gatt_char(characteristic))
        return served, await client.computed_database_hash()
    finally:
        await client.disconnect()


async def test_the_served_hash_is_the_hash_of_the_served_database(
    firmware: Firmware, link: VirtualLink
) -> None:
    address = firmware.ready["address"]
    served, computed = await served_and_computed(link, address)
    assert len(served) == 16 and served == computed
    # Another database (no Current Time Service): another hash, and still the right one.
    firmware.features = int(Feature.SESSION_CONTROL | Feature.STATE_BEACON)
    await firmware.restart()
    other_served, other_computed = await served_and_computed(link, address)
    assert other_served == other_computed
    assert other_served != served


async def sync(store: Store, link: VirtualLink, profiles: list[DeviceProfile], fw: Firmware) -> int:
    ctx = SyncContext.of(
        store,
        await found(link, profiles, fw),
        load_routine("foot-care"),
        builtin_text("foot-care"),
        hci=link,
    )
    report = await registry.driver_for(ctx.watch.profile).sync(ctx)
    return report.events_new


async def test_a_sync_with_waiting_events_on_a_known_firmware_watch_takes_six_round_trips(
    firmware: Firmware,
    link: VirtualLink,
    store: Store,
    profiles: list[DeviceProfile],
) -> None:
    tap = AttTap(link, subject=firmware.ready["address"])
    try:
        await sync(store, link, profiles, firmware)  # pairs, pushes, discovers, caches
        first = tap.connections[-1]
        await firmware.press("start")  # SESSION_STARTED waits
        assert await sync(store, link, profiles, firmware) > 0
        second = tap.connections[-1]
        assert sum(1 for p in first.pdus if p.opcode in DISCOVERY and p.direction == "rx") > 5
        assert not any(p.opcode in DISCOVERY for p in second.pdus)
        assert second.round_trips <= 6
    finally:
        tap.close()


async def test_a_firmware_update_changes_the_hash_and_the_client_discovers_again(
    firmware: Firmware,
    link: VirtualLink,
    store: Store,
    profiles: list[DeviceProfile],
) -> None:
    tap = AttTap(link, subject=firmware.ready["address"])
    try:
        await sync(store, link, profiles, firmware)
        firmware.features = int(Feature.SESSION_CONTROL | Feature.STATE_BEACON)
        await firmware.restart()  # the same watch and bond, another database
        await sync(store, link, profiles, firmware)
        assert any(p.opcode in DISCOVERY for p in tap.connections[-1].pdus)
        await sync(store, link, profiles, firmware)
        assert not any(p.opcode in DISCOVERY for p in tap.connections[-1].pdus)
    finally:
        tap.close()


async def test_client_supported_features_only_gain_bits_and_ignore_reserved_ones(
    firmware: Firmware, link: VirtualLink
) -> None:
    """Core 5.1 Vol 3 Part G §7.2 as the firmware's GATT service (gatt_svc.c) serves it through
    NimBLE: a client may set bits, never clear them, and reserved bits and bytes are ignored."""
    from bleak.exc import BleakGATTProtocolError

    client = BumbleBleakClient(firmware.ready["address"], hci=link)
    await client.connect(pair=False)
    try:
        features = client.services.get_characteristic(CLIENT_SUPPORTED_FEATURES)
        assert features is not None
        assert bytes(await client.read_gatt_char(features)) == b"\x00"
        await client.write_gatt_char(features, b"\x01", response=True)  # robust caching
        assert bytes(await client.read_gatt_char(features)) == b"\x01"
        with pytest.raises(BleakGATTProtocolError) as refused:
            await client.write_gatt_char(features, b"\x00", response=True)
        assert refused.value.code == 0x13  # Value Not Allowed
        await client.write_gatt_char(features, b"\xff" * 40, response=True)
        assert bytes(await client.read_gatt_char(features)) == b"\x07"
    finally:
        await client.disconnect()
