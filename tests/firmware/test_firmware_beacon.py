"""The NimBLE firmware advertises the state beacon of docs/protocol.md §14, and ``wearsync
serve`` reads it: no connection while nothing is new, one when the wearer did something.

The firmware has ENTRIES, so it holds the format-2 program (with the plan from the schedule's
kept first day), and its beacon carries that program's identity (§14.2).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.firmware.conftest import Firmware
from wearsync.ble import make_scanner
from wearsync.ble.connection import bond_ltk
from wearsync.profiles import DeviceProfile
from wearsync.routine import compile_routine, load_routine
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.daemon import SyncDaemon
from wearsync.sync.first_day import kept_first_day
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.codec import encode_program, program_identity
from wearsync.watches.wearsync_timer.codec.beacon import (
    BEACON_COMPANY_ID,
    BeaconState,
    StateBeacon,
    beacon_key,
    candidate_states,
    open_beacon,
)
from wearsync.watches.wearsync_timer.codec.encode import wire_plan
from wearsync.watches.wearsync_timer.codec.status import SessionState


def wanted(store: Store) -> bytes:
    """The identity of the foot-care program a watch with ENTRIES holds after a sync: format
    2, with the plan from the first day the sync kept (§3.4, §5.8)."""
    routine = load_routine("foot-care")
    program = compile_routine(routine)
    first = kept_first_day(store, routine.name)
    assert first is not None, "no sync has fixed the schedule's first day yet"
    return program_identity(encode_program(program, wire_plan(routine, program, first)))


async def beacon_of(link: VirtualLink, address: str) -> bytes | None:
    """The beacon bytes of the next advertisement a passive scan sees from ``address``."""
    scanner = make_scanner(hci=link, scanning_mode="passive")
    async with scanner, asyncio.timeout(10):
        async for device, data in scanner.advertisement_data():
            if device.address == address:
                return data.manufacturer_data.get(BEACON_COMPANY_ID)
    raise AssertionError("not seen")


async def state_of(link: VirtualLink, address: str, identity: bytes) -> BeaconState | None:
    """The state the beacon shows, opened with the bond's key for a watch holding ``identity``."""
    data = await beacon_of(link, address)
    ltk = await bond_ltk(address, hci=link)
    if data is None or ltk is None:
        return None
    return open_beacon(beacon_key(ltk), StateBeacon.from_bytes(data), candidate_states([identity]))


async def until_state(link: VirtualLink, address: str, state: BeaconState) -> None:
    """Scan until the beacon shows ``state`` (the firmware updates it within a poll)."""
    async with asyncio.timeout(20):
        while await state_of(link, address, state.program_identity) != state:
            pass


async def test_the_firmware_beacon_spares_the_connection_until_events_wait(
    firmware: Firmware, link: VirtualLink, store: Store, profiles: list[DeviceProfile]
) -> None:
    address = firmware.ready["address"]
    assert await beacon_of(link, address) is None  # no bond, no beacon (§14.2)
    serve = SyncDaemon(
        store=store,
        routine="foot-care",
        profiles=profiles,
        drivers=registry.driver_for,
        every=timedelta(minutes=15),
        device=address,
        hci=link,
        scan_seconds=10,
    )
    assert await serve.check_once() is not None  # first sync: pairs, pushes, sets the clock
    identity = wanted(store)
    synced = BeaconState(identity, events_waiting=False, clock_set=True, session=SessionState.IDLE)
    await until_state(link, address, synced)
    assert await serve.check_once() is None
    assert await serve.check_once() is None
    assert serve.skipped == 2 and serve.syncs == 1
    await firmware.press("start")
    running = BeaconState(
        identity, events_waiting=True, clock_set=True, session=SessionState.RUNNING
    )
    await until_state(link, address, running)
    report = await serve.check_once()
    assert report is not None and report.events_new > 0
