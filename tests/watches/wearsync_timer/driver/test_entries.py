"""Entries and reminders that only the simulated timer watch shows (docs/protocol.md §5.8,
§5.9): a week of reminders with the titles the screen shows, one cancelled by a session done
early, and the local offset every sync refreshes. What both watches must do with entries runs
against the simulator and the firmware in ../both/test_entries.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.watches.conftest import sync_watch
from tests.watches.wearsync_timer.driver.conftest import found
from wearsync.profiles import DeviceProfile
from wearsync.protocol.cts import DstOffset, LocalTimeInformation
from wearsync.records import utc_now
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.routine.occurrences import ROUTINE_ENTRY, occurrences
from wearsync.sim.att_tap import AttKind
from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.first_day import kept_first_day
from wearsync.watches.wearsync_timer.codec import (
    EventKind,
    SessionState,
)
from wearsync.watches.wearsync_timer.sim.watch import ENTRY_FEATURES, SimWatch

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
