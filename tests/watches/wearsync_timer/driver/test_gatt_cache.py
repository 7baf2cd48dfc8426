"""Our bumble backend reuses a bonded watch's GATT layout while its Database Hash (0x2B2A) is
unchanged, and discovers again when it changed (Core 5.1 robust caching)."""

from __future__ import annotations

from pathlib import Path

from tests.watches.wearsync_timer.driver.conftest import found
from wearsync.profiles import DeviceProfile
from wearsync.records import utc_now
from wearsync.routine import load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.att_tap import ConnectionTrace
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SyncContext
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.codec import Feature
from wearsync.watches.wearsync_timer.sim.watch import SimWatch

ROOT = Path(__file__).resolve().parents[4]
#: Read By Group Type (primary services), Read By Type, Find Information.
DISCOVERY = {0x10, 0x08, 0x04}


def discovery_requests(trace: ConnectionTrace) -> int:
    return sum(1 for p in trace.pdus if p.opcode in DISCOVERY and p.direction == "rx")


async def sync(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], watch: SimWatch
) -> None:
    ctx = SyncContext.of(
        store,
        await found(link, profiles, watch),
        load_routine("foot-care"),
        builtin_text("foot-care"),
        hci=link,
    )
    await registry.driver_for(ctx.watch.profile).sync(ctx)


async def test_a_bonded_watch_is_not_discovered_again_until_its_hash_changes(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    flash = tmp_path / "flash"
    watch = await SimWatch.start(link, flash_dir=flash, clock=clock, utc=utc_now())
    try:
        await sync(store, link, profiles, watch)  # pairs, discovers, caches
        await sync(store, link, profiles, watch)
        first, second = watch.tap.connections[-2:]
        assert discovery_requests(first) > 5
        assert discovery_requests(second) == 0  # one Read of the cached Database Hash handle
        assert second.round_trips < first.round_trips - 5
    finally:
        await watch.close()
    # The same watch (address, bonds) without the Current Time Service: another database.
    watch = await SimWatch.start(
        link, flash_dir=flash, clock=clock, utc=utc_now(), features=Feature.SESSION_CONTROL
    )
    try:
        await sync(store, link, profiles, watch)
        assert discovery_requests(watch.tap.connections[-1]) > 5  # discovered again
        await sync(store, link, profiles, watch)
        assert discovery_requests(watch.tap.connections[-1]) == 0
    finally:
        await watch.close()


async def test_the_hash_computed_from_a_full_discovery_is_bumbles(
    link: VirtualLink, watch: SimWatch
) -> None:
    """The simulated watch serves bumble's own Database Hash; the client's computation from the
    discovered attributes (wearsync.ble.bumble_backend.dbhash) gives the same bytes."""
    from wearsync.ble.bumble_backend import BumbleBleakClient

    client = BumbleBleakClient(watch.address, hci=link)
    await client.connect(pair=False)
    try:
        hash_char = client.services.get_characteristic("00002b2a-0000-1000-8000-00805f9b34fb")
        assert hash_char is not None
        served = bytes(await client.read_gatt_char(hash_char))
        assert len(served) == 16
        assert await client.computed_database_hash() == served
    finally:
        await client.disconnect()


async def test_the_cache_outlives_the_process_until_the_database_changes(
    link: VirtualLink, clock: ManualClock, tmp_path: Path
) -> None:
    """``wearsync sync`` in four processes over the HCI server: the second finds the layout the
    first saved (owner-only, beside the bonds) and skips discovery; a watch whose database
    changed (same address and bond, no Current Time Service) is discovered again, once."""
    import asyncio
    import os
    import stat
    import sys

    from wearsync.sim.hci_server import HciServer

    home, flash = tmp_path / "home", tmp_path / "flash"

    async def wearsync_sync(hci: str) -> None:
        env = {**os.environ, "WEARSYNC_HOME": str(home)}
        env.pop("WEARSYNC_HCI", None)
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "wearsync", "sync", "--hci", hci),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()

    watch = await SimWatch.start(link, flash_dir=flash, clock=clock, utc=utc_now())
    try:
        async with HciServer(link, port=0) as server:
            await wearsync_sync(server.hci_spec)  # pairs, discovers, saves the layout
            await wearsync_sync(server.hci_spec)
        first, second = watch.tap.connections[-2:]
    finally:
        await watch.close()
    assert discovery_requests(first) > 5
    assert discovery_requests(second) == 0
    cache = home / "gatt_cache.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    watch = await SimWatch.start(
        link, flash_dir=flash, clock=clock, utc=utc_now(), features=Feature.SESSION_CONTROL
    )
    try:
        async with HciServer(link, port=0) as server:
            await wearsync_sync(server.hci_spec)
            await wearsync_sync(server.hci_spec)
        changed, after = watch.tap.connections[-2:]
    finally:
        await watch.close()
    assert discovery_requests(changed) > 5
    assert discovery_requests(after) == 0
