"""Differential testing of the session engine against the simulator's SessionRunner (§5.6, §8).

``firmware/build/asan/session_run`` runs ``session.c`` on a program with pause, resume, skip
and stop at given clock times and prints every cue, event, status change and action result.
The reference is the simulator's ``SessionRunner`` (``wearsync_timer/sim/session.py``) on a
ManualClock with the same actions. Programs of both formats; a format-2 program runs one of its
entries (§5.8 "Running an entry": the exercise's steps only, with whole-program indices, skip
completing the session) or, now and then, an entry it lacks (UNKNOWN_ENTRY, §7.7).
Both must report the same things in the same order, to the millisecond: cue timelines, event
positions and durations, Session Status values, and the ATT codes of refused actions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.firmware.tools import ToolProcess, run_checked
from tests.watches.wearsync_timer.codec.strategies import wire_programs
from wearsync.routine.compiler import Step
from wearsync.sim.clock import ManualClock
from wearsync.sim.wearer import Wearer
from wearsync.watches.wearsync_timer.codec import (
    AttError,
    EventKind,
    SessionState,
    SessionStatusValue,
    WireCue,
    WireProgram,
    expand,
)
from wearsync.watches.wearsync_timer.codec.expand import entry_steps
from wearsync.watches.wearsync_timer.codec.plan import WireEntry, WirePlan, WireSlot
from wearsync.watches.wearsync_timer.codec.program import (
    DIRECTION_CODES,
    REMINDER_CUE,
    SIDE_CODES,
)
from wearsync.watches.wearsync_timer.sim.flash import SessionMarker
from wearsync.watches.wearsync_timer.sim.session import SessionRunner

ACTIONS = ("pause", "resume", "skip", "stop")


pytestmark = pytest.mark.slow


class Recorder:
    """SessionHost and motor at once: one line per thing reported, as the harness prints."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def on_session_event(self, kind: EventKind, step: Step, duration_ms: int, at_ms: int) -> None:
        side, direction = SIDE_CODES[step.side], DIRECTION_CODES[step.direction]
        # duration_ms is a u32 on the wire (§9.1); a session past 2**32 ms (49.7 days, which
        # §5.5 allows) saturates on the firmware. The simulator's EventRecord refuses it.
        duration_ms = min(duration_ms, 0xFFFF_FFFF)
        self.lines.append(
            f"event {int(kind)} {step.index} {step.exercise} {step.set} {step.rep} {side}"
            f" {direction} {duration_ms} {at_ms}"
        )

    def on_session_status(self, status: SessionStatusValue) -> None:
        self.lines.append(f"status {int(status.state)} {status.step} {status.step_elapsed_ms}")

    def on_session_marker(self, marker: SessionMarker | None) -> None:
        pass

    def watch_time(self, at_ms: int) -> tuple[int, datetime | None]:
        return at_ms, None

    def begin_session(self) -> None:
        pass

    def play(
        self, cue: WireCue, *, session_ms: int, step: int | None, at_ms: int, utc: object
    ) -> None:
        self.lines.append(f"cue {cue.name} {'-' if step is None else step} {session_ms}")


async def reference(
    program: WireProgram, actions: list[tuple[int, str]], entry: int = 0
) -> list[str]:
    clock = ManualClock()
    recorder = Recorder()
    runner = SessionRunner(clock, recorder, recorder, Wearer())  # type: ignore[arg-type]
    try:
        runner.start(program, entry)
    except AttError as exc:
        return [f"result start {int(exc.code)}"]
    for at, name in actions:
        await clock.advance_to(at)
        try:
            getattr(runner, name)()
            code = 0
        except AttError as exc:
            code = int(exc.code)
        recorder.lines.append(f"result {name} {code}")
    while runner.state is SessionState.RUNNING:
        due = clock.next_due_ms()
        assert due is not None
        await clock.advance_to(due)
    return recorder.lines


