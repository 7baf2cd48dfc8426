"""The timer compiler: a :class:`Routine` becomes a flat, deterministic :class:`TimerProgram`.

The program is what a watch runs: a list of timed steps, each naming the cue to play when it
starts and, for holds, work and rests, a countdown of ticks before it ends. It holds no
wall-clock times, only durations, so the same routine and options always give the same program
and the same :attr:`TimerProgram.content_hash`.

Documented choices (all overridable through :class:`CompileOptions`):

- one count lasts the routine's ``count_seconds`` (default 1 s);
- a rest given as a range uses the range's ``use`` value, else its maximum (more recovery is the
  safer default for rehabilitation exercises);
- a hold with no release gets a 2 s release, so the end of every hold is cued;
- sets are separated by ``rest_between_sets``, else 30 s;
- holds, work and rests of 2 s or more count down with one tick a second over their last
  ``countdown_seconds`` (default 3) seconds, leaving at least one silent second after the start.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import Field, computed_field

from wearsync.errors import RoutineError
from wearsync.routine.base import Frozen
from wearsync.routine.cues import DEFAULT_COUNTDOWN_SECONDS, Cue
from wearsync.routine.limits import (
    MAX_CUES,
    MAX_DURATION_MS,
    MAX_DURATION_SECONDS,
    MAX_EXERCISES,
    MAX_STEPS,
)
from wearsync.routine.model import Direction, Exercise, RangePick, Routine, Side, Span

DEFAULT_RELEASE_SECONDS = 2.0
DEFAULT_SET_REST_SECONDS = 30.0


class StepKind(StrEnum):
    """What the wearer does during a step."""

    PREPARE = "prepare"
    HOLD = "hold"
    RELEASE = "release"
    WORK = "work"
    REST = "rest"
    SWITCH_SIDE = "switch_side"
    TRANSITION = "transition"


class Step(Frozen):
    """One timed step of a program.

    ``set`` and ``rep`` are 1-based; ``rep`` is 0 on steps outside a repetition (prepare,
    transition, switch side, rest between sets). ``cue`` plays when the step starts;
    ``countdown_cue`` ticks once a second during the last ``countdown_ms`` of the step.
    """

    index: Annotated[int, Field(ge=0)]
    exercise: Annotated[int, Field(ge=0)]
    set: Annotated[int, Field(ge=1)]
    rep: Annotated[int, Field(ge=0)]
    side: Side
    direction: Direction
    kind: StepKind
    start_ms: Annotated[int, Field(ge=0)]
    duration_ms: Annotated[int, Field(gt=0)]
    cue: str
    countdown_cue: str | None = None
    countdown_ms: Annotated[int, Field(ge=0)] = 0

    @property
    def end_ms(self) -> int:
        """When the step ends, from the start of the program."""
        return self.start_ms + self.duration_ms


class ProgramExercise(Frozen):
    """An exercise as the program sees it: its name and where its steps are."""

    id: str
    name: str
    first_step: Annotated[int, Field(ge=0)]
    step_count: Annotated[int, Field(ge=1)]
    active_ms: Annotated[int, Field(ge=0)]
    """Time spent in the exercise itself, without the transition or preparation before it."""


class TimerProgram(Frozen):
    """A compiled routine: exercises, the cues they use, and the flat list of steps."""

    routine: str
    title: str
    exercises: tuple[ProgramExercise, ...]
    cues: dict[str, Cue]
    steps: tuple[Step, ...]
    end_cue: str = "session_end"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_ms(self) -> int:
        """Duration of the whole program (the end of its last step)."""
        return self.steps[-1].end_ms if self.steps else 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content_hash(self) -> str:
        """SHA-256 (hex) of the program's canonical JSON: the same program, the same hash."""
        body = self.model_dump(mode="json", exclude={"total_ms", "content_hash"})
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def steps_of(self, exercise: int) -> tuple[Step, ...]:
        """The steps that belong to exercise number ``exercise`` (0-based)."""
        ex = self.exercises[exercise]
        return self.steps[ex.first_step : ex.first_step + ex.step_count]


