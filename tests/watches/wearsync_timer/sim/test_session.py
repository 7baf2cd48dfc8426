"""§5.6, §7.4-§7.6, §8 and table 9-2: the committed program run on a manual clock."""

from __future__ import annotations

import pytest
from bleak.exc import BleakGATTProtocolError

from tests.watches.wearsync_timer.sim.conftest import StartWatch
from tests.watches.wearsync_timer.sim.helpers import (
    CONTROL_POINT,
    DEMO,
    FOOT_CARE,
    Notifications,
    connected,
    control,
    expected_pulses,
    kinds,
    push,
    read_info,
    shape,
    steps_of,
)
from wearsync.routine.compiler import Step
from wearsync.routine.model import Direction, Side
from wearsync.sim.clock import ManualClock
from wearsync.sim.wearer import Wearer
from wearsync.watches.wearsync_timer.codec import (
    Commit,
    EventKind,
    EventRecord,
    PauseSession,
    ResumeSession,
    SessionState,
    SessionStatusValue,
    StartSession,
    StopSession,
    program_crc,
    program_identity,
)
from wearsync.watches.wearsync_timer.sim.watch import SimWatch

STEPS = steps_of(FOOT_CARE)
TOTAL_MS = STEPS[-1].end_ms
K = EventKind
#: What a test compares of an event: kind, position fields (table 9-1), duration.
Position = tuple[EventKind, int, int, int, int, Side, Direction, int]


def at(step: Step, kind: EventKind, duration_ms: int) -> Position:
    """The fields of an event of ``kind`` positioned at ``step``."""
    return (
        kind,
        step.index,
        step.exercise,
        step.set,
        step.rep,
        step.side,
        step.direction,
        duration_ms,
    )


def fields(e: EventRecord) -> Position:
    return (e.kind, e.step, e.exercise, e.set, e.rep, e.side, e.direction, e.duration_ms)


def complete_run() -> list[Position]:
    """The events of a session the wearer does to the end (table 9-2)."""
    out = [at(STEPS[0], K.SESSION_STARTED, 0)]
    for step in STEPS:
        out.append(at(step, K.STEP_STARTED, step.start_ms))
        last_of_exercise = step is STEPS[-1] or STEPS[step.index + 1].exercise != step.exercise
        if last_of_exercise:
            first = next(s for s in STEPS if s.exercise == step.exercise)
            out.append(at(step, K.EXERCISE_COMPLETED, step.end_ms - first.start_ms))
    out.append(at(STEPS[-1], K.SESSION_COMPLETED, TOTAL_MS))
    return out


async def started(start_watch: StartWatch, script: str = "") -> SimWatch:
    """A watch with the foot routine committed and its session started at clock 0."""
    watch = await start_watch(wearer=Wearer.parse(script))
    async with connected(watch) as client:
        await push(client, FOOT_CARE)
        await control(client, StartSession(program_identity(FOOT_CARE)))
    return watch


async def test_a_whole_session_plays_every_cue_and_records_every_event(
    start_watch: StartWatch, clock: ManualClock
) -> None:
    watch = await started(start_watch)
    assert watch.state is SessionState.RUNNING
    await clock.advance(TOTAL_MS - 1)
    assert watch.status == SessionStatusValue(
        SessionState.RUNNING, len(STEPS) - 1, STEPS[-1].duration_ms - 1
    )
    await clock.advance(1)
    assert watch.state is SessionState.IDLE
    assert shape(watch.motor.pulses) == shape(expected_pulses(FOOT_CARE))
    assert [fields(e) for e in watch.events] == complete_run()
    assert [e.seq for e in watch.events] == list(range(len(watch.events)))
    assert {e.boot_id for e in watch.events} == {1}
    # The clock was never set: times are since boot, from the clock (started at 0).
    started_at = watch.events[0]
    assert (started_at.time_s, started_at.time_ms, started_at.clock_set) == (0, 0, False)
    completed = watch.events[-1]
    assert completed.time_s * 1000 + completed.time_ms == TOTAL_MS


async def test_countdown_ticks_follow_rule_6(start_watch: StartWatch, clock: ManualClock) -> None:
    watch = await started(start_watch)
    hold = STEPS[1]  # 3 s hold, countdown 2 ticks: at 1 s and 2 s
    await clock.advance(hold.end_ms)
    ticks = [p for p in watch.motor.pulses if p.cue == "countdown"]
    assert [p.start_ms for p in ticks] == [hold.start_ms + 1000, hold.start_ms + 2000]
    assert {(p.end_ms - p.start_ms, p.strength) for p in ticks} == {(60, 60)}


