"""Entries and reminders on both watches (docs/protocol.md §5.8, §5.9, §7.7): the plan in
one write, each entry startable from the watch and from the companion, its events back once
with their entry, and a reminder at every planned time.

A watch offers all this only with feature ENTRIES (0x10) in Timer Info. The tests read the bit
through the client and skip the firmware variant while the firmware lacks it, so they start
running against the firmware the day it offers ENTRIES.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Final

import pytest

from tests.watches.conftest import Updates, sync_watch
from tests.watches.wearsync_timer.both.expected import (
    Cue,
    cue_of,
    event_of,
    expected_cues,
    expected_events,
)
from tests.watches.wearsync_timer.both.watch import (
    StartTimerWatch,
    TimerWatch,
    found,
    skip_without_entries,
    timer_info,
)
from wearsync.ble.errors import GattError
from wearsync.profiles import DeviceProfile
from wearsync.records import utc_now
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.routine.occurrences import ROUTINE_ENTRY, Plan, occurrences
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SessionOptions, SessionStartError, SyncContext
from wearsync.sync.first_day import kept_first_day
from wearsync.sync.history import plans_in_store, summarize
from wearsync.sync.reports import SessionReport
from wearsync.watches import registry
from wearsync.watches.wearsync_timer.codec import (
    AttErrorCode,
    encode_program,
    program_identity,
)
from wearsync.watches.wearsync_timer.codec.encode import wire_plan
from wearsync.watches.wearsync_timer.driver import open_watch
from wearsync.watches.wearsync_timer.sim.watch import ALL_FEATURES

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
PROGRAM = compile_routine(ROUTINE)
HOUR_MS: Final = 3600 * 1000
DAY_MS: Final = 24 * HOUR_MS


async def sync(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], watch: TimerWatch
) -> None:
    target = await found(link, profiles, watch)
    await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=target, hci=link)


async def session(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], watch: TimerWatch, entry: str
) -> asyncio.Task[SessionReport]:
    """The companion starts ``entry`` (START_ENTRY, §7.7) and mirrors it live."""
    options = SessionOptions(on_update=Updates(), entry=entry, silence_timeout=10)
    ctx = SyncContext.of(store, await found(link, profiles, watch), ROUTINE, TEXT, hci=link)
    return asyncio.create_task(registry.driver_for(ctx.watch.profile).session(ctx, options))


def cues(watch: TimerWatch) -> list[Cue]:
    """The cues of sessions the watch played (reminders aside)."""
    return [cue_of(v) for v in watch.of_type("vibration") if v["cue"] != "reminder"]


def completions(watch: TimerWatch) -> int:
    return len(watch.events("session_completed"))


async def test_an_entries_watch_gets_the_plan_in_one_write(
    link: VirtualLink,
    store: Store,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    watch = await start_timer_watch(entries=True, manual_clock=False)
    await skip_without_entries(watch)
    await sync(store, link, profiles, watch)
    first = kept_first_day(store, ROUTINE.name)
    assert first == utc_now().astimezone(ROUTINE.schedule.zone).date()
    wire = encode_program(PROGRAM, wire_plan(ROUTINE, PROGRAM, first))
    assert len(wire) == 236
    info = await timer_info(watch)
    assert (info.program_identity, info.program_length) == (program_identity(wire), len(wire))
    sync_link = watch.tap.connections[-2]  # the sync's link, before Timer Info's just now
    program_writes = [
        p
        for p in sync_link.pdus
        if p.direction == "rx" and p.opcode in (0x12, 0x52) and p.size == 3 + 4 + len(wire)
    ]
    assert len(program_writes) == 1  # the whole program in one ATT write at MTU 247


async def test_a_watch_without_entries_gets_format_1_and_cannot_start_an_entry(
    link: VirtualLink,
    store: Store,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    watch = await start_timer_watch(features=int(ALL_FEATURES))
    await sync(store, link, profiles, watch)
    wire = encode_program(PROGRAM)  # the same bytes as before entries existed
    assert (await timer_info(watch)).program_identity == program_identity(wire)
    task = await session(store, link, profiles, watch, "toe-presses")
    with pytest.raises(SessionStartError, match="ENTRIES"):
        await task
    await watch.elapse(6 * HOUR_MS)  # three planned times of an entries watch
    assert not [v for v in watch.of_type("vibration") if v["cue"] == "reminder"]
    assert not watch.events("reminder"), "no plan, no reminders"


async def test_each_entry_from_the_watch_and_from_the_companion(
    link: VirtualLink,
    store: Store,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    watch = await start_timer_watch(entries=True)
    await skip_without_entries(watch)
    await sync(store, link, profiles, watch)
    # from the watch's menu: entry 1 (Toe Presses) runs exercise 0 only
    assert await watch.press("start", entry=1) == 0
    await watch.run_until(lambda: completions(watch) == 1, within_ms=PROGRAM.total_ms)
    ran = [e for e in watch.events() if e["kind"] != "reminder"]
    assert {e["exercise"] for e in ran} == {0}
    assert ran[0]["step"] == PROGRAM.exercises[0].first_step - 1 == 0
    assert ran[-1]["kind"] == "session_completed"
    # the cues and events of entry 1 alone, worked out from the program (§5.8)
    first = kept_first_day(store, ROUTINE.name)
    assert first is not None
    wire = encode_program(PROGRAM, wire_plan(ROUTINE, PROGRAM, first))
    assert [event_of(e) for e in ran] == expected_events(wire, 1)
    assert cues(watch) == expected_cues(wire, 1)
    played = len(cues(watch))
    assert await watch.press("start", entry=3) == AttErrorCode.UNKNOWN_ENTRY
    # from the companion: START_ENTRY of an entry the program lacks, then of toe walking (2)
    ctx = SyncContext.of(store, await found(link, profiles, watch), ROUTINE, TEXT, hci=link)
    async with open_watch(ctx) as (opened, info, _paired):
        with pytest.raises(GattError) as refused:
            await opened.client.start_session(info.program_identity, 3)
        assert refused.value.code == AttErrorCode.UNKNOWN_ENTRY
    task = await session(store, link, profiles, watch, "toe-walking")
    await watch.wait_for(lambda: len(watch.events("session_started")) == 2)
    await watch.run_until(lambda: completions(watch) == 2, within_ms=PROGRAM.total_ms)
    await task
    walked = [e for e in watch.events() if e["kind"] != "reminder"][len(ran) :]
    assert [event_of(e) for e in walked] == expected_events(wire, 2)
    assert cues(watch)[played:] == expected_cues(wire, 2)
    # a repeated sync changes nothing: every event was stored exactly once, with its entry
    await sync(store, link, profiles, watch)
    events = [e for e in store.events() if e.kind != "reminder"]
    printed = [(e["boot_id"], e["seq"]) for e in watch.events() if e["kind"] != "reminder"]
    assert [(e.boot_id, e.seq) for e in events] == printed
    by_entry = Counter(e.entry for e in events if e.kind == "session_completed")
    assert by_entry == {"toe-presses": 1, "toe-walking": 1}
    assert {e.entry for e in events[: len(ran)]} == {"toe-presses"}
    assert {e.entry for e in events[len(ran) :]} == {"toe-walking"}
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


async def test_a_reminder_at_each_planned_time_of_a_day(
    link: VirtualLink,
    store: Store,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    """The watch, alone on its clock for a day after a sync, buzzes the reminder cue and
    records REMINDER at each planned occurrence, at its planned instant (§5.9). Both clocks
    are manual: each reminder happens at its own watch time on the way."""
    watch = await start_timer_watch(entries=True)
    await skip_without_entries(watch)
    await sync(store, link, profiles, watch)
    first = kept_first_day(store, ROUTINE.name)
    assert first is not None
    # From the watch's clock as the sync left it (whole seconds, so the next one) on, no
    # planned time may pass unreminded.
    start = datetime.fromtimestamp((await timer_info(watch)).clock_s + 1, UTC)
    planned = occurrences(ROUTINE, first_day=first, start=start, end=start + timedelta(days=1))
    due = [o.at for o in planned]
    assert len(due) >= 3

    def buzzes() -> list[datetime]:
        lines = watch.of_type("vibration")
        return [datetime.fromisoformat(v["utc"]) for v in lines if v["cue"] == "reminder"]

    def recorded() -> list[datetime]:
        """When each REMINDER event says it happened (the watch's clock, set by the sync)."""
        return [
            datetime.fromtimestamp(e["time_s"], UTC) + timedelta(milliseconds=e["time_ms"])
            for e in watch.events("reminder")
            if e["clock_set"]
        ]

    def of_the_day(times: list[datetime]) -> list[datetime]:
        return [at for at in times if at >= start][: len(due)]

    await watch.run_until(
        lambda: len(of_the_day(buzzes())) == len(of_the_day(recorded())) == len(due),
        within_ms=DAY_MS + HOUR_MS,
        slice_ms=HOUR_MS,
    )
    # The cue and the event, at each planned time and nowhere else.
    assert of_the_day(buzzes()) == of_the_day(recorded()) == due
    assert buzzes() == recorded()
