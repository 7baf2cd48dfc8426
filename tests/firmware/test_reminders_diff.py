"""Differential testing of the firmware's reminder clock against the simulator's (§5.8, §5.9).

``firmware/build/asan/reminders_run`` (``plan.c`` and ``reminders.c`` under ASan and UBSan)
answers, for a format-2 program's plan, the first planned time strictly after a local wall
time with the entries planned then, and whether a session started at a given local time
cancels an occurrence. The reference is ``wearsync_timer/sim/reminders.py`` (``next_after``,
``window_start``), which the simulated watch reminds with. Random plans (every 1..255 days,
slots kept off routine days) and local times around their first day, on minute boundaries as
often as between them; started times on the window's edges as often as inside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.firmware.tools import ToolProcess, run_checked
from tests.watches.wearsync_timer.codec.strategies import wire_plans, wire_programs
from wearsync.watches.wearsync_timer.codec import WireCue, WireProgram
from wearsync.watches.wearsync_timer.codec.plan import WirePlan
from wearsync.watches.wearsync_timer.codec.program import REMINDER_CUE
from wearsync.watches.wearsync_timer.sim.reminders import PlannedTime, next_after, window_start

EPOCH = datetime(1970, 1, 1)
MS = timedelta(milliseconds=1)


def to_ms(local: datetime) -> int:
    return (local - EPOCH) // MS


def of_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


@pytest.fixture(scope="module")
def harness() -> Iterator[ToolProcess]:
    yield from run_checked(ToolProcess("reminders_run"))


@st.composite
def planned_programs(draw: st.DrawFn) -> WireProgram:
    """A format-2 program: a generated one, given a plan if it had none."""
    wire = draw(wire_programs())
    if wire.plan is not None:
        return wire
    plan = draw(wire_plans(len(wire.exercises)))
    return WireProgram(
        wire.title,
        (*wire.cues, WireCue(REMINDER_CUE, (100,))),
        wire.exercises,
        wire.end_cue,
        plan,
    )


@st.composite
def local_times(draw: st.DrawFn, plan: WirePlan) -> datetime:
    """A local wall time from three days before the plan's first day to two periods after."""
    day = plan.first_day + timedelta(days=draw(st.integers(-3, 2 * plan.every_days + 3)))
    minute = draw(st.integers(0, 1439))
    within = draw(st.sampled_from([0, 0, 1, 59_999]) | st.integers(0, 59_999))
    return datetime.combine(day, datetime.min.time()) + timedelta(
        minutes=minute, milliseconds=within
    )


def reference_next(plan: WirePlan, local: datetime) -> str:
    due = next_after(plan, local)
    if not due:
        return "next none"
    return f"next {to_ms(due[0].local)} {','.join(str(p.entry) for p in due)}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_next_planned_time_and_cancellation_match_the_simulator(
    harness: ToolProcess, data: st.DataObject
) -> None:
    program = data.draw(planned_programs())
    plan = program.plan
    assert plan is not None
    assert harness.ask(f"program {bytes(program).hex()}") == "ok"
    for _ in range(5):
        local = data.draw(local_times(plan))
        answer = harness.ask(f"next {to_ms(local)}")
        assert answer == reference_next(plan, local), local
        due = next_after(plan, local)
        for planned in due:
            window = window_start(plan, planned)
            before = data.draw(st.integers(1, 2 * 86_400_000))
            started = data.draw(
                st.sampled_from(
                    [window, window - MS, planned.local - MS, planned.local - before * MS]
                )
            )
            expected = int(started >= window)  # the simulator's rule; started <= planned
            line = f"cancelled {planned.entry} {to_ms(planned.local)} {to_ms(started)}"
            assert harness.ask(line) == f"cancelled {expected}", (planned, started, window)


def test_the_golden_plan_reminds_entry_1_then_the_routine_and_a_session_counts_once() -> None:
    """§13.7 by hand: every 2 days from Monday 2026-03-02 at 18:00; entry 1 at 08:00, 13:00
    and 18:00 (not on routine days). After Monday 08:00 comes 13:00 (entry 1), then 18:00 (the
    routine only), then Tuesday 08:00; after Tuesday 18:00, Wednesday 08:00."""
    from tests.firmware.test_program_diff import GOLDEN_PLAN
    from wearsync.watches.wearsync_timer.codec import decode_program

    plan = decode_program(GOLDEN_PLAN).plan
    assert plan is not None
    running = ToolProcess("reminders_run")
    try:
        assert running.ask(f"program {GOLDEN_PLAN.hex()}") == "ok"
        monday = datetime(2026, 3, 2)
        answers = [
            running.ask(f"next {to_ms(monday + timedelta(hours=h))}") for h in (8, 13, 18, 42)
        ]
        assert answers == [
            f"next {to_ms(monday + timedelta(hours=13))} 1",
            f"next {to_ms(monday + timedelta(hours=18))} 0",  # entry 1's 18:00 is not today's
            f"next {to_ms(monday + timedelta(hours=32))} 1",  # Tuesday 08:00
            f"next {to_ms(monday + timedelta(hours=56))} 1",  # Wednesday (routine day) 08:00
        ]
        assert answers[3] == reference_next(plan, monday + timedelta(hours=42))
        # A session of entry 1 at 09:00 cancels 13:00 (since 08:00), not 08:00 the next day.
        one_pm = PlannedTime(monday + timedelta(hours=13), 1)
        assert window_start(plan, one_pm) == monday + timedelta(hours=8)
        nine = to_ms(monday + timedelta(hours=9))
        assert running.ask(f"cancelled 1 {to_ms(one_pm.local)} {nine}") == "cancelled 1"
        tomorrow = to_ms(monday + timedelta(hours=32))
        assert running.ask(f"cancelled 1 {tomorrow} {nine}") == "cancelled 0"
    finally:
        assert "runtime error" not in running.close()
