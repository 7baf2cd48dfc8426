"""Entries and reminders on the simulated timer watch, over the real link (docs/protocol.md §5.8,
§5.9, §7.7): each entry startable from the watch and from the companion, events back once with
their entry, history counting them, and a reminder at every planned time of a week."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from tests.watches.conftest import Updates, sync_watch
from tests.watches.wearsync_timer.driver.conftest import found
from wearsync.profiles import DeviceProfile
from wearsync.protocol.cts import DstOffset, LocalTimeInformation
from wearsync.records import utc_now
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.routine.occurrences import ROUTINE_ENTRY, Plan, occurrences
from wearsync.sim.att_tap import AttKind
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SessionOptions, SessionStartError, SyncContext
from wearsync.sync.first_day import kept_first_day
from wearsync.sync.history import plans_in_store, summarize
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.codec import (
    AttError,
    AttErrorCode,
    EventKind,
    SessionState,
    encode_program,
)
from wearsync.watches.wearsync_timer.codec.encode import wire_plan
from wearsync.watches.wearsync_timer.sim.watch import ALL_FEATURES, ENTRY_FEATURES, SimWatch

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
PROGRAM = compile_routine(ROUTINE)
DAY_MS = 24 * 3600 * 1000
DISCOVERY = {0x02, 0x04, 0x06, 0x08, 0x10}


async def start(
    link: VirtualLink, tmp_path: Path, clock: ManualClock, features: object
) -> SimWatch:
    return await SimWatch.start(
        link,
        flash_dir=tmp_path / "flash",
        clock=clock,
        features=features,  # type: ignore[arg-type]
        utc=utc_now(),
    )


async def run_until_idle(watch: SimWatch, clock: ManualClock) -> None:
    while watch.state is not SessionState.IDLE:
        await clock.advance(5_000)
    await watch.drain()


async def session(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], watch: SimWatch, entry: str
) -> asyncio.Task[object]:
    options = SessionOptions(on_update=Updates(), entry=entry, silence_timeout=10)
    ctx = SyncContext.of(store, await found(link, profiles, watch), ROUTINE, TEXT, hci=link)
    return asyncio.create_task(registry.driver_for(ctx.watch.profile).session(ctx, options))


async def test_entries_watch_gets_the_plan_in_one_write(
    link: VirtualLink, store: Store, profiles: list[DeviceProfile], tmp_path: Path
) -> None:
    clock = ManualClock()
    watch = await start(link, tmp_path, clock, ENTRY_FEATURES)
    try:
        report = await sync_watch(
            store=store,
            routine=ROUTINE,
            routine_text=TEXT,
            watch=await found(link, profiles, watch),
            hci=link,
        )
        first = kept_first_day(store, ROUTINE.name)
        assert first == utc_now().astimezone(ROUTINE.schedule.zone).date()
        assert watch.committed_program == encode_program(
            PROGRAM, wire_plan(ROUTINE, PROGRAM, first)
        )
        assert report.program_bytes == len(watch.committed_program) == 236
        program_writes = [
            p
            for p in watch.tap.connections[-1].pdus
            if p.direction == "rx" and p.opcode in (0x12, 0x52) and p.size == 3 + 4 + 236
        ]
        assert len(program_writes) == 1  # the whole program in one ATT write at MTU 247
    finally:
        await watch.close()


async def test_old_watch_gets_format_1_and_cannot_start_an_entry(
    link: VirtualLink, store: Store, profiles: list[DeviceProfile], tmp_path: Path
) -> None:
    clock = ManualClock()
    watch = await start(link, tmp_path, clock, ALL_FEATURES)
    try:
        target = await found(link, profiles, watch)
        await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=target, hci=link)
        assert watch.committed_program == encode_program(PROGRAM)  # unchanged bytes
        task = await session(store, link, profiles, watch, "toe-presses")
        with pytest.raises(SessionStartError, match="ENTRIES"):
            await task
        await clock.advance(7 * DAY_MS)
        assert watch.reminders == []  # no plan, no reminders
    finally:
        await watch.close()


async def test_each_entry_from_the_watch_and_from_the_companion(
    link: VirtualLink, store: Store, profiles: list[DeviceProfile], tmp_path: Path
) -> None:
    clock = ManualClock()
    watch = await start(link, tmp_path, clock, ENTRY_FEATURES)
    try:
        target = await found(link, profiles, watch)
        await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=target, hci=link)
        # from the watch's menu: entry 1 (Toe Presses) runs exercise 0 only
        await watch.press_start(entry=1)
        assert watch.status.step == PROGRAM.exercises[0].first_step - 1 == 0
        await run_until_idle(watch, clock)
        ran = [e for e in watch.events if e.kind is not EventKind.REMINDER]
        assert {e.entry for e in ran} == {1}
        assert {e.exercise for e in ran} == {0}
        assert ran[-1].kind is EventKind.SESSION_COMPLETED
        with pytest.raises(AttError) as caught:
            await watch.press_start(entry=3)
        assert caught.value.code is AttErrorCode.UNKNOWN_ENTRY
        # from the companion: START_ENTRY for toe walking, mirrored live
        task = await session(store, link, profiles, watch, "toe-walking")
        while not task.done():
            await clock.advance(5_000)
            await asyncio.sleep(0)
        await task
        # a repeated sync changes nothing: every event was stored exactly once
        await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=target, hci=link)
        events = [e for e in store.events() if e.kind != "reminder"]
        assert len({(e.boot_id, e.seq) for e in events}) == len(events)
        by_entry = Counter(e.entry for e in events if e.kind == "session_completed")
        assert by_entry == {"toe-presses": 1, "toe-walking": 1}
        sessions = store.sessions()
        assert sorted(s.entry for s in sessions) == ["toe-presses", "toe-walking"]
        assert [len(s.exercises) for s in sessions] == [1, 1]
        # history counts them for their entries (the plan taken from the start of the day:
        # what the store says rules only from the push on, and today's slots may have passed)
        now = utc_now()
        first_day, plans = plans_in_store(store, ROUTINE, now=now)
        assert first_day == kept_first_day(store, ROUTINE.name)
        whole_day = [Plan(plans[0].routine)]
        report = summarize(sessions, whole_day, first_day=first_day, now=now)
        done = {e.entry: e.done for e in report.entries}
        assert done == {ROUTINE_ENTRY: 0, "toe-presses": 1, "toe-walking": 1}
        # an exercise done once a day is no entry
        task = await session(store, link, profiles, watch, "ankle-circles")
        with pytest.raises(SessionStartError, match="no entry"):
            await task
    finally:
        await watch.close()


async def test_a_reminder_at_each_planned_time_of_a_week(
    link: VirtualLink, store: Store, profiles: list[DeviceProfile], tmp_path: Path
) -> None:
    """The watch, alone on its virtual clock for a week, buzzes at every planned occurrence;
    a session done early cancels that occurrence's reminder."""
    clock = ManualClock()
    watch = await start(link, tmp_path, clock, ENTRY_FEATURES)
    try:
        target = await found(link, profiles, watch)
        await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=target, hci=link)
        first = kept_first_day(store, ROUTINE.name)
        assert first is not None
        t0 = watch.utc
        assert t0 is not None
        planned = occurrences(ROUTINE, first_day=first, start=t0, end=t0 + timedelta(days=7))
        # the wearer does the first toe presses 15 minutes early
        early = next(
            o for o in planned if o.entry == "toe-presses" and o.at - t0 > timedelta(minutes=20)
        )
        lead_ms = int((early.at - t0 - timedelta(minutes=15)) / timedelta(milliseconds=1))
        await clock.advance(lead_ms)
        await watch.press_start(entry=1)
        await run_until_idle(watch, clock)
        rest_ms = int((t0 + timedelta(days=7) - watch.utc) / timedelta(milliseconds=1))  # type: ignore[operator]
        await clock.advance(rest_ms - 1)
        expected = [o for o in planned if o != early]
        names = {
            ROUTINE_ENTRY: ROUTINE.title[:32],
            "toe-presses": "Toe Presses",
            "toe-walking": "Toe Walking",
        }
        got = [(r.local, r.title) for r in watch.reminders]
        assert got == [(o.local.replace(tzinfo=None), names[o.entry]) for o in expected]
        buzzes = [v for v in watch.motor.vibrations if v.cue == "reminder"]
        assert [v.utc for v in buzzes] == [o.at for o in expected]
        reminders = [e for e in watch.events if e.kind is EventKind.REMINDER]
        assert len(reminders) == len(expected)
    finally:
        await watch.close()


