"""The event log over BLE on both watches (§9.4, §9.5): replays of several batches, reads,
overflow.

Events are made by the companion through the Control Point (START, PAUSE/RESUME pairs, STOP),
so their number is exact; both watches are on a manual clock that stands still, so every event
is at step 0, in the foot routine's lead-in.
"""

from __future__ import annotations

import zlib

from tests.watches.conftest import sync_watch
from tests.watches.wearsync_timer.both.watch import (
    StartTimerWatch,
    TimerWatch,
    connected,
    found,
)
from wearsync.profiles import DeviceProfile
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SyncContext
from wearsync.watches.wearsync_timer.codec import (
    InfoFlags,
    PauseSession,
    ResumeSession,
    TimerInfo,
    encode_program,
)
from wearsync.watches.wearsync_timer.codec import uuids as U
from wearsync.watches.wearsync_timer.driver import open_watch

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
WIRE = encode_program(compile_routine(ROUTINE))
CONTROL = str(U.CONTROL_POINT)


async def make_events(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], fw: TimerWatch, pauses: int
) -> int:
    """Sync, then start, pause and resume ``pauses`` times, and stop: 3 + 2 x pauses events."""
    watch = await found(link, profiles, fw)
    await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=watch, hci=link)
    async with open_watch(SyncContext.of(store, watch, ROUTINE, TEXT, hci=link)) as (
        session,
        info,
        _paired,
    ):
        client = session.client
        await client.start_session(info.program_identity)
        for _ in range(pauses):
            await client.client.write_gatt_char(CONTROL, bytes(PauseSession()), response=True)
            await client.client.write_gatt_char(CONTROL, bytes(ResumeSession()), response=True)
        await client.stop_session()
    return 3 + 2 * pauses


async def test_a_backlog_of_several_batches_is_replayed_and_stored_once(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    fw = await start_timer_watch()
    made = await make_events(store, link, profiles, fw, pauses=10)  # 23: three batches of 8
    watch = await found(link, profiles, fw)
    report = await sync_watch(
        store=store, routine=ROUTINE, routine_text=TEXT, watch=watch, hci=link
    )
    assert report.events_received == report.events_new == made
    printed = [(e["boot_id"], e["seq"]) for e in fw.events()]
    stored = store.events(watch.address)
    assert [(e.boot_id, e.seq) for e in stored] == printed
    again = await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=watch, hci=link)
    assert again.events_received == 0


async def test_without_event_replay_the_backlog_is_read_and_nothing_is_lost(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    # Every feature but EVENT_REPLAY: the client reads Event Log batches (§9.5.1).
    fw = await start_timer_watch(features=0x0B)
    made = await make_events(store, link, profiles, fw, pauses=5)  # 13: two batches
    watch = await found(link, profiles, fw)
    received = 0
    for _ in range(made):  # each sync acknowledges what it stored; stop when none is left
        report = await sync_watch(
            store=store, routine=ROUTINE, routine_text=TEXT, watch=watch, hci=link
        )
        received += report.events_new
        if report.events_received == 0:
            break
    assert received == made
    printed = [(e["boot_id"], e["seq"]) for e in fw.events()]
    assert [(e.boot_id, e.seq) for e in store.events(watch.address)] == printed


async def test_a_full_log_drops_the_oldest_and_sets_events_lost_until_acknowledged(
    start_timer_watch: StartTimerWatch,
) -> None:
    fw = await start_timer_watch()
    async with connected(fw) as client:
        program = len(WIRE).to_bytes(2, "little") + bytes(2) + WIRE
        await client.write_gatt_char(str(U.PROGRAM), program, response=True)
        commit = b"\x01" + zlib.crc32(WIRE).to_bytes(4, "little")
        await client.write_gatt_char(CONTROL, commit, response=True)
        info = TimerInfo.from_bytes(bytes(await client.read_gatt_char(str(U.TIMER_INFO))))
        start = b"\x03" + info.program_identity
        await client.write_gatt_char(CONTROL, start, response=True)
        for _ in range(128):  # 2 + 256 events: two more than the log holds
            await client.write_gatt_char(CONTROL, bytes(PauseSession()), response=True)
            await client.write_gatt_char(CONTROL, bytes(ResumeSession()), response=True)
        info = TimerInfo.from_bytes(bytes(await client.read_gatt_char(str(U.TIMER_INFO))))
        assert info.unacked_events == info.event_capacity == 256
        assert info.flags & InfoFlags.EVENTS_LOST
        batch = bytes(await client.read_gatt_char(str(U.EVENT_LOG)))
        assert batch[0] & 0x01, "MORE: more than one batch waits"
        oldest_seq = int.from_bytes(batch[2 + 4 : 2 + 8], "little")
        assert oldest_seq == 2, "SESSION_STARTED and the first STEP_STARTED were dropped"
        ack = b"\x07" + batch[2:6] + oldest_seq.to_bytes(4, "little")
        await client.write_gatt_char(CONTROL, ack, response=True)
        info = TimerInfo.from_bytes(bytes(await client.read_gatt_char(str(U.TIMER_INFO))))
        assert info.unacked_events == 255
        assert not info.flags & InfoFlags.EVENTS_LOST