async def test_session_status_and_live_events_are_notified(
    start_watch: StartWatch, clock: ManualClock
) -> None:
    watch = await start_watch()
    seen = Notifications()
    async with connected(watch) as client:
        await push(client, FOOT_CARE)
        await seen.subscribe(client)
        await control(client, StartSession(program_identity(FOOT_CARE)))
        await seen.until(lambda: len(seen.events) == 2)
        # §12.5: RUNNING at step 0, then SESSION_STARTED and STEP_STARTED in one LIVE batch.
        assert seen.statuses == [SessionStatusValue(SessionState.RUNNING, 0, 0)]
        assert len(seen.batches) == 1 and kinds(seen.events) == [K.SESSION_STARTED, K.STEP_STARTED]
        await clock.advance(TOTAL_MS)
        await seen.until(lambda: len(seen.events) == len(watch.events))
        await seen.until(lambda: seen.statuses[-1].state is SessionState.IDLE)
    assert seen.events == watch.events
    assert [s.step for s in seen.statuses[:-1]] == list(range(len(STEPS)))
    assert all(s.step_elapsed_ms == 0 for s in seen.statuses)


async def test_the_client_pauses_resumes_and_stops(
    start_watch: StartWatch, clock: ManualClock
) -> None:
    watch = await start_watch()
    async with connected(watch) as client:
        await push(client, FOOT_CARE)
        with pytest.raises(BleakGATTProtocolError) as caught:
            await control(client, PauseSession())
        assert caught.value.code == 0x8C
        await control(client, StopSession())  # idle: a no-op success
        await control(client, StartSession(program_identity(FOOT_CARE)))
        await clock.advance(6000)  # 1 s into step 1
        await control(client, PauseSession())
        assert watch.status == SessionStatusValue(SessionState.PAUSED, 1, 1000)
        with pytest.raises(BleakGATTProtocolError) as caught:
            await control(client, PauseSession())
        assert caught.value.code == 0x8C
        await clock.advance(30_000)
        assert watch.status == SessionStatusValue(SessionState.PAUSED, 1, 1000)
        await control(client, ResumeSession())
        await clock.advance(500)
        assert watch.status == SessionStatusValue(SessionState.RUNNING, 1, 1500)
        await control(client, StopSession())
    assert watch.state is SessionState.IDLE
    tail = watch.events[-4:]
    assert [fields(e) for e in tail] == [
        at(STEPS[1], K.STEP_STARTED, 5000),
        at(STEPS[1], K.PAUSED, 0),
        at(STEPS[1], K.RESUMED, 30_000),
        at(STEPS[1], K.SESSION_ABORTED, 6500),
    ]
    assert tail[3].time_s * 1000 + tail[3].time_ms == 36_500


async def test_start_and_commit_are_refused_as_section_7_says(start_watch: StartWatch) -> None:
    watch = await start_watch()
    async with connected(watch) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await control(client, StartSession(program_identity(FOOT_CARE)))
        assert caught.value.code == 0x8A
        await push(client, FOOT_CARE)
        with pytest.raises(BleakGATTProtocolError) as caught:
            await control(client, StartSession(program_identity(DEMO)))
        assert caught.value.code == 0x8B
        await control(client, StartSession(program_identity(FOOT_CARE)))
        with pytest.raises(BleakGATTProtocolError) as caught:
            await control(client, StartSession(program_identity(FOOT_CARE)))
        assert caught.value.code == 0x89
        with pytest.raises(BleakGATTProtocolError) as caught:
            await push(client, DEMO)
        assert caught.value.code == 0x89
        assert (await read_info(client)).program_identity == program_identity(FOOT_CARE)
        await control(client, StopSession())
        # The refused COMMIT discarded its staging.
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.write_gatt_char(
                CONTROL_POINT, bytes(Commit(program_crc(DEMO))), response=True
            )
        assert caught.value.code == 0x84


async def test_wearer_skips_an_exercise_at_its_first_step(
    start_watch: StartWatch, clock: ManualClock
) -> None:
    watch = await started(start_watch, "skip=2")
    await clock.advance(TOTAL_MS)
    ex2 = [s for s in STEPS if s.exercise == 2]
    skipped = sum(s.duration_ms for s in ex2)
    assert watch.state is SessionState.IDLE
    events = watch.events
    k = next(i for i, e in enumerate(events) if e.kind is K.EXERCISE_SKIPPED)
    first_of_3 = next(s for s in STEPS if s.exercise == 3)
    assert [fields(e) for e in events[k - 1 : k + 2]] == [
        at(ex2[0], K.STEP_STARTED, ex2[0].start_ms),
        at(ex2[0], K.EXERCISE_SKIPPED, 0),
        at(first_of_3, K.STEP_STARTED, ex2[0].start_ms),
    ]
    assert [e.exercise for e in events if e.kind is K.EXERCISE_COMPLETED] == [0, 1, 3, 4]
    assert fields(events[-1]) == at(STEPS[-1], K.SESSION_COMPLETED, TOTAL_MS - skipped)
    # The motor played every exercise but 2, whose first cue the next exercise's cut at once.
    played = [s for s in STEPS if s.exercise < 2] + [
        s.model_copy(update={"start_ms": s.start_ms - skipped}) for s in STEPS if s.exercise > 2
    ]
    assert shape(watch.motor.pulses) == shape(expected_pulses(FOOT_CARE, played))


