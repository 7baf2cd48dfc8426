"""Reminders on the NimBLE firmware over a week, with the unchanged client (docs/protocol.md
§5.8, §5.9, §7.7, §9.1): cancellations, a session running or paused, and the firmware's own
timer. What every timer watch must do with entries (the format-2 program, entries from the menu
and from the companion, their cues, events and a day of reminders) runs against the firmware
and the simulator alike in tests/watches/wearsync_timer/both/test_entries.py.

The firmware is driven through its stdin test interface: ``start N`` is the menu's item for
entry N, and ``advance MS`` steps its clock (monotonic and UTC alike) MS ms ahead, everything
due on the way (session steps, reminders) happening at its own watch time, so a week of
reminders takes seconds. Events are read back through the wearsync client over bumble.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.firmware.conftest import Firmware, found, start_firmware
from tests.watches.conftest import sync_watch
from wearsync.profiles import DeviceProfile
from wearsync.records import utc_now
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.routine.occurrences import ROUTINE_ENTRY, Occurrence, occurrences
from wearsync.sim.hci_server import HciServer
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.first_day import kept_first_day
from wearsync.watches.wearsync_timer.codec import (
    decode_program,
    encode_program,
)
from wearsync.watches.wearsync_timer.codec.encode import wire_plan
from wearsync.watches.wearsync_timer.codec.expand import entry_steps
from wearsync.watches.wearsync_timer.codec.plan import WirePlan
from wearsync.watches.wearsync_timer.sim.reminders import PlannedTime, window_start

pytestmark = pytest.mark.slow

ROUTINE = load_routine("foot-care")
TEXT = builtin_text("foot-care")
PROGRAM = compile_routine(ROUTINE)
WEEK = timedelta(days=7)
MS = timedelta(milliseconds=1)


@dataclass
class Clock:
    """The firmware's UTC: the host's, plus what ``advance`` added (it runs at real speed)."""

    firmware: Firmware
    advanced: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return utc_now() + self.advanced

    async def advance(self, by: timedelta) -> None:
        ms = int(by / MS)
        if ms > 0:
            line = await self.firmware.press(f"advance {ms}")
            assert line["code"] == 0
            self.advanced += timedelta(milliseconds=ms)

    async def advance_to(self, when: datetime) -> None:
        await self.advance(when - self.now())


def entry_names(plan: WirePlan) -> dict[int, str]:
    """Wire entry number -> the entry's name in the store and in occurrences."""
    names = {0: ROUTINE_ENTRY}
    for number, entry in enumerate(plan.entries, start=1):
        names[number] = PROGRAM.exercises[entry.exercise].id
    return names


def session_length(wire_program: bytes, entry: int) -> timedelta:
    wire = decode_program(wire_program)
    runs = entry_steps(wire, entry)
    return timedelta(milliseconds=sum(PROGRAM.steps[i].duration_ms for i in runs))


async def synced(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], fw: Firmware
) -> tuple[bytes, WirePlan]:
    """Sync the foot routine; the program the firmware must now hold and its plan."""
    watch = await found(link, profiles, fw)
    await sync_watch(store=store, routine=ROUTINE, routine_text=TEXT, watch=watch, hci=link)
    first = kept_first_day(store, ROUTINE.name)
    assert first is not None
    plan = wire_plan(ROUTINE, PROGRAM, first)
    return encode_program(PROGRAM, plan), plan


def of_kind(fw: Firmware, kind: str) -> list[dict[str, Any]]:
    return [e for e in fw.of_type("event") if e["kind"] == kind]


def expected_reminders(
    planned: list[Occurrence],
    plan: WirePlan,
    sessions: list[tuple[int, datetime, timedelta]],
    offset: timedelta,
) -> list[Occurrence]:
    """The occurrences the watch reminds of (§5.9): not while a session runs, and not when a
    session of the entry started within the reference's cancellation window."""
    numbers = {name: number for number, name in entry_names(plan).items()}

    def local(at: datetime) -> datetime:
        return (at + offset).replace(tzinfo=None)

    kept = []
    for o in planned:
        busy = any(start <= o.at < start + length for _, start, length in sessions)
        number = numbers[o.entry]
        window = window_start(plan, PlannedTime(local(o.at), number))
        cancelled = any(
            entry == number and window <= local(start) < local(o.at) for entry, start, _ in sessions
        )
        if not busy and not cancelled:
            kept.append(o)
    return kept


