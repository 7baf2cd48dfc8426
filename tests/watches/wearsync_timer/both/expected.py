"""What a session must give on any timer watch, worked out from the program alone.

The cue timeline (§5.6 rules 6-7) and the events (table 9-2) of a session run to the end, of
the whole program or of one entry (§5.8 "Running an entry": its exercise's steps only, with
their whole-program positions, session time from 0 at its first step). A watch equals another
by equalling these.
"""

from __future__ import annotations

from typing import Any

from wearsync.routine.compiler import Step
from wearsync.routine.model import Direction, Side
from wearsync.sim.motor import Vibration
from wearsync.watches.wearsync_timer.codec import (
    EventKind,
    EventRecord,
    WireProgram,
    decode_program,
    expand,
)
from wearsync.watches.wearsync_timer.codec.expand import entry_steps
from wearsync.watches.wearsync_timer.sim.cli import event_line, vibration_line

Cue = tuple[str, tuple[int, ...], int, int | None, int]
Event = tuple[str, int, int, int, int, int]


def run_of(wire: bytes, entry: int) -> tuple[WireProgram, list[Step], int]:
    """The program, the steps entry ``entry`` runs, and the program time its session starts."""
    program = decode_program(wire)
    steps = expand(program)
    run = [steps[i] for i in entry_steps(program, entry)]
    return program, run, run[0].start_ms


def expected_cues(wire: bytes, entry: int = 0) -> list[Cue]:
    """What the motor plays for a session run to the end (§5.6 rules 6-7): each step's cue at
    its start, the countdown ticks once a second in its last ``countdown_ms``, the end cue."""
    program, run, origin = run_of(wire, entry)
    cues = {c.name: c for c in program.cues}
    out: list[Cue] = []
    for step in run:
        cue = cues[step.cue]
        out.append((cue.name, tuple(cue.pattern), cue.strength, step.index, step.start_ms - origin))
        if step.countdown_cue is not None:
            tick = cues[step.countdown_cue]
            for k in range(step.countdown_ms // 1000, 0, -1):
                at = step.end_ms - 1000 * k - origin
                out.append((tick.name, tuple(tick.pattern), tick.strength, step.index, at))
    if program.end_cue is not None:
        end = program.cues[program.end_cue]
        out.append((end.name, tuple(end.pattern), end.strength, None, run[-1].end_ms - origin))
    return out


def expected_events(wire: bytes, entry: int = 0) -> list[Event]:
    """The events of a session run to the end (table 9-2)."""
    _program, run, origin = run_of(wire, entry)
    first, last = run[0], run[-1]
    out: list[Event] = [("session_started", first.index, first.exercise, first.set, first.rep, 0)]
    for n, step in enumerate(run):
        position = (step.index, step.exercise, step.set, step.rep)
        out.append(("step_started", *position, step.start_ms - origin))
        if step is last or run[n + 1].exercise != step.exercise:
            begun = next(s for s in run if s.exercise == step.exercise).start_ms
            out.append(("exercise_completed", *position, step.end_ms - begun))
    out.append(
        ("session_completed", last.index, last.exercise, last.set, last.rep, last.end_ms - origin)
    )
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
