"""The reference interpreter: a :class:`WireProgram` unrolled into timed steps (§5.6).

This is what a watch implements (it may compute step ``k`` on demand instead of building the
list). The result is a tuple of :class:`~wearsync.routine.Step`, so it compares directly with
the compiler's :attr:`TimerProgram.steps <wearsync.routine.TimerProgram.steps>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from wearsync.routine.compiler import Step, StepKind
from wearsync.routine.model import Direction, Side
from wearsync.watches.wearsync_timer.codec.program import CueSlot, WireExercise, WireProgram

#: Step kinds that count down before their end (§5.6 rule 6).
COUNTED_KINDS: Final = frozenset({StepKind.HOLD, StepKind.WORK, StepKind.REST})


@dataclass(frozen=True)
class LocalStep:
    """A step of one exercise before it gets its program-wide index and start time."""

    set: int
    rep: int
    side: Side
    direction: Direction
    kind: StepKind
    duration_ms: int
    slot: CueSlot


def exercise_steps(ex: WireExercise) -> Iterator[LocalStep]:
    """Unroll one exercise record in the order of §5.6 rules 1-5."""
    first_dir = ex.directions[0]
    last_dir_no = len(ex.directions) - 1
    if ex.lead is not None:
        yield LocalStep(1, 0, ex.sides[0], first_dir, ex.lead.kind, ex.lead.ms, ex.lead_slot)
    for side_no, side in enumerate(ex.sides):
        if side_no > 0 and ex.switch_ms:
            yield LocalStep(
                1, 0, side, first_dir, StepKind.SWITCH_SIDE, ex.switch_ms, CueSlot.SWITCH_SIDE
            )
        for set_no in range(1, ex.sets + 1):
            if set_no > 1:
                yield LocalStep(
                    set_no, 0, side, first_dir, StepKind.REST, ex.set_rest_ms, CueSlot.SET_REST
                )
            for rep in range(1, ex.reps + 1):
                for dir_no, direction in enumerate(ex.directions):
                    slot = ex.effort_slot if dir_no == 0 else CueSlot.DIRECTION_CHANGE
                    yield LocalStep(
                        set_no, rep, side, direction, ex.effort.kind, ex.effort.ms, slot
                    )
                    if ex.after is None:
                        continue
                    if not ex.after_each_direction and dir_no != last_dir_no:
                        continue
                    ends_set = rep == ex.reps and dir_no == last_dir_no
                    if ex.after_skip_last and ends_set:
                        continue
                    yield LocalStep(
                        set_no, rep, side, direction, ex.after.kind, ex.after.ms, ex.after_slot
                    )


def countdown_ms(kind: StepKind, duration_ms: int, countdown_s: int) -> int:
    """Length of a step's countdown (§5.6 rule 6): whole ticks, leaving the first second silent."""
    if kind not in COUNTED_KINDS:
        return 0
    ticks = min(countdown_s, duration_ms // 1000 - 1)
    return ticks * 1000 if ticks > 0 else 0


def expand(program: WireProgram) -> tuple[Step, ...]:
    """Unroll ``program`` into its steps, numbered and timed from the start of the session."""
    steps: list[Step] = []
    clock = 0
    for number, ex in enumerate(program.exercises):
        for local in exercise_steps(ex):
            countdown = countdown_ms(local.kind, local.duration_ms, ex.countdown_s)
            steps.append(
                Step(
                    index=len(steps),
                    exercise=number,
                    set=local.set,
                    rep=local.rep,
                    side=local.side,
                    direction=local.direction,
                    kind=local.kind,
                    start_ms=clock,
                    duration_ms=local.duration_ms,
                    cue=_cue_name(program, number, local.slot),
                    countdown_cue=(
                        _cue_name(program, number, CueSlot.COUNTDOWN) if countdown else None
                    ),
                    countdown_ms=countdown,
                )
            )
            clock += local.duration_ms
    return tuple(steps)


def _cue_name(program: WireProgram, exercise: int, slot: CueSlot) -> str:
    index = program.cue_index(exercise, slot)
    # WireProgram's own checks guarantee every slot its steps use resolves.
    assert index is not None
    return program.cues[index].name


def entry_steps(program: WireProgram, entry: int) -> range:
    """The step indices entry ``entry`` runs (§5.8 "Running an entry"), without unrolling.

    Entry 0 is the whole program; entry *n* runs its exercise's steps only, numbered as in the
    whole program's expansion, so Session Status and events name the same steps.

    Raises:
        ValueError: the program has no entry ``entry`` (a watch answers UNKNOWN_ENTRY).
    """
    total = program.step_count
    if entry == 0:
        return range(total)
    plan = program.plan
    if plan is None or not 1 <= entry <= len(plan.entries):
        raise ValueError(f"no entry {entry}")
    exercise = plan.entries[entry - 1].exercise
    first = sum(ex.step_count for ex in program.exercises[:exercise])
    return range(first, first + program.exercises[exercise].step_count)
