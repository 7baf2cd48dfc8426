"""§5.6, §8 and table 9-2 on both watches: the same program plays the same cue timeline and
records the same events, whichever watch runs it, and what a session leaves is read back once.

The timeline both must play is worked out from the program alone (expected.py: its expansion,
§5.6 rules 6-7), so the two watches equal each other by equalling it. Session times are exact
on both (each manual clock runs everything due at its due time), so this is no timed check.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.watches.conftest import run_session, sync_watch
from tests.watches.wearsync_timer.both.expected import (
    cue_of,
    event_of,
    expected_cues,
    expected_events,
    line_shapes,
)
from tests.watches.wearsync_timer.both.watch import (
    StartTimerWatch,
    TimerWatch,
    found,
    timer_info,
)
from wearsync.ble.connection import FoundWatch
from wearsync.profiles import DeviceProfile
from wearsync.records import SessionStatus
from wearsync.routine import compile_routine, load_routine
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.live import LiveUpdate
from wearsync.sync.reports import SyncReport
from wearsync.watches.wearsync_timer.codec import encode_program

SHORT_PATH = Path(__file__).parents[3] / "firmware" / "data" / "short.toml"
SHORT = load_routine(SHORT_PATH)
SHORT_TEXT = SHORT_PATH.read_text()
PROGRAM = compile_routine(SHORT)
WIRE = encode_program(PROGRAM)
#: Long enough for any session of the short program, with room to spare (watch time).
WITHIN_MS = 2 * PROGRAM.total_ms + 10_000


async def sync_short(store: Store, link: VirtualLink, target: FoundWatch) -> SyncReport:
    """One sync of the short routine with ``target``."""
    return await sync_watch(
        store=store, routine=SHORT, routine_text=SHORT_TEXT, watch=target, hci=link
    )


def completed(watch: TimerWatch) -> bool:
    return bool(watch.events("session_completed"))


def started(watch: TimerWatch) -> bool:
    return bool(watch.events("session_started"))


async def test_a_session_started_from_the_companion_plays_the_programs_cue_timeline(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    watch = await start_timer_watch()
    updates: list[LiveUpdate] = []
    session = asyncio.create_task(
        run_session(
            store=store,
            routine=SHORT,
            routine_text=SHORT_TEXT,
            watch=await found(link, profiles, watch),
            hci=link,
            on_update=updates.append,
        )
    )
    await watch.wait_for(lambda: started(watch))
    await watch.run_until(lambda: completed(watch), within_ms=WITHIN_MS)
    report = await session
    assert report.ended == "session_completed"
    assert report.steps_seen == len(PROGRAM.steps)

    cues = [cue_of(line) for line in watch.of_type("vibration")]
    assert len(cues) > len(PROGRAM.steps), "countdown ticks and the end cue play too"
    assert cues == expected_cues(WIRE)
    assert [event_of(line) for line in watch.events()] == expected_events(WIRE)
    # The companion stored the session's events, all of them, once.
    assert report.events_new == len(watch.events())
    # The clock was set by the session's sync: cues carry UTC, events say the clock was set.
    assert all(line["utc"] is not None for line in watch.of_type("vibration"))
    assert all(line["clock_set"] for line in watch.events())
    # Both print the same JSON lines, the shape `wearsync sim --json` prints.
    shapes = line_shapes()
    assert all(set(line) == shapes[line["type"]] for line in watch.lines)


async def test_skip_pressed_on_the_watch_jumps_to_the_next_exercise_and_is_stored(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    watch = await start_timer_watch()
    second = next(s.index for s in PROGRAM.steps if s.exercise == 1)
    session = asyncio.create_task(
        run_session(
            store=store,
            routine=SHORT,
            routine_text=SHORT_TEXT,
            watch=await found(link, profiles, watch),
            hci=link,
        )
    )
    await watch.wait_for(lambda: bool(watch.events("step_started")))
    assert await watch.press("skip") == 0
    await watch.run_until(lambda: completed(watch), within_ms=WITHIN_MS)
    report = await session
    assert report.ended == "session_completed"
    kinds = [(e["kind"], e["step"], e["exercise"]) for e in watch.events()]
    skipped = next(i for i, k in enumerate(kinds) if k[0] == "exercise_skipped")
    assert kinds[skipped][2] == 0 and kinds[skipped][1] < second
    assert kinds[skipped + 1] == ("step_started", second, 1), "the next exercise's first step"
    assert ("exercise_completed", second - 1, 0) not in kinds
    assert kinds[-1][0] == "session_completed"
    stored = [e.kind for e in store.events(watch.address)]
    assert stored.count("exercise_skipped") == 1


async def test_a_session_done_on_the_watch_is_read_back_stored_and_acknowledged(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    watch = await start_timer_watch()
    target = await found(link, profiles, watch)
    await sync_short(store, link, target)
    assert await watch.press("start") == 0
    await watch.run_until(lambda: completed(watch), within_ms=WITHIN_MS)
    waiting = [(e["boot_id"], e["seq"]) for e in watch.events()]
    assert len(waiting) > len(PROGRAM.steps)
    report = await sync_short(store, link, target)
    assert report.events_received == report.events_new == len(waiting)
    assert report.acked_through == "{}/{}".format(*waiting[-1])
    assert (await timer_info(watch)).unacked_events == 0, "acknowledged events leave the log"
    stored = store.events(watch.address)
    assert [(e.boot_id, e.seq) for e in stored] == waiting
    assert all(e.time_known for e in stored)
    sessions = store.sessions()
    assert [s.status for s in sessions] == [SessionStatus.COMPLETED]
    assert [e.exercise_id for e in sessions[0].exercises] == [ex.id for ex in SHORT.exercises]
    again = await sync_short(store, link, target)
    assert again.events_received == 0 and len(store.events()) == len(waiting)


async def test_a_reboot_during_a_session_records_session_aborted_at_the_next_boot(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    start_timer_watch: StartTimerWatch,
) -> None:
    # No watch time passes between the press and the reboot: the reboot cuts the lead-in.
    watch = await start_timer_watch()
    target = await found(link, profiles, watch)
    await sync_short(store, link, target)
    boot = watch.boot_id
    assert await watch.press("start") == 0
    await watch.reboot()
    info = await timer_info(watch)
    assert (info.boot_id, info.unacked_events) == (boot + 1, 3)
    aborted = watch.events()[-1]
    assert (aborted["boot_id"], aborted["seq"], aborted["kind"]) == (boot + 1, 0, "session_aborted")
    # At the step the marker held (the lead-in) and its session time then (§8.2, §9.3).
    assert (aborted["step"], aborted["duration_ms"]) == (0, 0)
    report = await sync_short(store, link, target)
    assert report.events_new == 3
    # One cut session, ended by the next boot's SESSION_ABORTED: one aborted session in history.
    cut = [s for s in store.sessions() if s.device == target.address]
    assert [s.status for s in cut] == [SessionStatus.ABORTED]
    assert cut[0].key.startswith(f"{target.address}/{boot}/")  # the session the reboot cut
    await watch.reboot()
    info = await timer_info(watch)
    assert info.unacked_events == 0, "the marker is gone: no second SESSION_ABORTED"
