"""Syncing with a watch that breaks the protocol: a real bumble GATT server on the virtual link.

Whatever the watch sends, what cannot be right is logged and not stored, and the sync either
goes on or stops with one :class:`WearSyncError` (one ``error:`` line), in bounded time, with
nothing acknowledged that was not stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.watches.conftest import sync_watch
from tests.watches.wearsync_timer.driver.conftest import found
from tests.watches.wearsync_timer.hostile import GARBAGE, HostileWatch, Hostility, Replay
from wearsync.errors import WearSyncError
from wearsync.profiles import DeviceProfile
from wearsync.records import utc_now
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import HeldWatch, SyncContext
from wearsync.sync.reports import SyncError, SyncReport
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.client import ProtocolViolationError
from wearsync.watches.wearsync_timer.codec import Feature
from wearsync.watches.wearsync_timer.driver import TimerDriver
from wearsync.watches.wearsync_timer.sim.watch import ALL_FEATURES

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
TOTAL_MS = compile_routine(ROUTINE).total_ms


@pytest.fixture
async def hostile(
    link: VirtualLink, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[HostileWatch]:
    watch = await HostileWatch.start(
        link, flash_dir=tmp_path / "hostile-flash", clock=clock, utc=utc_now()
    )
    assert isinstance(watch, HostileWatch)
    yield watch
    await watch.close()


async def sync(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], watch: HostileWatch
) -> SyncReport:
    return await sync_watch(
        store=store,
        routine=ROUTINE,
        routine_text=TEXT,
        watch=await found(link, profiles, watch),
        hci=link,
    )


async def with_backlog(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], watch: HostileWatch
) -> int:
    """An honest first sync (pairs, pushes), then one session: the backlog it leaves."""
    await sync(store, link, profiles, watch)
    await watch.press_start()
    assert isinstance(watch.clock, ManualClock)
    await watch.clock.advance(TOTAL_MS + 1000)
    await watch.drain()
    assert len(watch.events) > 50
    return len(watch.events)


def assert_one_line(error: BaseException) -> None:
    assert isinstance(error, WearSyncError)
    assert "\n" not in error.message and error.hint is not None


async def test_garbage_notifications_are_dropped_and_the_sync_goes_on(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], hostile: HostileWatch
) -> None:
    backlog = await with_backlog(store, link, profiles, hostile)
    hostile.hostility = Hostility(replay=Replay.GARBAGE_FIRST)
    report = await sync(store, link, profiles, hostile)
    assert hostile.hostility.sent == len(GARBAGE)
    assert report.rejected_notifications == len(GARBAGE)
    assert report.events_new == backlog
    assert len(store.events()) == backlog
    assert hostile.events == [], "what was stored is acknowledged"


async def test_events_from_a_boot_that_has_not_happened_are_not_stored(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], hostile: HostileWatch
) -> None:
    backlog = await with_backlog(store, link, profiles, hostile)
    hostile.hostility = Hostility(replay=Replay.FUTURE_BOOT)
    report = await sync(store, link, profiles, hostile)
    assert report.rejected_notifications == 1
    assert {e.boot_id for e in store.events()} == {hostile.boot_id}
    assert len(store.events()) == backlog


async def test_a_replay_of_more_batches_forever_stops_with_one_error(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], hostile: HostileWatch
) -> None:
    backlog = await with_backlog(store, link, profiles, hostile)
    before = hostile.events
    hostile.hostility = Hostility(replay=Replay.MORE_FOREVER)
    with pytest.raises(ProtocolViolationError) as caught:
        await sync(store, link, profiles, hostile)
    assert_one_line(caught.value)
    assert "the event replay went on past" in caught.value.message
    # The backlog over and over, well past the backlog plus the live-event slack (256).
    assert hostile.hostility.sent * 8 > backlog + 256
    assert store.events() == [], "nothing of a replay that broke the protocol is stored"
    assert hostile.events == before, "and nothing is acknowledged"


async def test_a_replay_that_never_ends_is_cut_at_its_deadline(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], hostile: HostileWatch
) -> None:
    """A Timer Info claiming 65535 events lets a MORE-forever replay run for long: the
    deadline stops it (shortened here; by default it grows with the claimed backlog)."""
    await with_backlog(store, link, profiles, hostile)
    hostile.hostility = Hostility(
        replay=Replay.MORE_FOREVER,
        info=lambda i: replace(i, unacked_events=0xFFFF, event_capacity=0xFFFF),
    )
    watch = await found(link, profiles, hostile)
    ctx = SyncContext.of(store, watch, ROUTINE, TEXT, hci=link)
    driver = registry.driver_for(watch.profile)
    assert isinstance(driver, TimerDriver)
    async with driver.connected(ctx, HeldWatch()) as (timer_link, info, _paired):
        assert info.unacked_events == 0xFFFF
        with pytest.raises(ProtocolViolationError, match=r"did not end within 0\.5 s"):
            await timer_link.client.replay(info, deadline_s=0.5)
    assert store.events() == []


@pytest.mark.slow
async def test_a_replay_whose_end_never_comes_keeps_what_arrived(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], hostile: HostileWatch
) -> None:
    backlog = await with_backlog(store, link, profiles, hostile)
    hostile.hostility = Hostility(replay=Replay.NO_END)
    report = await sync(store, link, profiles, hostile)
    assert report.events_new == backlog
    assert len(store.events()) == backlog


async def test_timer_info_claiming_a_backlog_the_log_does_not_have(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], hostile: HostileWatch
) -> None:
    await sync(store, link, profiles, hostile)
    assert hostile.events == []
    hostile.hostility = Hostility(info=lambda i: replace(i, unacked_events=0xFFFF))
    report = await sync(store, link, profiles, hostile)
    assert report.events_received == 0 and store.events() == []


async def test_timer_info_with_no_room_for_a_program(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], hostile: HostileWatch
) -> None:
    hostile.hostility = Hostility(info=lambda i: replace(i, max_program_length=0))
    with pytest.raises(SyncError) as caught:
        await sync(store, link, profiles, hostile)
    assert_one_line(caught.value)
    assert "holds at most 0" in caught.value.message
    assert hostile.committed_program is None


@pytest.mark.parametrize("value", [b"", bytes(39), b"\x01" + bytes(60), bytes(range(40))])
async def test_an_unreadable_timer_info_is_one_error(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    hostile: HostileWatch,
    value: bytes,
) -> None:
    hostile.hostility = Hostility(raw_info=value)
    with pytest.raises(WearSyncError) as caught:
        await sync(store, link, profiles, hostile)
    assert_one_line(caught.value)
    assert hostile.address in caught.value.message


async def test_garbage_read_from_the_event_log_is_one_error_and_nothing_stored(
    link: VirtualLink,
    clock: ManualClock,
    tmp_path: Path,
    store: Store,
    profiles: list[DeviceProfile],
) -> None:
    watch = await HostileWatch.start(
        link,
        flash_dir=tmp_path / "no-replay",
        clock=clock,
        utc=utc_now(),
        features=ALL_FEATURES & ~Feature.EVENT_REPLAY,
    )
    assert isinstance(watch, HostileWatch)
    try:
        backlog = await with_backlog(store, link, profiles, watch)
        stored = len(store.events())
        watch.hostility = Hostility(event_log_read=bytes([0x00, 0x03]) + bytes(40))
        with pytest.raises(ProtocolViolationError, match="unreadable Event Log") as caught:
            await sync(store, link, profiles, watch)
        assert_one_line(caught.value)
        assert len(store.events()) == stored
        assert len(watch.events) == backlog
    finally:
        await watch.close()
