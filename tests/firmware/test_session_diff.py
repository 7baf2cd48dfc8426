"""Differential testing of the session engine against the simulator's SessionRunner (§5.6, §8).

``firmware/build/asan/session_run`` runs ``session.c`` on a program with pause, resume, skip
and stop at given clock times and prints every cue, event, status change and action result.
The reference is the simulator's ``SessionRunner`` (``wearsync_timer/sim/session.py``) on a
ManualClock with the same actions.
Both must report the same things in the same order, to the millisecond: cue timelines, event
positions and durations, Session Status values, and the ATT codes of refused actions.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.firmware.build import validate_binary
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
from wearsync.watches.wearsync_timer.codec.program import DIRECTION_CODES, SIDE_CODES
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


async def reference(program: WireProgram, actions: list[tuple[int, str]]) -> list[str]:
    clock = ManualClock()
    recorder = Recorder()
    runner = SessionRunner(clock, recorder, recorder, Wearer())  # type: ignore[arg-type]
    runner.start(program)
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


class Harness:
    def __init__(self) -> None:
        binary = validate_binary().parent / "session_run"
        self.process = subprocess.Popen(
            [str(binary)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, program: bytes, actions: list[tuple[int, str]]) -> list[str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        script = [f"program {program.hex()}", *(f"at {at} {name}" for at, name in actions), "run"]
        self.process.stdin.write("\n".join(script) + "\n")
        self.process.stdin.flush()
        lines = []
        while (line := self.process.stdout.readline().strip()) != "end":
            assert line, "the harness died"
            lines.append(line)
        return lines

    def close(self) -> str:
        assert self.process.stdin is not None and self.process.stderr is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        return self.process.stderr.read()


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    running = Harness()
    yield running
    stderr = running.close()
    assert running.process.returncode == 0, stderr
    assert "runtime error" not in stderr and "Sanitizer" not in stderr, stderr


@st.composite
def sessions(draw: st.DrawFn) -> tuple[WireProgram, list[tuple[int, str]]]:
    """A program and up to six actions at times within (and a little past) its session."""
    program = draw(wire_programs())
    total = sum(s.duration_ms for s in expand(program))
    # Actions land on step boundaries and ticks as often as between them.
    starts = sorted({0, *(s.start_ms for s in expand(program))})
    moments = st.one_of(
        st.integers(0, min(total + 5000, 2**40)),
        st.sampled_from(starts),
        st.sampled_from(starts).map(lambda t: t + 1000),
    )
    times = sorted(draw(st.lists(moments, max_size=6)))
    return program, [(at, draw(st.sampled_from(ACTIONS))) for at in times]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=sessions())
def test_the_session_engine_reports_what_the_simulator_reports(
    harness: Harness, case: tuple[WireProgram, list[tuple[int, str]]]
) -> None:
    program, actions = case
    expected = asyncio.run(reference(program, actions))
    assert harness.run(bytes(program), actions) == expected


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