async def test_every_sync_refreshes_the_local_offset_for_reminders(
    link: VirtualLink, store: Store, profiles: list[DeviceProfile], tmp_path: Path
) -> None:
    """§5.9: the watch only knows the offset last written; after a DST change the next sync
    puts it right, even when the clock itself needs no setting (no extra round trip)."""
    clock = ManualClock()
    watch = await start(link, tmp_path, clock, ENTRY_FEATURES)
    try:
        target = await found(link, profiles, watch)
        await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=target, hci=link)
        right = LocalTimeInformation.from_datetime(utc_now().astimezone(ROUTINE.schedule.zone))
        assert watch.local_time() == right
        # as if the zone had changed its offset since: the watch still holds the old one
        wrong = LocalTimeInformation(right.time_zone, DstOffset.DOUBLE_DAYLIGHT)
        watch.set_local_time(wrong)
        await watch.beacon_settled()
        target = await found(link, profiles, watch)  # as the daemon would: its beacon now
        report = await sync_watch(
            store=store, routine=ROUTINE, routine_text=TEXT, watch=target, hci=link
        )
        assert not report.clock_set and not report.program_pushed
        assert watch.local_time() == right
        # and the next reminder falls at the planned instant, not two hours off
        first = kept_first_day(store, ROUTINE.name)
        assert first is not None and watch.utc is not None
        t0 = watch.utc
        [upcoming, *_] = occurrences(ROUTINE, first_day=first, start=t0, end=t0 + timedelta(days=3))
        await clock.advance(int((upcoming.at - t0) / timedelta(milliseconds=1)) + 1)
        assert watch.reminders and watch.reminders[0].utc == upcoming.at
        requests = [
            p
            for p in watch.tap.connections[-1].pdus
            if p.direction == "rx" and p.kind is AttKind.REQUEST and p.opcode not in DISCOVERY
        ]
        # The Database Hash (the cached GATT layout's check, §14 beside robust caching) and
        # Timer Info; the offset went as a Write Command.
        assert len(requests) == 2
    finally:
        await watch.close()


async def test_an_entry_cut_by_a_restart_is_aborted_with_its_entry(
    link: VirtualLink, store: Store, profiles: list[DeviceProfile], tmp_path: Path
) -> None:
    clock = ManualClock()
    watch = await start(link, tmp_path, clock, ENTRY_FEATURES)
    try:
        await sync_watch(
            store=store,
            routine=ROUTINE,
            routine_text=TEXT,
            watch=await found(link, profiles, watch),
            hci=link,
        )
        await watch.press_start(entry=2)
        await clock.advance(4_000)
        assert watch.state is SessionState.RUNNING
    finally:
        await watch.close()  # the flash keeps the running session's marker
    again = await start(link, tmp_path, clock, ENTRY_FEATURES)
    try:
        aborted = again.events[-1]
        assert (aborted.kind, aborted.boot_id, aborted.entry) == (EventKind.SESSION_ABORTED, 2, 2)
    finally:
        await again.close()