class CompileOptions(Frozen):
    """Choices the compiler makes where the routine leaves them open."""

    count_seconds: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)] | None = None
    """Overrides the routine's ``count_seconds``."""
    rest_pick: RangePick = RangePick.MAX
    release_seconds: Annotated[float, Field(gt=0, le=MAX_DURATION_SECONDS, allow_inf_nan=False)] = (
        DEFAULT_RELEASE_SECONDS
    )
    set_rest_seconds: Annotated[
        float, Field(gt=0, le=MAX_DURATION_SECONDS, allow_inf_nan=False)
    ] = DEFAULT_SET_REST_SECONDS
    countdown_seconds: Annotated[int, Field(ge=0, le=10)] = DEFAULT_COUNTDOWN_SECONDS
    exercises: tuple[str, ...] | None = None
    """Compile only these exercise ids, in routine order (e.g. a daily repeat of one exercise)."""


@dataclass
class _Raw:
    exercise: int
    set: int
    rep: int
    side: Side
    direction: Direction
    kind: StepKind
    duration_ms: int
    slot: str


_COUNTED_KINDS = frozenset({StepKind.HOLD, StepKind.WORK, StepKind.REST})


def compile_routine(routine: Routine, options: CompileOptions | None = None) -> TimerProgram:
    """Compile ``routine`` into a :class:`TimerProgram`.

    The program is checked against every limit of the watch's program format
    (:mod:`wearsync.routine.limits`): the model checks them for the routine's own values, and
    options (a longer count, another rest pick) can still push a step over.

    Raises:
        KeyError: ``options.exercises`` names an exercise the routine does not have.
        RoutineError: the program breaks a limit of the program format.
    """
    opts = options or CompileOptions()
    count_s = opts.count_seconds or routine.count_seconds
    chosen = (
        routine.exercises
        if opts.exercises is None
        else tuple(ex for ex in routine.exercises if ex.id in _checked(routine, opts.exercises))
    )
    raw: list[_Raw] = []
    bounds: list[tuple[int, int]] = []
    for number, ex in enumerate(chosen):
        lead = StepKind.PREPARE if number == 0 else StepKind.TRANSITION
        lead_s = routine.prepare_seconds if number == 0 else routine.transition_seconds
        if lead_s > 0:
            raw.append(_Raw(number, 1, 0, ex.sides[0], ex.directions[0], lead, _ms(lead_s), lead))
        first = len(raw)
        raw.extend(_exercise_steps(number, ex, routine, opts, count_s))
        bounds.append((first, len(raw)))
    program = _assemble(routine, chosen, raw, bounds, opts)
    _check_limits(program)
    return program


def _check_limits(program: TimerProgram) -> None:
    def over(problem: str, field: str | None = None) -> RoutineError:
        return RoutineError(program.routine, problem, field=field, hint="shorten the routine")

    if len(program.exercises) > MAX_EXERCISES:
        raise over(f"{len(program.exercises)} exercises; a program has at most {MAX_EXERCISES}")
    if len(program.steps) > MAX_STEPS:
        raise over(f"unrolls into {len(program.steps)} steps; a program has at most {MAX_STEPS}")
    if len(program.cues) > MAX_CUES:
        raise over(f"uses {len(program.cues)} distinct cues; a program has at most {MAX_CUES}")
    for step in program.steps:
        if step.duration_ms > MAX_DURATION_MS:
            raise over(
                f"step {step.index} ({step.kind.value}) lasts {step.duration_ms} ms; a step "
                f"lasts at most {MAX_DURATION_MS} ms",
                field=f"exercises[{step.exercise}]",
            )


def _checked(routine: Routine, wanted: tuple[str, ...]) -> set[str]:
    for ident in wanted:
        routine.exercise(ident)
    return set(wanted)


