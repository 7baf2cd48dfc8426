"""``wearsync serve`` reads the state beacon (docs/protocol.md §14) and connects only when
needed: every check here is one 15-minute tick of the daemon against the simulated watch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from bumble.device import Connection

from tests.watches.conftest import SHORT_ROUTINE
from wearsync.ble.connection import find_watch
from wearsync.profiles import DeviceProfile
from wearsync.records import utc_now
from wearsync.routine import compile_routine, load_routine
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.daemon import SyncDaemon
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.codec import encode_program, program_identity
from wearsync.watches.wearsync_timer.codec.beacon import BEACON_COMPANY_ID, BeaconState
from wearsync.watches.wearsync_timer.codec.status import SessionState
from wearsync.watches.wearsync_timer.sim.watch import ALL_FEATURES, ENTRY_FEATURES, SimWatch


class Counted:
    """Counts the connections a simulated watch accepts, across its reboots."""

    def __init__(self, watch: SimWatch) -> None:
        self.watch = watch
        self.connections = 0
        self.watch_boot()

    def watch_boot(self) -> None:
        self.watch.peripheral.device.on("connection", self._on)

    def _on(self, _connection: Connection) -> None:
        self.connections += 1

    async def reboot(self) -> None:
        await self.watch.reboot()
        self.watch_boot()


def daemon(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], **kw: object
) -> SyncDaemon:
    return SyncDaemon(
        store=store,
        routine=str(kw.pop("routine", "foot-care")),
        profiles=profiles,
        drivers=registry.driver_for,
        every=timedelta(minutes=15),
        hci=link,
        scan_seconds=5,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(params=[ALL_FEATURES, ENTRY_FEATURES], ids=["format-1", "entries"])
async def synced(
    request: pytest.FixtureRequest,
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    clock: ManualClock,
    tmp_path: Path,
) -> AsyncIterator[tuple[SyncDaemon, Counted]]:
    """A watch the daemon has synced once (paired, program pushed): its beacon is keyed.

    Once a watch without ENTRIES (format-1 program), once one with them: its program is the
    format-2 one with the plan, whose identity the beacon carries."""
    watch = await SimWatch.start(
        link, flash_dir=tmp_path / "flash", clock=clock, utc=utc_now(), features=request.param
    )
    counted = Counted(watch)
    serve = daemon(store, link, profiles)
    assert (await serve.check_once()) is not None  # first sync
    await watch.beacon_settled()
    assert watch.beacon is not None
    yield serve, counted
    await watch.close()


async def check(serve: SyncDaemon, counted: Counted) -> bool:
    """One tick; True when it connected (checked on the watch's side too)."""
    await counted.watch.drain()
    await counted.watch.beacon_settled()
    before = counted.connections
    report = await serve.check_once()
    assert (report is not None) == (counted.connections > before)
    return report is not None


async def test_nothing_new_costs_no_connection(synced: tuple[SyncDaemon, Counted]) -> None:
    serve, counted = synced
    assert not await check(serve, counted)
    assert not await check(serve, counted)
    assert serve.skipped == 2


async def test_a_changed_program_connects(
    synced: tuple[SyncDaemon, Counted], other_routine: Path
) -> None:
    serve, counted = synced
    serve.routine = str(other_routine)
    assert await check(serve, counted)
    assert not await check(serve, counted)


async def test_new_events_connect(synced: tuple[SyncDaemon, Counted], clock: ManualClock) -> None:
    serve, counted = synced
    await counted.watch.press_start()
    assert await check(serve, counted)  # SESSION_STARTED waits
    assert not await check(serve, counted)  # running, nothing new since
    await clock.advance(60_000)
    assert await check(serve, counted)  # the session went on


async def test_a_reboot_connects_when_it_changed_something(
    synced: tuple[SyncDaemon, Counted],
) -> None:
    serve, counted = synced
    await counted.reboot()  # idle, clock kept: the beacon says nothing new (§14.4)
    assert not await check(serve, counted)
    await counted.watch.press_start()
    assert await check(serve, counted)
    await counted.reboot()  # during a session: SESSION_ABORTED waits
    assert await check(serve, counted)
    assert not await check(serve, counted)


async def test_a_lost_bond_connects(synced: tuple[SyncDaemon, Counted], link: VirtualLink) -> None:
    serve, counted = synced
    from wearsync.ble.bumble_backend.central import get_central

    keystore = (await get_central(link)).device.keystore
    assert keystore is not None
    for name, _keys in await keystore.get_all():
        await keystore.delete(name)
    assert await check(serve, counted)  # no key: the beacon cannot be read


async def test_the_daily_sync_connects_whatever_the_beacon_says(
    synced: tuple[SyncDaemon, Counted],
) -> None:
    serve, counted = synced
    serve.full_every = timedelta(0)
    assert await check(serve, counted)


class LyingWatch(SimWatch):
    """Says it runs the wanted program (it runs none) and that events wait."""

    wanted = b""

    def beacon_state(self) -> BeaconState:
        return BeaconState(self.wanted, True, True, SessionState.IDLE)


async def test_a_lying_beacon_is_corrected_by_the_sync(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    clock: ManualClock,
    tmp_path: Path,
    other_routine: Path,
) -> None:
    wanted = program_identity(encode_program(compile_routine(load_routine("foot-care"))))
    LyingWatch.wanted = wanted
    serve = daemon(store, link, profiles)
    watch = await SimWatch.start(link, flash_dir=tmp_path / "flash", clock=clock, utc=utc_now())
    counted = Counted(watch)
    assert await check(serve, counted)
    await watch.close()
    # The same watch, rebooted with another program committed, lies in its beacon.
    liar = await LyingWatch.start(link, flash_dir=tmp_path / "flash", clock=clock, utc=utc_now())
    liar.flash.save_program(encode_program(compile_routine(load_routine(other_routine))))
    await liar.reboot()
    counted = Counted(liar)
    try:
        await liar.beacon_settled()
        assert liar.committed_identity != wanted
        serve_report = await serve.check_once()  # connects: "events waiting"
        assert serve_report is not None and serve_report.program_pushed  # the sync corrects it
        assert liar.committed_identity == wanted
    finally:
        await liar.close()


async def test_an_unknown_watch_is_never_connected_to(
    synced: tuple[SyncDaemon, Counted], link: VirtualLink, clock: ManualClock, tmp_path: Path
) -> None:
    serve, counted = synced
    stranger = await SimWatch.start(link, flash_dir=tmp_path / "other", clock=clock, utc=utc_now())
    strange = Counted(stranger)
    try:
        assert not await check(serve, counted)
        await counted.watch.press_start()
        assert await check(serve, counted)
        assert strange.connections == 0
    finally:
        await stranger.close()


@pytest.fixture
def other_routine(tmp_path: Path) -> Path:
    """A routine file other than the one synced (another program identity)."""
    path = tmp_path / "short.toml"
    path.write_text(SHORT_ROUTINE)
    return path


async def test_a_watch_that_forgot_the_bond_advertises_no_beacon_and_is_synced(
    synced: tuple[SyncDaemon, Counted],
) -> None:
    serve, counted = synced
    keystore = counted.watch.flash.keystore()
    for name, _keys in await keystore.get_all():
        await keystore.delete(name)
    await counted.reboot()  # a factory reset of the bonds
    await counted.watch.beacon_settled()
    assert counted.watch.beacon is None
    assert await check(serve, counted)  # no beacon: connect (and pair again)
    await counted.watch.beacon_settled()
    assert counted.watch.beacon is not None  # keyed with the new bond
    assert not await check(serve, counted)


async def test_checks_listen_passively_and_read_the_beacon_from_the_advertising_data(
    synced: tuple[SyncDaemon, Counted], link: VirtualLink, profiles: list[DeviceProfile]
) -> None:
    """Seen at the virtual controllers: the daemon's checks send no SCAN_REQ, so the watch
    never sends its scan response (the name); the beacon alone decides, both ways."""
    serve, counted = synced
    address = counted.watch.address
    link.air.reset()
    assert not await check(serve, counted)  # the beacon said nothing new
    await counted.watch.press_start()
    assert await check(serve, counted)  # the beacon said events wait
    assert link.air.scan_requests_received[address] == 0
    scans = list(link.air.scanners.values())
    assert sum(s.passive_s for s in scans) > 0
    assert sum(s.active_s for s in scans) == 0
    heard = await serve.locate()  # what a check hears: the advertising data alone
    assert heard.address == address and BEACON_COMPANY_ID in heard.manufacturer_data
    assert link.air.scan_requests_received[address] == 0
    # The same controllers count an active scan's requests: the assertion above can fail.
    await find_watch(profiles, name_or_address=address, hci=link, seconds=5)
    assert link.air.scan_requests_received[address] > 0
