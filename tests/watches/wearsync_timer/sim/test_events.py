"""§9 and §12.3-§12.4: the event log over GATT, acknowledgement, reboots and flash."""

from __future__ import annotations

import pytest
from bleak.exc import BleakGATTProtocolError

from tests.watches.wearsync_timer.sim.conftest import StartWatch
from tests.watches.wearsync_timer.sim.helpers import (
    DEMO,
    EVENT_LOG,
    FOOT_CARE,
    Notifications,
    connected,
    control,
    kinds,
    push,
    read_info,
)
from wearsync.sim.clock import ManualClock
from wearsync.watches.wearsync_timer.codec import (
    AckEvents,
    BatchFlags,
    EventBatch,
    EventKind,
    InfoFlags,
    ReplayEvents,
    SessionState,
    StartSession,
    program_identity,
)
from wearsync.watches.wearsync_timer.sim.watch import SimWatch

K = EventKind


async def with_demo_session(watch: SimWatch, clock: ManualClock) -> None:
    """Commit the §13.1 program and run it to the end: 1 + 21 + 1 + 1 = 24 events."""
    async with connected(watch) as client:
        await push(client, DEMO)
        await control(client, StartSession(program_identity(DEMO)))
    await clock.advance(10 * 60_000)
    assert watch.state is SessionState.IDLE
    assert len(watch.events) == 24


async def test_replay_then_ack_costs_two_round_trips(watch: SimWatch, clock: ManualClock) -> None:
    await with_demo_session(watch, clock)
    tap = watch.tap
    seen = Notifications()
    recorded = watch.events
    async with connected(watch) as client:
        await client.start_notify(EVENT_LOG, seen.on_events)
        mark = tap.current.mark()
        await control(client, ReplayEvents())
        await seen.replay_end()
        last = seen.events[-1]
        await control(client, AckEvents(last.boot_id, last.seq))
        spent = tap.current.since(mark)
        info = await read_info(client)
    assert spent.round_trips == 2
    assert seen.events == recorded and len(recorded) == 24
    # 8 records per notification at ATT_MTU 247: 8, 8, 8 (MORE, MORE, REPLAY_END).
    assert [len(b.events) for b in seen.batches] == [8, 8, 8]
    assert [b.flags for b in seen.batches] == [
        BatchFlags.MORE,
        BatchFlags.MORE,
        BatchFlags.REPLAY_END,
    ]
    assert info.unacked_events == 0 and watch.events == []


async def test_replay_of_nothing_is_one_empty_end_batch(watch: SimWatch) -> None:
    seen = Notifications()
    async with connected(watch) as client:
        await client.start_notify(EVENT_LOG, seen.on_events)
        await control(client, ReplayEvents())
        await seen.replay_end()
    assert seen.batches == [EventBatch(BatchFlags.REPLAY_END, ())]


async def test_replay_needs_notifications_enabled(watch: SimWatch) -> None:
    async with connected(watch) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await control(client, ReplayEvents())
    assert caught.value.code == 0xFD


async def test_backlog_by_read_and_ack(watch: SimWatch, clock: ManualClock) -> None:
    await with_demo_session(watch, clock)
    collected = []
    async with connected(watch) as client:
        while True:
            batch = EventBatch.from_bytes(bytes(await client.read_gatt_char(EVENT_LOG)))
            collected += batch.events
            last = batch.events[-1]
            await control(client, AckEvents(last.boot_id, last.seq))
            if not batch.flags & BatchFlags.MORE:
                break
        assert len(collected) == 24
        empty = EventBatch.from_bytes(bytes(await client.read_gatt_char(EVENT_LOG)))
    assert empty == EventBatch(BatchFlags(0), ())


async def test_ack_semantics(watch: SimWatch, clock: ManualClock) -> None:
    await with_demo_session(watch, clock)
    async with connected(watch) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await control(client, AckEvents(1, 24))
        assert caught.value.code == 0x8D
        with pytest.raises(BleakGATTProtocolError) as caught:
            await control(client, AckEvents(2, 0))
        assert caught.value.code == 0x8D
        assert (await read_info(client)).unacked_events == 24
        await control(client, AckEvents(1, 9))
        assert [e.seq for e in watch.events] == list(range(10, 24))
        await control(client, AckEvents(1, 3))  # already removed: success, no change
        assert (await read_info(client)).unacked_events == 14
        await control(client, AckEvents(0, 1000))  # an older boot: below every event
        assert (await read_info(client)).unacked_events == 14


