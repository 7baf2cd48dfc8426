"""§5.6, §8 and table 9-2 on both watches: the same program plays the same cue timeline and
records the same events, whichever watch runs it, and what a session leaves is read back once.

The timeline both must play is worked out here from the program alone (its expansion, §5.6
rules 6-7), so the two watches equal each other by equalling it. Session times are exact on
both (the simulator's manual clock runs each callback at its due time; the firmware processes
everything due at its due time at any time scale), so this is no timed check.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.watches.conftest import run_session, sync_watch
from tests.watches.wearsync_timer.both.watch import (
    StartTimerWatch,
    TimerWatch,
    found,
    timer_info,
)
from wearsync.profiles import DeviceProfile
from wearsync.records import SessionStatus
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.model import Direction, Side
from wearsync.sim.link import VirtualLink
from wearsync.sim.motor import Vibration
from wearsync.store import Store
from wearsync.sync.live import LiveUpdate
from wearsync.watches.wearsync_timer.codec import (
    EventKind,
    EventRecord,
    decode_program,
    encode_program,
    expand,
)
from wearsync.watches.wearsync_timer.sim.cli import event_line, vibration_line

SHORT_PATH = Path(__file__).parents[3] / "firmware" / "data" / "short.toml"
SHORT = load_routine(SHORT_PATH)
SHORT_TEXT = SHORT_PATH.read_text()
PROGRAM = compile_routine(SHORT)
WIRE = encode_program(PROGRAM)
#: Long enough for any session of the short program, with room to spare (watch time).
WITHIN_MS = 2 * PROGRAM.total_ms + 10_000

Cue = tuple[str, tuple[int, ...], int, int | None, int]
Event = tuple[str, int, int, int, int, int]


def expected_cues(wire: bytes) -> list[Cue]:
    """What the motor plays for a session run to the end (§5.6 rules 6-7): each step's cue at
    its start, the countdown ticks once a second in its last ``countdown_ms``, the end cue."""
    program = decode_program(wire)
    cues = {c.name: c for c in program.cues}
    steps = expand(program)
    out: list[Cue] = []
    for step in steps:
        cue = cues[step.cue]
        out.append((cue.name, tuple(cue.pattern), cue.strength, step.index, step.start_ms))
        if step.countdown_cue is not None:
            tick = cues[step.countdown_cue]
            for k in range(step.countdown_ms // 1000, 0, -1):
                at = step.end_ms - 1000 * k
                out.append((tick.name, tuple(tick.pattern), tick.strength, step.index, at))
    if program.end_cue is not None:
        end = program.cues[program.end_cue]
        out.append((end.name, tuple(end.pattern), end.strength, None, steps[-1].end_ms))
    return out


def expected_events(wire: bytes) -> list[Event]:
    """The events of a session run to the end (table 9-2)."""
    steps = expand(decode_program(wire))
    first = steps[0]
    out: list[Event] = [("session_started", 0, first.exercise, first.set, first.rep, 0)]
    for step in steps:
        position = (step.index, step.exercise, step.set, step.rep)
        out.append(("step_started", *position, step.start_ms))
        if step is steps[-1] or steps[step.index + 1].exercise != step.exercise:
            begun = next(s for s in steps if s.exercise == step.exercise).start_ms
            out.append(("exercise_completed", *position, step.end_ms - begun))
    last = steps[-1]
    out.append(("session_completed", last.index, last.exercise, last.set, last.rep, last.end_ms))
    return out


def line_shapes() -> dict[str, set[str]]:
    """The keys of each line type as ``wearsync sim --json`` prints it."""
    vibration = Vibration("cue", (100,), 50, session_ms=0, step=0, at_ms=0, utc=None)
    event = EventRecord(
        *(1, 0, 0, 0, EventKind.SESSION_STARTED, False, 0, 0, 1, 0),
        *(next(iter(Side)), next(iter(Direction)), 0),
    )
    return {"vibration": set(vibration_line(vibration)), "event": set(event_line(event))}


def cue_of(line: dict[str, Any]) -> Cue:
    return (line["cue"], tuple(line["pattern"]), line["strength"], line["step"], line["session_ms"])


def event_of(line: dict[str, Any]) -> Event:
    keys = ("kind", "step", "exercise", "set", "rep", "duration_ms")
    kind, step, exercise, set_, rep, duration = (line[k] for k in keys)
    return (kind, step, exercise, set_, rep, duration)


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
    await sync_watch(store=store, routine=SHORT, routine_text=SHORT_TEXT, watch=target, hci=link)
    assert await watch.press("start") == 0
    await watch.run_until(lambda: completed(watch), within_ms=WITHIN_MS)
    waiting = [(e["boot_id"], e["seq"]) for e in watch.events()]
    assert len(waiting) > len(PROGRAM.steps)
    report = await sync_watch(
        store=store, routine=SHORT, routine_text=SHORT_TEXT, watch=target, hci=link
    )
    assert report.events_received == report.events_new == len(waiting)
    assert report.acked_through == "{}/{}".format(*waiting[-1])
    assert (await timer_info(watch)).unacked_events == 0, "acknowledged events leave the log"
    stored = store.events(watch.address)
    assert [(e.boot_id, e.seq) for e in stored] == waiting
    assert all(e.time_known for e in stored)
    sessions = store.sessions()
    assert [s.status for s in sessions] == [SessionStatus.COMPLETED]
    assert [e.exercise_id for e in sessions[0].exercises] == [ex.id for ex in SHORT.exercises]
    again = await sync_watch(
        store=store, routine=SHORT, routine_text=SHORT_TEXT, watch=target, hci=link
    )
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
    await sync_watch(store=store, routine=SHORT, routine_text=SHORT_TEXT, watch=target, hci=link)
    boot = watch.boot_id
    assert await watch.press("start") == 0
    await watch.reboot()
    info = await timer_info(watch)
    assert (info.boot_id, info.unacked_events) == (boot + 1, 3)
    aborted = watch.events()[-1]
    assert (aborted["boot_id"], aborted["seq"], aborted["kind"]) == (boot + 1, 0, "session_aborted")
    # At the step the marker held (the lead-in) and its session time then (§8.2, §9.3).
    assert (aborted["step"], aborted["duration_ms"]) == (0, 0)
    report = await sync_watch(
        store=store, routine=SHORT, routine_text=SHORT_TEXT, watch=target, hci=link
    )
    assert report.events_new == 3
    await watch.reboot()
    info = await timer_info(watch)
    assert info.unacked_events == 0, "the marker is gone: no second SESSION_ABORTED"