def _exercise_steps(
    number: int, ex: Exercise, routine: Routine, opts: CompileOptions, count_s: float
) -> Iterator[_Raw]:
    effort = ex.hold if ex.hold is not None else ex.work
    assert effort is not None  # the model guarantees hold xor work
    effort_kind = StepKind.HOLD if ex.hold is not None else StepKind.WORK
    effort_ms = _span_ms(effort, count_s, opts.rest_pick)
    if ex.hold is not None:
        after_kind, after_slot = StepKind.RELEASE, "hold_end"
        after_ms: int | None = (
            _span_ms(ex.release, count_s, opts.rest_pick)
            if ex.release is not None
            else _ms(opts.release_seconds)
        )
    else:
        after_kind, after_slot = StepKind.REST, "rest_start"
        after_ms = _span_ms(ex.rest, count_s, opts.rest_pick) if ex.rest is not None else None
    set_rest_ms = (
        _span_ms(ex.rest_between_sets, count_s, opts.rest_pick)
        if ex.rest_between_sets is not None
        else _ms(opts.set_rest_seconds)
    )
    start_slot = "hold_start" if effort_kind is StepKind.HOLD else "work_start"
    for side_no, side in enumerate(ex.sides):
        if side_no > 0 and routine.switch_side_seconds > 0:
            switch_ms = _ms(routine.switch_side_seconds)
            yield _Raw(
                number, 1, 0, side, ex.directions[0], StepKind.SWITCH_SIDE, switch_ms, "switch_side"
            )
        for set_no in range(1, ex.sets + 1):
            if set_no > 1:
                yield _Raw(
                    number,
                    set_no,
                    0,
                    side,
                    ex.directions[0],
                    StepKind.REST,
                    set_rest_ms,
                    "set_rest",
                )
            for rep in range(1, ex.reps + 1):
                last_rep = rep == ex.reps
                for dir_no, direction in enumerate(ex.directions):
                    slot = start_slot if dir_no == 0 else "direction_change"
                    yield _Raw(number, set_no, rep, side, direction, effort_kind, effort_ms, slot)
                    # A release always follows a hold: its cue marks the end of the hold.
                    if after_kind is StepKind.RELEASE and after_ms is not None:
                        yield _Raw(
                            number, set_no, rep, side, direction, after_kind, after_ms, after_slot
                        )
                if after_kind is StepKind.REST and after_ms is not None and not last_rep:
                    yield _Raw(
                        number,
                        set_no,
                        rep,
                        side,
                        ex.directions[-1],
                        after_kind,
                        after_ms,
                        after_slot,
                    )


def _assemble(
    routine: Routine,
    chosen: tuple[Exercise, ...],
    raw: list[_Raw],
    bounds: list[tuple[int, int]],
    opts: CompileOptions,
) -> TimerProgram:
    steps: list[Step] = []
    cue_names: set[str] = {"session_end"}
    clock = 0
    for index, r in enumerate(raw):
        cue = _cue_for(chosen[r.exercise], r.slot)
        cue_names.add(cue)
        countdown_ms = 0
        countdown_cue = None
        if r.kind in _COUNTED_KINDS and opts.countdown_seconds > 0:
            ticks = min(opts.countdown_seconds, r.duration_ms // 1000 - 1)
            if ticks > 0:
                countdown_ms = ticks * 1000
                countdown_cue = _cue_for(chosen[r.exercise], "countdown")
                cue_names.add(countdown_cue)
        steps.append(
            Step(
                index=index,
                exercise=r.exercise,
                set=r.set,
                rep=r.rep,
                side=r.side,
                direction=r.direction,
                kind=r.kind,
                start_ms=clock,
                duration_ms=r.duration_ms,
                cue=cue,
                countdown_cue=countdown_cue,
                countdown_ms=countdown_ms,
            )
        )
        clock += r.duration_ms
    exercises = tuple(
        ProgramExercise(
            id=ex.id,
            name=ex.name,
            first_step=first,
            step_count=end - first,
            active_ms=sum(s.duration_ms for s in steps[first:end]),
        )
        for ex, (first, end) in zip(chosen, bounds, strict=True)
    )
    return TimerProgram(
        routine=routine.name,
        title=routine.title,
        exercises=exercises,
        cues={name: routine.cue(name) for name in sorted(cue_names)},
        steps=tuple(steps),
    )


def _cue_for(ex: Exercise, slot: str) -> str:
    return ex.cues.get(slot, slot)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _span_ms(span: Span, count_s: float, pick: RangePick) -> int:
    if span.seconds is not None:
        return _ms(span.seconds)
    if span.counts is not None:
        return _ms(span.counts * count_s)
    assert span.range is not None
    return _ms(span.range.pick(pick))
