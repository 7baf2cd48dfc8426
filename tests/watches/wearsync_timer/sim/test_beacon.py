"""The simulated watch advertises the state beacon of docs/protocol.md §14: 31 bytes with the
flags and the service UUID, seen by a passive scan, and only once a peer has bonded."""

from __future__ import annotations

import asyncio
from pathlib import Path

from wearsync.ble import make_scanner
from wearsync.ble.bumble_backend import close_centrals
from wearsync.ble.connection import bond_ltk
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import LEGACY_ADV_MAX, VirtualLink
from wearsync.sim.peripheral import build_advertising_data
from wearsync.watches.wearsync_timer.codec import uuids as U
from wearsync.watches.wearsync_timer.codec.beacon import (
    BEACON_COMPANY_ID,
    StateBeacon,
    beacon_key,
    candidate_states,
    open_beacon,
)
from wearsync.watches.wearsync_timer.codec.status import SessionState
from wearsync.watches.wearsync_timer.sim.watch import SimWatch


async def passive_beacon(link: VirtualLink, address: str) -> bytes | None:
    """The manufacturer data of the first advertisement a passive scan sees from ``address``."""
    scanner = make_scanner(hci=link, scanning_mode="passive")
    async with scanner, asyncio.timeout(5):
        async for device, data in scanner.advertisement_data():
            if device.address == address:
                assert data.local_name is None  # the name stays in the scan response
                return data.manufacturer_data.get(BEACON_COMPANY_ID)
    raise AssertionError("not seen")


async def test_the_beacon_fills_the_31_bytes() -> None:
    mfd = StateBeacon(1, bytes(4)).manufacturer_data()
    assert len(build_advertising_data([str(U.TIMER_SERVICE)], mfd)) == LEGACY_ADV_MAX


async def test_no_beacon_before_a_bond_then_one_the_bonded_peer_reads(
    link: VirtualLink, clock: ManualClock, tmp_path: Path
) -> None:
    from wearsync.ble.connection import FoundWatch, connect, find_watch
    from wearsync.watches.registry import load_profiles

    watch = await SimWatch.start(link, flash_dir=tmp_path / "flash", clock=clock)
    try:
        assert await passive_beacon(link, watch.address) is None
        found: FoundWatch = await find_watch(
            load_profiles(), name_or_address=watch.address, hci=link, seconds=5
        )
        async with connect(found, hci=link, pair=True):
            pass
        await watch.beacon_settled()
        data = await passive_beacon(link, watch.address)
        assert data is not None and watch.beacon is not None and data == watch.beacon[2:]
        ltk = await bond_ltk(watch.address, hci=link)
        assert ltk is not None
        state = open_beacon(
            beacon_key(ltk), StateBeacon.from_bytes(data), candidate_states([bytes(16)])
        )
        # No program, no events, clock never set, idle: all of it, and only to the bonded peer.
        assert state is not None
        assert (state.events_waiting, state.clock_set, state.session) == (
            False,
            False,
            SessionState.IDLE,
        )
        first = data
        await clock.advance(15 * 60 * 1000)  # the 15-minute rotation (§14.3)
        await watch.beacon_settled()
        assert await passive_beacon(link, watch.address) != first
    finally:
        await watch.close()
        await close_centrals()