async def test_a_reminder_at_each_planned_time_of_a_week_with_their_events_read_back_once(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    hci_server: HciServer,
    tmp_path: Path,
) -> None:
    """A simulated week on the firmware's own clock: a buzz, a screen and a REMINDER event at
    every planned occurrence, except one whose entry was done 15 minutes early (cancelled), one
    that fell while the routine ran and one while a session was paused (skipped)."""
    fw = await start_firmware(hci_server, tmp_path / "fw")
    clock = Clock(fw)
    try:
        program, plan = await synced(store, link, profiles, fw)
        names = entry_names(plan)
        t0 = clock.now()
        first = plan.first_day
        planned = occurrences(ROUTINE, first_day=first, start=t0, end=t0 + WEEK)
        offset = t0.astimezone(ROUTINE.schedule.zone).utcoffset()
        assert offset is not None
        assert all(o.local.utcoffset() == offset for o in planned), "a DST change this week"
        # The wearer does entry 1 fifteen minutes early, and later starts the routine a
        # minute before another entry's occurrence, so that one falls while it runs.
        early = next(
            o for o in planned if o.entry == names[1] and o.at - t0 > timedelta(minutes=20)
        )
        busy = next(
            o for o in planned if o.entry != ROUTINE_ENTRY and o.at - early.at > timedelta(hours=2)
        )
        # And once, a day later, starts entry 2 a minute before one of its occurrences and
        # pauses at once: that one falls while the session is PAUSED (skipped), then it stops.
        paused = next(
            o for o in planned if o.entry == names[2] and o.at - busy.at > timedelta(days=1)
        )
        sessions = [
            (1, early.at - timedelta(minutes=15), session_length(program, 1)),
            (0, busy.at - timedelta(minutes=1), session_length(program, 0)),
            (2, paused.at - timedelta(minutes=1), timedelta(minutes=3)),
        ]
        for entry, start, length in sessions:
            await clock.advance_to(start)
            assert (await fw.press("start" if entry == 0 else f"start {entry}"))["code"] == 0
            if entry == 2:
                assert (await fw.press("pause"))["code"] == 0
                await clock.advance(length)
                assert (await fw.press("stop"))["code"] == 0
                assert fw.of_type("event")[-1]["kind"] == "session_aborted"
            else:
                await clock.advance(length + timedelta(seconds=1))
                assert fw.of_type("event")[-1]["kind"] == "session_completed"
        await clock.advance_to(t0 + WEEK - timedelta(seconds=1))
        expected = expected_reminders(planned, plan, sessions, offset)
        assert early not in expected and busy not in expected and paused not in expected
        assert len(expected) >= 7 * len(ROUTINE.schedule.times)
        # The screen: entry, title, planned local time (§5.9 step 1).
        wire = decode_program(program)
        titles = {0: wire.title} | {
            n: wire.exercises[e.exercise].name for n, e in enumerate(plan.entries, start=1)
        }
        numbers = {name: number for number, name in names.items()}
        shown = [(r["entry"], r["title"], r["local"]) for r in fw.of_type("reminder")]
        assert shown == [
            (numbers[o.entry], titles[numbers[o.entry]], o.local.replace(tzinfo=None).isoformat())
            for o in expected
        ]
        # The buzz, at the planned instant on the watch's clock.
        buzzes = [v for v in fw.of_type("vibration") if v["cue"] == "reminder"]
        assert [datetime.fromisoformat(v["utc"]) for v in buzzes] == [o.at for o in expected]
        assert all(v["step"] is None and v["session_ms"] == 0 for v in buzzes)
        # The event (§5.9 step 2), at the entry's first step.
        recorded = of_kind(fw, "reminder")
        assert [(e["time_s"], e["time_ms"]) for e in recorded] == [
            (int(o.at.timestamp()), 0) for o in expected
        ]
        starts = {n: entry_steps(wire, n).start for n in names}
        assert [e["step"] for e in recorded] == [starts[numbers[o.entry]] for o in expected]
        # Read back through the client exactly once, each with its entry (§9.1).
        watch = await found(link, profiles, fw)
        report = await sync_watch(
            store=store, routine=ROUTINE, routine_text=TEXT, watch=watch, hci=link
        )
        assert report.events_new == len(fw.of_type("event"))
        again = await sync_watch(
            store=store, routine=ROUTINE, routine_text=TEXT, watch=watch, hci=link
        )
        assert again.events_new == 0
        stored = [e for e in store.events() if e.kind == "reminder"]
        assert [(e.entry, e.at) for e in stored] == [(o.entry, o.at) for o in expected]
    finally:
        await fw.stop()


async def test_a_reminder_falls_on_its_own_timer_at_the_planned_instant(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    hci_server: HciServer,
    tmp_path: Path,
) -> None:
    """Without the clock step: the firmware's reminder timer (a callout re-armed after the
    clock writes and the commit) fires on its own. At 3,000x the night's gap is under 20 s;
    one ms of real time is 3 s of watch time, hence the tolerance for a loaded machine."""
    fw = await start_firmware(hci_server, tmp_path / "fw", time_scale=3_000)
    try:
        _program, plan = await synced(store, link, profiles, fw)
        line = await fw.wait_for(lambda line: line["type"] == "reminder", 40)
        numbers = {name: number for number, name in entry_names(plan).items()}
        now = utc_now()
        planned = occurrences(
            ROUTINE, first_day=plan.first_day, start=now - timedelta(days=2), end=now + WEEK
        )
        [due] = [
            o
            for o in planned
            if o.local.replace(tzinfo=None).isoformat() == line["local"]
            and numbers[o.entry] == line["entry"]
        ]
        buzz = await fw.wait_for(lambda v: v["type"] == "vibration" and v["cue"] == "reminder", 5)
        late = datetime.fromisoformat(buzz["utc"]) - due.at
        assert timedelta(0) <= late < timedelta(seconds=90)
        event = await fw.wait_for(lambda e: e["type"] == "event" and e["kind"] == "reminder", 5)
        assert event["clock_set"] and 0 <= event["time_s"] - int(due.at.timestamp()) < 90
    finally:
        await fw.stop()