async def test_a_full_log_drops_the_oldest_and_flags_events_lost(
    start_watch: StartWatch, clock: ManualClock
) -> None:
    watch = await start_watch(event_capacity=10)
    async with connected(watch) as client:
        await push(client, DEMO)
        await control(client, StartSession(program_identity(DEMO)))
        await clock.advance(10 * 60_000)
        info = await read_info(client)
        assert info.event_capacity == 10 and info.unacked_events == 10
        assert info.flags & InfoFlags.EVENTS_LOST
        assert [e.seq for e in watch.events] == list(range(14, 24))
        await control(client, AckEvents(1, 15))
        info = await read_info(client)
    assert not info.flags & InfoFlags.EVENTS_LOST and info.unacked_events == 8


async def test_reboot_keeps_events_and_program_with_a_new_boot_id(
    watch: SimWatch, clock: ManualClock
) -> None:
    await with_demo_session(watch, clock)
    address = watch.address
    await watch.reboot()
    assert watch.boot_id == 2 and watch.address == address
    async with connected(watch) as client:
        info = await read_info(client)
        assert (info.boot_id, info.unacked_events, info.uptime_s) == (2, 24, 0)
        assert info.program_identity == program_identity(DEMO)
        await control(client, StartSession(program_identity(DEMO)))
    fresh = [e for e in watch.events if e.boot_id == 2]
    assert [(e.seq, e.kind) for e in fresh] == [(0, K.SESSION_STARTED), (1, K.STEP_STARTED)]


async def test_a_reboot_mid_session_records_session_aborted_at_the_next_boot(
    watch: SimWatch, clock: ManualClock
) -> None:
    async with connected(watch) as client:
        await push(client, FOOT_CARE)
        await control(client, StartSession(program_identity(FOOT_CARE)))
    await clock.advance(16_000)  # step 5 started at 15 s
    await watch.reboot()
    assert watch.state is SessionState.IDLE
    aborted = watch.events[-1]
    assert (aborted.boot_id, aborted.seq, aborted.kind) == (2, 0, K.SESSION_ABORTED)
    assert (aborted.step, aborted.rep, aborted.duration_ms) == (5, 3, 15_000)
    await clock.advance(600_000)
    assert watch.events[-1] == aborted  # the session really ended


async def test_a_reboot_drops_the_link_as_a_loss(watch: SimWatch) -> None:
    async with connected(watch) as client:
        await watch.reboot()
        assert not client.is_connected
    async with connected(watch) as client:
        assert (await read_info(client)).boot_id == 2


async def test_flash_persists_across_a_new_watch(
    start_watch: StartWatch, clock: ManualClock
) -> None:
    first = await start_watch()
    await with_demo_session(first, clock)
    address, events = first.address, first.events
    await first.close()
    second = await start_watch()
    assert (second.address, second.boot_id) == (address, 2)
    assert second.events == events
    assert second.committed_program == DEMO
    # The bond survived too: no pairing, and the link is encrypted.
    async with connected(second, pair=False) as client:
        batch = EventBatch.from_bytes(bytes(await client.read_gatt_char(EVENT_LOG)))
    assert batch.events == tuple(events[:8])


async def test_closing_mid_session_is_a_session_aborted_for_the_next_watch(
    start_watch: StartWatch, clock: ManualClock
) -> None:
    first = await start_watch()
    async with connected(first) as client:
        await push(client, FOOT_CARE)
        await control(client, StartSession(program_identity(FOOT_CARE)))
    await clock.advance(5500)
    await first.close()
    second = await start_watch()
    assert kinds(second.events)[-1] is K.SESSION_ABORTED
    assert second.events[-1].step == 1 and second.events[-1].boot_id == 2


async def test_cccds_are_kept_with_the_bond(watch: SimWatch, clock: ManualClock) -> None:
    tap = watch.tap
    async with connected(watch) as client:
        await push(client, DEMO)
        await client.start_notify(EVENT_LOG, lambda _c, _v: None)
    async with connected(watch, pair=False) as client:
        mark = tap.current.mark()
        # No CCCD write on this connection, yet events are notified (§2.3).
        await control(client, StartSession(program_identity(DEMO)))
        await clock.advance(1000)
        await watch.drain()
        await client.read_gatt_char(EVENT_LOG)  # a barrier: what was sent has arrived
        assert tap.current.since(mark).notifications >= 1
        await control(client, ReplayEvents())  # notifications count as enabled
