"""From a compiled :class:`~wearsync.routine.TimerProgram` to program bytes and back (§5).

The compiler's output is flat; the wire is structural. :func:`wire_program` recovers each
exercise's loop structure from its steps, then proves the recovery right by unrolling it with
the reference interpreter and comparing step by step. A program no exercise record can
reproduce raises :class:`EncodeError` rather than sending the watch something different.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from itertools import groupby
from typing import Final, TypeVar

from wearsync.protocol.errors import EncodeError
from wearsync.protocol.wire import U16_MAX, utf8_prefix
from wearsync.routine.compiler import Step, StepKind, TimerProgram
from wearsync.routine.cues import DEFAULT_CUES
from wearsync.routine.model import Direction, Routine, Side
from wearsync.routine.occurrences import daily_slots, interval_days, minute_of
from wearsync.watches.wearsync_timer.codec.expand import (
    LocalStep,
    countdown_ms,
    exercise_steps,
    expand,
)
from wearsync.watches.wearsync_timer.codec.plan import WireEntry, WirePlan, WireSlot
from wearsync.watches.wearsync_timer.codec.program import (
    MAX_NAME_BYTES,
    REMINDER_CUE,
    CueSlot,
    Timed,
    WireCue,
    WireExercise,
    WireProgram,
)

T = TypeVar("T")

_EFFORT_KINDS: Final = (StepKind.HOLD, StepKind.WORK)
_LEAD_KINDS: Final = (StepKind.PREPARE, StepKind.TRANSITION)
#: After-step rules to try, simplest first, so the canonical choice is deterministic.
_AFTER_RULES: Final = ((False, False), (False, True), (True, False), (True, True))


def encode_program(program: TimerProgram, plan: WirePlan | None = None) -> bytes:
    """Encode a compiled program as the bytes the watch stages (§5).

    With a ``plan`` (:func:`wire_plan`) the program is format 2 (§5.8), for watches with
    feature ENTRIES; without, format 1.

    Titles and exercise names longer than 32 UTF-8 bytes are cut at a character boundary
    (§5.1.3); everything a step carries travels exactly.

    Raises:
        EncodeError: the program cannot be represented: more than 255 exercises or cues, a
            step sequence no exercise record reproduces, or more than 65535 bytes.
    """
    data = bytes(wire_program(program, plan))
    if len(data) > U16_MAX:
        raise EncodeError(f"the program encodes to {len(data)} bytes, over {U16_MAX}")
    return data


def decode_program(data: bytes) -> WireProgram:
    """Decode program bytes (§5); the inverse of :func:`encode_program`.

    Raises:
        DecodeError: ``data`` is not a valid program (``UnsupportedVersionError`` for an
            unknown format byte).
    """
    return WireProgram.from_bytes(data)


def wire_program(program: TimerProgram, plan: WirePlan | None = None) -> WireProgram:
    """The structural form of ``program``, verified to unroll into exactly its steps.

    A ``plan`` adds the plan section and the ``reminder`` cue (in name order, as the others).

    Raises:
        EncodeError: as :func:`encode_program`.
    """
    table = dict(program.cues)
    if plan is not None:
        table.setdefault(REMINDER_CUE, DEFAULT_CUES[REMINDER_CUE])
        table = dict(sorted(table.items()))
    cue_names = list(table)
    cues = tuple(WireCue(name, tuple(cue.pattern), cue.strength) for name, cue in table.items())
    groups = [list(g) for _, g in groupby(program.steps, key=lambda s: s.exercise)]
    if [g[0].exercise for g in groups] != list(range(len(program.exercises))):
        raise EncodeError("steps must run exercise by exercise, in order, each exercise once")
    exercises = tuple(
        _exercise(ex.name, steps, cue_names)
        for ex, steps in zip(program.exercises, groups, strict=True)
    )
    end_cue = cue_names.index(program.end_cue) if program.end_cue in cue_names else None
    wire = WireProgram(_cut(program.title), cues, exercises, end_cue, plan)
    got = expand(wire)
    if got != program.steps:
        first = next(
            (i for i, (a, b) in enumerate(zip(got, program.steps, strict=False)) if a != b),
            min(len(got), len(program.steps)),
        )
        raise EncodeError(f"the program's step {first} follows no loop the wire format can express")
    return wire


def wire_plan(routine: Routine, program: TimerProgram, first_day: date) -> WirePlan:
    """The plan section for ``routine`` compiled as ``program``, from ``first_day`` (§5.8).

    The same schedule as :mod:`wearsync.routine.occurrences`: the routine every
    ``every_days.min`` days at its times; each exercise done several times a day is an entry
    with the first N daily times, the one nearest each routine time marked not on routine days.

    Raises:
        EncodeError: the schedule does not fit the plan section (too many times or entries).
    """
    schedule = routine.schedule
    index = {ex.id: number for number, ex in enumerate(program.exercises)}
    entries = []
    for ex in routine.exercises:
        if ex.times_per_day <= 1 or ex.id not in index:
            continue
        slots = sorted(
            {
                minute_of(at): WireSlot(minute_of(at), not_on_routine_days=off)
                for at, off in daily_slots(routine, ex.times_per_day)
            }.values(),
            key=lambda s: s.minute,
        )
        entries.append(WireEntry(index[ex.id], tuple(slots)))
    times = tuple(sorted({minute_of(t) for t in schedule.times}))
    return WirePlan(interval_days(schedule), first_day, times, tuple(entries))


def _cut(text: str) -> str:
    return utf8_prefix(text, MAX_NAME_BYTES).decode("utf-8")


def _exercise(name: str, steps: list[Step], cue_names: list[str]) -> WireExercise:
    """Recover one exercise record from its steps (the inverse of §5.6 rules 1-6)."""
    lead = None
    body = steps
    if steps[0].kind in _LEAD_KINDS:
        lead = Timed(steps[0].kind, steps[0].duration_ms)
        body = steps[1:]
    efforts = [s for s in body if s.kind in _EFFORT_KINDS]
    if not efforts:
        raise EncodeError(f"exercise {steps[0].exercise} has no hold or work step")
    afters = [s for s in body if s.kind is StepKind.RELEASE or (s.kind is StepKind.REST and s.rep)]
    set_rests = [s for s in body if s.kind is StepKind.REST and not s.rep]
    switches = [s for s in body if s.kind is StepKind.SWITCH_SIDE]
    base = WireExercise(
        name=_cut(name),
        effort=Timed(efforts[0].kind, efforts[0].duration_ms),
        sides=_distinct(s.side for s in efforts),
        directions=_distinct(s.direction for s in efforts),
        sets=max(s.set for s in efforts),
        reps=max(s.rep for s in efforts),
        lead=lead,
        after=Timed(afters[0].kind, afters[0].duration_ms) if afters else None,
        set_rest_ms=set_rests[0].duration_ms if set_rests else 0,
        switch_ms=switches[0].duration_ms if switches else 0,
        # The largest tick count seen is the cap: shorter steps are limited by their length.
        countdown_s=max(s.countdown_ms // 1000 for s in steps),
        cue_overrides=(),
    )
    rules = _AFTER_RULES if base.after is not None else _AFTER_RULES[:1]
    wanted = [_shape(s) for s in steps]
    for each_direction, skip_last in rules:
        candidate = _replace_rules(base, each_direction, skip_last)
        if [_local_shape(s, candidate) for s in exercise_steps(candidate)] == wanted:
            return _with_overrides(candidate, steps, cue_names)
    # No rule reproduces the steps: return the simplest and let the final check report where.
    return _with_overrides(base, steps, cue_names)


def _distinct(items: Iterable[T]) -> tuple[T, ...]:
    out: list[T] = []
    for item in items:
        if item not in out:
            out.append(item)
    return tuple(out)


def _replace_rules(ex: WireExercise, each_direction: bool, skip_last: bool) -> WireExercise:
    return replace(ex, after_each_direction=each_direction, after_skip_last=skip_last)


_Shape = tuple[int, int, Side, Direction, StepKind, int, int]


def _shape(step: Step) -> _Shape:
    return (
        step.set,
        step.rep,
        step.side,
        step.direction,
        step.kind,
        step.duration_ms,
        step.countdown_ms,
    )


def _local_shape(step: LocalStep, ex: WireExercise) -> _Shape:
    countdown = countdown_ms(step.kind, step.duration_ms, ex.countdown_s)
    return (step.set, step.rep, step.side, step.direction, step.kind, step.duration_ms, countdown)


def _with_overrides(ex: WireExercise, steps: list[Step], cue_names: list[str]) -> WireExercise:
    """Add an override for every slot whose cue is not the cue named after the slot."""
    chosen: dict[CueSlot, str] = {}
    for local, step in zip(exercise_steps(ex), steps, strict=False):
        chosen.setdefault(local.slot, step.cue)
        if step.countdown_cue is not None:
            chosen.setdefault(CueSlot.COUNTDOWN, step.countdown_cue)
    overrides = []
    for slot in sorted(chosen):
        name = chosen[slot]
        if name not in cue_names:
            raise EncodeError(f"cue {name!r} is not in the program's cue table")
        if name != slot.cue_name:
            overrides.append((slot, cue_names.index(name)))
    return replace(ex, cue_overrides=tuple(overrides))
