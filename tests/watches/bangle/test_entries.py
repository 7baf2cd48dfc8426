"""Entries and reminders on the simulated Bangle.js through the driver, over the virtual radio
(bleak through our bumble backend to the Node.js VM running the uploaded runtime).

The watch's clock is the VM's virtual clock in manual mode; a sync sets it to now, in the
routine's zone, as on a real watch.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Final

import pytest

from tests.watches.bangle.espruino.test_entries import open_menu
from tests.watches.bangle.test_driver import AFTER_END_MS, run_clock, sync, unacked, wait_for
from tests.watches.conftest import RoutineCase, Updates, find, routine_case
from wearsync.records import SessionStatus
from wearsync.routine.occurrences import ROUTINE_ENTRY, Plan, occurrences
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SessionOptions, SessionStartError, SyncContext
from wearsync.sync.first_day import kept_first_day
from wearsync.sync.history import plans_in_store, summarize
from wearsync.sync.reports import SessionReport
from wearsync.watches import registry
from wearsync.watches.bangle import driver as espruino
from wearsync.watches.bangle.sim import SimBangle

pytestmark = pytest.mark.usefixtures("quick_probe")

HOUR_MS: Final = 3600 * 1000


@pytest.fixture
def quick_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulated REPL answers at once: no need for the real watch's two seconds."""
    monkeypatch.setattr(espruino, "HELLO_TIMEOUT_S", 0.3)


async def watch_time(bangle: SimBangle) -> datetime:
    return datetime.fromtimestamp((await bangle.vm.state()).wall_ms / 1000, tz=UTC)


async def entry_session(
    link: VirtualLink,
    bangle: SimBangle,
    store: Store,
    case: RoutineCase,
    entry: str | None,
    updates: Updates,
) -> asyncio.Task[SessionReport]:
    """``wearsync session --entry ENTRY``, through the driver; returns once it started."""
    watch = await find(link, bangle.address)
    ctx = SyncContext.of(store, watch, case.routine, case.text, hci=link)
    options = SessionOptions(on_update=updates, entry=entry)
    task = asyncio.create_task(registry.driver_for(watch.profile).session(ctx, options))
    await wait_for(lambda: "session_started" in updates.kinds() or task.done())
    return task


async def listening(bangle: SimBangle, quiet_s: float = 0.3) -> None:
    """Wait until the companion wrote something and then went quiet for ``quiet_s``: its
    handshake and clock are done and it only listens."""
    seen, since = -1, 0.0
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(10):
        while bangle.rx_writes == 0 or bangle.rx_writes != seen or loop.time() - since < quiet_s:
            if bangle.rx_writes != seen:
                seen, since = bangle.rx_writes, loop.time()
            await asyncio.sleep(0.02)


def entry_length(case: RoutineCase, exercise: int) -> int:
    """How long an entry of ``exercise`` runs (its lead-in included)."""
    program = case.program
    steps = [s for s in program.steps if s.exercise == exercise]
    return steps[-1].end_ms - steps[0].start_ms


async def test_each_entry_from_the_watch_and_from_the_companion(
    link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
) -> None:
    first = await sync(link, bangle, store, foot)
    assert first.program_pushed
    # From the watch's buttons: the menu, held once for the next item (Toe Presses), pressed.
    await open_menu(bangle.vm)
    await bangle.vm.press_button(1100)
    await bangle.vm.press_button(200)
    await bangle.advance(entry_length(foot, 0) + AFTER_END_MS)
    # From the companion: wearsync session --entry toe-walking, mirrored live.
    updates = Updates()
    task = await entry_session(link, bangle, store, foot, "toe-walking", updates)
    await run_clock(bangle, entry_length(foot, 1) + 1000)
    report = await asyncio.wait_for(task, 10)
    assert report.ended == "session_completed"
    assert {u.exercise for u in updates.seen if u.kind == "step_started"} == {"Toe Walking"}
    # Every event stored exactly once, with its entry; a second sync imports nothing.
    again = await sync(link, bangle, store, foot)
    assert (again.events_new, again.program_pushed) == (0, False)
    assert await unacked(bangle) == 0
    events = [e for e in store.events(bangle.address) if e.kind != "reminder"]
    assert len({(e.boot_id, e.seq) for e in events}) == len(events)
    completed = Counter(e.entry for e in events if e.kind == "session_completed")
    assert completed == {"toe-presses": 1, "toe-walking": 1}
    assert {e.entry for e in events} == {"toe-presses", "toe-walking"}
    sessions = store.sessions()
    assert sorted(s.entry for s in sessions) == ["toe-presses", "toe-walking"]
    assert all(s.status is SessionStatus.COMPLETED for s in sessions)
    assert sorted(s.exercises[0].exercise_id for s in sessions) == ["toe-presses", "toe-walking"]
    assert [len(s.exercises) for s in sessions] == [1, 1]
    # History counts them for their entries (the plan from the start of the day: what the
    # store says rules only from the push on, and today's slots may have passed).
    now = await watch_time(bangle)
    first_day, plans = plans_in_store(store, foot.routine, now=now)
    assert first_day == kept_first_day(store, foot.routine.name)
    history = summarize(sessions, [Plan(plans[0].routine)], first_day=first_day, now=now)
    assert {e.entry: e.done for e in history.entries} == {
        ROUTINE_ENTRY: 0,
        "toe-presses": 1,
        "toe-walking": 1,
    }