async def test_wearer_skips_an_exercise_after_some_time(
    start_watch: StartWatch, clock: ManualClock
) -> None:
    watch = await started(start_watch, "skip=1:7000")
    await clock.advance(TOTAL_MS)
    ex1 = [s for s in STEPS if s.exercise == 1]
    skip_at = ex1[0].start_ms + 7000
    inside = next(s for s in ex1 if s.start_ms <= skip_at < s.end_ms)
    skipped = next(e for e in watch.events if e.kind is K.EXERCISE_SKIPPED)
    assert fields(skipped) == at(inside, K.EXERCISE_SKIPPED, 7000)
    assert skipped.time_s * 1000 + skipped.time_ms == skip_at


async def test_wearer_skipping_the_last_exercise_completes_the_session(
    start_watch: StartWatch, clock: ManualClock
) -> None:
    watch = await started(start_watch, "skip=4")
    await clock.advance(TOTAL_MS)
    first_of_4 = next(s for s in STEPS if s.exercise == 4)
    assert kinds(watch.events[-3:]) == [K.STEP_STARTED, K.EXERCISE_SKIPPED, K.SESSION_COMPLETED]
    assert fields(watch.events[-1]) == at(STEPS[-1], K.SESSION_COMPLETED, first_of_4.start_ms)
    assert watch.motor.pulses[-1].cue == "session_end"


async def test_wearer_aborts_at_a_step(start_watch: StartWatch, clock: ManualClock) -> None:
    watch = await started(start_watch, "abort=40")
    await clock.advance(TOTAL_MS)
    assert watch.state is SessionState.IDLE
    assert [fields(e) for e in watch.events[-2:]] == [
        at(STEPS[40], K.STEP_STARTED, STEPS[40].start_ms),
        at(STEPS[40], K.SESSION_ABORTED, STEPS[40].start_ms),
    ]
    assert K.SESSION_COMPLETED not in kinds(watch.events)
    assert max(p.start_ms for p in watch.motor.pulses) == STEPS[40].start_ms


async def test_wearer_pauses_and_resumes(start_watch: StartWatch, clock: ManualClock) -> None:
    watch = await started(start_watch, "pause=10:5000")
    await clock.advance(STEPS[10].start_ms + 2500)
    assert watch.status == SessionStatusValue(SessionState.PAUSED, 10, 0)
    await clock.advance(TOTAL_MS + 5000)
    paused = [e for e in watch.events if e.kind in (K.PAUSED, K.RESUMED)]
    assert [fields(e) for e in paused] == [
        at(STEPS[10], K.PAUSED, 0),
        at(STEPS[10], K.RESUMED, 5000),
    ]
    assert paused[1].time_s * 1000 + paused[1].time_ms == STEPS[10].start_ms + 5000
    # Session time excludes the pause: the durations and the motor's timeline are unchanged.
    assert fields(watch.events[-1]) == at(STEPS[-1], K.SESSION_COMPLETED, TOTAL_MS)
    assert shape(watch.motor.pulses) == shape(expected_pulses(FOOT_CARE))
    completed = watch.events[-1]
    assert completed.time_s * 1000 + completed.time_ms == TOTAL_MS + 5000


async def test_wearer_starts_the_session_on_the_watch(
    start_watch: StartWatch, clock: ManualClock
) -> None:
    watch = await start_watch(wearer=Wearer.parse("start=1000"))
    await clock.advance(5000)
    assert watch.state is SessionState.IDLE  # no program yet
    async with connected(watch) as client:
        await push(client, DEMO)
    await clock.advance(0)
    assert watch.state is SessionState.RUNNING
    assert kinds(watch.events) == [K.SESSION_STARTED, K.STEP_STARTED]
    await clock.advance(10 * 60_000)
    # Once: the wearer does not start again after the session.
    assert watch.state is SessionState.IDLE


async def test_buttons_on_the_watch(start_watch: StartWatch, clock: ManualClock) -> None:
    watch = await start_watch()
    async with connected(watch) as client:
        await push(client, FOOT_CARE)
    await watch.press_start()
    await clock.advance(1000)
    await watch.press_skip()
    assert watch.status.step == next(s.index for s in STEPS if s.exercise == 1)
    await watch.press_pause()
    await watch.press_resume()
    await watch.press_stop()
    assert kinds(watch.events)[-5:] == [
        K.EXERCISE_SKIPPED,
        K.STEP_STARTED,
        K.PAUSED,
        K.RESUMED,
        K.SESSION_ABORTED,
    ]