class Harness(ToolProcess):
    """One running ``session_run``."""

    def __init__(self) -> None:
        super().__init__("session_run")

    def run(self, program: bytes, actions: list[tuple[int, str]], entry: int = 0) -> list[str]:
        script = [
            f"program {program.hex()}",
            f"entry {entry}",
            *(f"at {at} {name}" for at, name in actions),
            "run",
        ]
        self.send("\n".join(script) + "\n")
        lines = []
        while (line := self.read_line()) != "end":
            assert line, "the harness died"
            lines.append(line)
        return lines


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    yield from run_checked(Harness())


Session = tuple[WireProgram, int, list[tuple[int, str]]]


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    """A program, the entry to run, and up to six actions at times within (and a little past)
    the session."""
    program = draw(wire_programs())
    entries = 0 if program.plan is None else len(program.plan.entries)
    entry = draw(st.integers(0, entries) | st.just(entries + 1))
    try:
        runs = entry_steps(program, entry)
    except ValueError:
        runs = range(0)
    steps = [s for s in expand(program) if s.index in runs]
    origin = steps[0].start_ms if steps else 0
    total = sum(s.duration_ms for s in steps)
    # Actions land on step boundaries and ticks as often as between them.
    starts = sorted({0, *(s.start_ms - origin for s in steps)})
    moments = st.one_of(
        st.integers(0, min(total + 5000, 2**40)),
        st.sampled_from(starts),
        st.sampled_from(starts).map(lambda t: t + 1000),
    )
    times = sorted(draw(st.lists(moments, max_size=6)))
    return program, entry, [(at, draw(st.sampled_from(ACTIONS))) for at in times]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=sessions())
def test_the_session_engine_reports_what_the_simulator_reports(
    harness: Harness, case: Session
) -> None:
    program, entry, actions = case
    expected = asyncio.run(reference(program, actions, entry))
    assert harness.run(bytes(program), actions, entry) == expected


def test_an_entry_runs_its_exercise_only_and_skip_completes_it(harness: Harness) -> None:
    """§5.8: entry 1 of a two-exercise program runs exercise 1's steps with their
    whole-program indices; skipping it completes the session (EXERCISE_SKIPPED, then
    SESSION_COMPLETED at the entry's last step)."""
    from tests.watches.wearsync_timer.codec.test_golden import PROGRAM
    from wearsync.watches.wearsync_timer.codec import decode_program

    golden = decode_program(PROGRAM)
    plan = WirePlan(1, date(2026, 3, 2), (1080,), (WireEntry(1, (WireSlot(480),)),))
    cues = (*golden.cues, WireCue(REMINDER_CUE, (500,)))
    program = replace(golden, cues=cues, exercises=golden.exercises * 2, plan=plan)
    first = entry_steps(program, 1).start
    assert first == len(expand(golden)) > 0
    actions = [(2500, "skip")]
    lines = harness.run(bytes(program), actions, entry=1)
    assert lines == asyncio.run(reference(program, actions, entry=1))
    events = [line.split() for line in lines if line.startswith("event")]
    assert [(int(e[1]), int(e[2]), int(e[3])) for e in events] == [
        (0x01, first, 1),  # SESSION_STARTED at the entry's first step, exercise 1
        (0x02, first, 1),
        (0x04, first, 1),  # EXERCISE_SKIPPED
        (0x05, entry_steps(program, 1).stop - 1, 1),  # SESSION_COMPLETED at its last step
    ]
    assert lines[0] == f"status 1 {first} 0"


def test_skipping_every_exercise_completes_the_session(harness: Harness) -> None:
    from tests.watches.wearsync_timer.codec.test_golden import PROGRAM
    from wearsync.watches.wearsync_timer.codec import decode_program

    wire = decode_program(PROGRAM)
    actions = [(2500, "skip"), (2600, "skip"), (2700, "stop")]
    lines = harness.run(PROGRAM, actions)
    assert lines == asyncio.run(reference(wire, actions))
    kinds = [int(line.split()[1]) for line in lines if line.startswith("event")]
    # started, step 0, skipped at 2.5 s, completed: the golden program has one exercise.
    assert kinds == [0x01, 0x02, 0x04, 0x05]
    assert "result skip 140" in lines and "result stop 0" in lines  # 0x8C once idle