async def test_session_wait_mirrors_the_entry_the_wearer_picks_on_the_watch(
    link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
) -> None:
    """``wearsync session --wait``: nothing is started from the companion; the wearer opens
    the app, holds BTN1 twice (Toe Walking) and presses; the session is mirrored and stored."""
    await sync(link, bangle, store, foot)
    watch = await find(link, bangle.address)
    ctx = SyncContext.of(store, watch, foot.routine, foot.text, hci=link)
    updates = Updates()
    options = SessionOptions(on_update=updates, start=False)
    task = asyncio.create_task(registry.driver_for(watch.profile).session(ctx, options))
    await listening(bangle)
    assert not task.done() and not updates.seen
    await open_menu(bangle.vm)
    await bangle.vm.press_button(1100)
    await bangle.vm.press_button(1100)
    await bangle.vm.press_button(200)
    await run_clock(bangle, entry_length(foot, 1) + 1000)
    report = await asyncio.wait_for(task, 10)
    assert report.ended == "session_completed"
    assert {u.exercise for u in updates.seen if u.kind == "step_started"} == {"Toe Walking"}
    [session] = store.sessions()
    assert (session.entry, session.status) == ("toe-walking", SessionStatus.COMPLETED)


async def test_an_exercise_done_once_a_day_is_no_entry(
    link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
) -> None:
    await sync(link, bangle, store, foot)
    task = await entry_session(link, bangle, store, foot, "ankle-circles", Updates())
    with pytest.raises(SessionStartError, match="no entry"):
        await task


async def test_reminders_come_back_once_with_their_entry(
    link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
) -> None:
    """The watch reminds alone (nothing connected) at every planned time of a day; the next
    sync stores each reminder once, with its entry, and a second sync imports nothing."""
    await sync(link, bangle, store, foot)
    start = await watch_time(bangle)
    await bangle.advance(24 * HOUR_MS)
    end = await watch_time(bangle)
    first_day = kept_first_day(store, foot.routine.name)
    assert first_day is not None
    want = sorted(
        (o.at, o.entry)
        for o in occurrences(foot.routine, first_day=first_day, start=start, end=end)
        if o.at > start
    )
    assert want  # a day always holds planned times
    report = await sync(link, bangle, store, foot)
    assert report.events_new == len(want)
    stored = [e for e in store.events(bangle.address) if e.kind == "reminder"]
    assert sorted((e.at, e.entry) for e in stored) == want
    assert store.sessions() == []  # a reminder belongs to no session
    again = await sync(link, bangle, store, foot)
    assert again.events_new == 0
    assert len([e for e in store.events(bangle.address) if e.kind == "reminder"]) == len(want)


async def test_a_changed_schedule_is_sent_though_the_program_is_the_same(
    link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
) -> None:
    """Moving the daily times changes no step, so not the program's hash; the data the watch
    reminds by changed, and its identity's data CRC says so: the program goes again."""
    await sync(link, bangle, store, foot)
    later = foot.text.replace(
        'daily_times = ["08:00", "13:00", "18:00"]', 'daily_times = ["09:30", "13:00", "18:00"]'
    )
    assert later != foot.text
    moved = routine_case(later)
    assert moved.program.content_hash == foot.program.content_hash
    report = await sync(link, bangle, store, moved)
    assert report.program_pushed
    assert not (await sync(link, bangle, store, moved)).program_pushed
    await bangle.advance(24 * HOUR_MS)
    await sync(link, bangle, store, moved)
    times = {
        e.at.astimezone(moved.routine.schedule.zone).strftime("%H:%M")
        for e in store.events(bangle.address)
        if e.kind == "reminder"
    }
    assert "09:30" in times and "08:00" not in times
