"""A :class:`TimerProgram` planned as FIT Workout Step messages, and their replay.

Every timed step of the program (prepare, hold, release, work, rest, switch side, transition)
becomes a Workout Step with ``duration_type`` *time* and ``duration_value`` in milliseconds, so
the watch moves on by itself and plays its own alert at every step change (a *reps* or *open*
step would wait for the lap button). Runs of identical steps (reps, sets, sides) become
``repeat_until_steps_cmplt`` steps: ``duration_value`` is the message index to jump back to and
``target_value`` how many times the steps from there run in all. Repeats nest wherever that
gives fewer messages; :func:`plan_workout` finds the fewest (see :func:`_best`).

Intensity (FIT ``intensity``) of each kind of step, the table the watch uses to colour and
count the step:

============== ============ =====================================================
step kind      intensity    why
============== ============ =====================================================
prepare        warmup       getting into position before the first exercise
hold, work     active       the effort itself
release        rest         the pause between two holds, part of the rep
rest           rest         between reps, and between sets (the set rest)
switch_side    recovery     moving to the other side: neither effort nor rest
transition     recovery     setting up the next exercise
============== ============ =====================================================

Names (``wkt_step_name``) say the exercise and the step ("Toe Presses hold", "Ankle Circles
clockwise", "Ankle Circles: switch to right", "Next: Toe Walking"); the side is named only by
the lead-in ("Next: Ankle Circles, left") and the switch step, so both sides of an exercise can
share steps when nothing separates them.
``notes`` carry the exercise's instructions on the step before it (prepare or transition: the
time to read them) and on its effort steps.

This module is pure and imports no FIT library; :mod:`.codec` writes what it plans.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Final, NamedTuple

from wearsync.routine.compiler import Step, StepKind, TimerProgram
from wearsync.routine.model import Direction, Routine, Side

#: The most Workout Step messages a workout should have. Several third-party workout tools
#: cap workouts at 50 steps; Garmin documents no limit for FIT workout files, so this is a
#: conservative guess, not a confirmed device limit.
STEP_LIMIT: Final = 50

#: A FIT string field holds at most 255 bytes including its NUL terminator.
FIT_STRING_BYTES: Final = 254

#: Replaying more steps than this means a malformed workout (a loop that never ends).
_REPLAY_CAP: Final = 1_000_000


class Intensity(StrEnum):
    """FIT ``intensity`` values used here (the profile's names)."""

    ACTIVE = "active"
    REST = "rest"
    WARMUP = "warmup"
    RECOVERY = "recovery"


INTENSITY: Final[Mapping[StepKind, Intensity]] = {
    StepKind.PREPARE: Intensity.WARMUP,
    StepKind.HOLD: Intensity.ACTIVE,
    StepKind.WORK: Intensity.ACTIVE,
    StepKind.RELEASE: Intensity.REST,
    StepKind.REST: Intensity.REST,
    StepKind.SWITCH_SIDE: Intensity.RECOVERY,
    StepKind.TRANSITION: Intensity.RECOVERY,
}


@dataclass(frozen=True)
class TimeStep:
    """A Workout Step of ``duration_type`` time: one or more program steps run it."""

    name: str
    duration_ms: int
    intensity: Intensity
    notes: str
    exercise: int


@dataclass(frozen=True)
class RepeatStep:
    """A Workout Step of ``duration_type`` repeat_until_steps_cmplt."""

    back_to: int
    """``duration_value``: the message index the repeat jumps back to."""
    count: int
    """``target_value``: how many times the steps from ``back_to`` run in all."""
    exercise: int


WorkoutStep = TimeStep | RepeatStep


@dataclass(frozen=True)
class WorkoutWarning:
    """Something about the workout the user should know before loading it on a watch."""

    code: str
    message: str
    hint: str


@dataclass(frozen=True)
class WorkoutPlan:
    """The Workout Step messages of a program, in message-index order, and any warnings."""

    steps: tuple[WorkoutStep, ...]
    warnings: tuple[WorkoutWarning, ...]
    positions: tuple[int, ...]
    """For every program step (in order), the message index of the time step that runs it."""

    @property
    def repeat_count(self) -> int:
        """How many of the steps are repeat steps."""
        return sum(isinstance(s, RepeatStep) for s in self.steps)


def step_name(program: TimerProgram, step: Step) -> str:
    """The ``wkt_step_name`` of a program step."""
    exercise = program.exercises[step.exercise].name
    way = "" if step.direction is Direction.NONE else f" {step.direction.value}"
    # The lead-in names the first side: later steps name none, so both sides can share them.
    first = "" if step.side is Side.BOTH else f", {step.side.value}"
    match step.kind:
        case StepKind.PREPARE:
            return f"Get ready: {exercise}{first}"
        case StepKind.TRANSITION:
            return f"Next: {exercise}{first}"
        case StepKind.SWITCH_SIDE:
            return f"{exercise}: switch to {step.side.value}"
        case StepKind.HOLD:
            return f"{exercise}{way} hold"
        case StepKind.RELEASE:
            return f"{exercise} release"
        case StepKind.WORK:
            return f"{exercise}{way}"
        case StepKind.REST:
            return f"{exercise} set rest" if step.rep == 0 else f"{exercise} rest"
    raise AssertionError(step.kind)  # pragma: no cover - StepKind is closed


_NOTED_KINDS: Final = frozenset(
    {StepKind.PREPARE, StepKind.TRANSITION, StepKind.HOLD, StepKind.WORK}
)


def fit_string(text: str) -> str:
    """``text`` cut (on a character boundary, with an ellipsis) to fit a FIT string field."""
    if len(text.encode()) <= FIT_STRING_BYTES:
        return text
    cut = text.encode()[: FIT_STRING_BYTES - len("…".encode())].decode(errors="ignore")
    return cut.rstrip() + "…"


def time_step(program: TimerProgram, routine: Routine, step: Step) -> TimeStep:
    """The time step that runs program step ``step``."""
    notes = ""
    if step.kind in _NOTED_KINDS:
        notes = routine.exercise(program.exercises[step.exercise].id).instructions
    return TimeStep(
        name=fit_string(step_name(program, step)),
        duration_ms=step.duration_ms,
        intensity=INTENSITY[step.kind],
        notes=fit_string(" ".join(notes.split())),
        exercise=step.exercise,
    )


def plan_workout(
    program: TimerProgram, routine: Routine, *, step_limit: int = STEP_LIMIT
) -> WorkoutPlan:
    """Plan the Workout Step messages of ``program`` with the fewest messages.

    Args:
        program: the compiled program.
        routine: the routine it was compiled from (for each exercise's instructions).
        step_limit: warn when the workout needs more messages than this.

    Raises:
        KeyError: the routine has no exercise of one of the program's exercise ids.
    """
    leaves = [time_step(program, routine, s) for s in program.steps]
    steps: list[WorkoutStep] = []
    # Steps of two exercises never repeat each other (their names differ), so each exercise
    # (with its lead-in step) is planned on its own: the search stays small.
    start = 0
    while start < len(leaves):
        end = start
        while end < len(leaves) and leaves[end].exercise == leaves[start].exercise:
            end += 1
        tokens = leaves[start:end]
        _emit(_plan(tuple(tokens)), tokens, steps)
        start = end
    replayed = replay(steps)
    # The search is exact by construction; checked because a wrong plan would cue wrong steps.
    assert [r[:3] for r in replayed] == [(t.name, t.intensity.value, t.duration_ms) for t in leaves]
    positions = [r.step_index for r in replayed]
    warnings: list[WorkoutWarning] = []
    if len(steps) > step_limit:
        warnings.append(
            WorkoutWarning(
                code="step_limit",
                message=(
                    f"{routine.name}: the workout needs {len(steps)} FIT steps, more than the "
                    f"{step_limit} that Garmin watches are assumed to accept"
                ),
                hint=(
                    "split the routine (compile fewer exercises) or lower its reps; the limit is "
                    "what third-party tools use, not confirmed by Garmin"
                ),
            )
        )
    return WorkoutPlan(steps=tuple(steps), warnings=tuple(warnings), positions=tuple(positions))


# The search for the fewest messages ------------------------------------------------------------


@dataclass(frozen=True)
class _Leaf:
    offset: int


@dataclass(frozen=True)
class _Loop:
    body: tuple[_Node, ...]
    count: int


_Node = _Leaf | _Loop


@dataclass(frozen=True)
class _Tree:
    nodes: tuple[_Node, ...]
    cost: int
    """How many Workout Step messages the nodes take."""


#: Longer runs of one exercise's steps than this are planned by :func:`_greedy`: the exact
#: search takes time cubic in the length (0.2 s at 250 steps, 20 s at 1,000).
EXACT_LIMIT: Final = 250
#: The longest block :func:`_greedy` looks for in one pass (blocks of blocks come in later
#: passes, so a routine's structure is still found level by level).
_GREEDY_PERIOD: Final = 64


def _plan(tokens: tuple[TimeStep, ...]) -> tuple[_Node, ...]:
    if len(tokens) <= EXACT_LIMIT:
        return _best(tokens).nodes
    return _greedy(tokens)


def _greedy(tokens: tuple[TimeStep, ...]) -> tuple[_Node, ...]:
    """Fewer messages for long runs, quickly: repeated passes of run-length coding.

    Each pass replaces, left to right, the shortest block that repeats at once by one loop of
    its longest run; the next pass sees those loops as units, so reps become loops, then sets
    of loops, then sides. Exact (the replay is the input) but not always the fewest messages.
    """
    nodes: list[_Node] = [_Leaf(i) for i in range(len(tokens))]
    ids: dict[object, int] = {}

    def key(node: _Node) -> object:
        if isinstance(node, _Leaf):
            return ("leaf", tokens[node.offset])
        return ("loop", node.count, tuple(key(inner) for inner in node.body))

    while True:
        keys = [ids.setdefault(key(node), len(ids)) for node in nodes]
        out: list[_Node] = []
        at = 0
        while at < len(nodes):
            found = None
            for period in range(1, min(_GREEDY_PERIOD, (len(nodes) - at) // 2) + 1):
                if keys[at : at + period] == keys[at + period : at + 2 * period]:
                    found = period
                    break
            if found is None:
                out.append(nodes[at])
                at += 1
                continue
            count = 2
            body = keys[at : at + found]
            while keys[at + count * found : at + (count + 1) * found] == body:
                count += 1
            out.append(_Loop(tuple(nodes[at : at + found]), count))
            at += count * found
        if len(out) == len(nodes):
            return tuple(out)
        nodes = out


def _best(tokens: tuple[TimeStep, ...]) -> _Tree:
    """The fewest messages that replay ``tokens`` exactly, as a tree of leaves and loops.

    Dynamic programming over the sequence: the best plan of a prefix ends with either one
    leaf or one loop (a block repeated ``count`` times, costing one repeat message plus the
    best plan of the block, itself found the same way). Periodicity is read from a table of
    matching runs, so each candidate block is checked in constant time.
    """
    n = len(tokens)
    # runs[p][i]: how many consecutive positions from i have tokens[x] == tokens[x + p].
    runs = [[0] * (n + 1) for _ in range(n + 1)]
    for p in range(1, n):
        for i in range(n - p - 1, -1, -1):
            runs[p][i] = runs[p][i + 1] + 1 if tokens[i] == tokens[i + p] else 0

    @cache
    def segment(a: int, b: int) -> _Tree:
        # cost[k] and choice[k]: the best plan of tokens[a:a+k] ends with block choice[k],
        # which starts where the best plan of a shorter prefix ends.
        cost = [0] * (b - a + 1)
        choice: list[tuple[int, _Tree]] = [(a, _Tree((), 0))]
        for end in range(a + 1, b + 1):
            found: tuple[int, _Tree] | None = None
            found_cost = 0
            # Later starts first: on a tie the last block is the shortest, so "work, rest"
            # repeats and the final work stands alone (rather than "work" then "rest, work").
            for begin in range(end - 1, a - 1, -1):
                for block in blocks(begin, end):
                    total = cost[begin - a] + block.cost
                    if found is None or total < found_cost:
                        found, found_cost = (begin, block), total
            assert found is not None
            cost[end - a] = found_cost
            choice.append(found)
        nodes: list[_Node] = []
        end = b
        while end > a:
            begin, block = choice[end - a]
            nodes[:0] = block.nodes
            end = begin
        return _Tree(tuple(nodes), cost[b - a])

    def blocks(begin: int, end: int) -> Iterator[_Tree]:
        length = end - begin
        if length == 1:
            yield _Tree((_Leaf(begin),), 1)
            return
        for period in range(1, length // 2 + 1):
            if length % period == 0 and runs[period][begin] >= length - period:
                body = segment(begin, begin + period)
                yield _Tree((_Loop(body.nodes, length // period),), body.cost + 1)

    return segment(0, n)


def _emit(nodes: Sequence[_Node], tokens: Sequence[TimeStep], steps: list[WorkoutStep]) -> None:
    for node in nodes:
        if isinstance(node, _Leaf):
            steps.append(tokens[node.offset])
        else:
            first = len(steps)
            _emit(node.body, tokens, steps)
            steps.append(RepeatStep(back_to=first, count=node.count, exercise=tokens[0].exercise))


# Replay ---------------------------------------------------------------------------------------


class ReplayedStep(NamedTuple):
    """One step as a watch runs it, repeats expanded."""

    name: str
    intensity: str
    duration_ms: int
    step_index: int
    """The message index of the Workout Step that runs it."""


class WorkoutReplayError(ValueError):
    """The steps do not form a workout that ends (a repeat jumps forward, counts zero, ...)."""


_REPEAT_TYPES: Final = frozenset({"repeat_until_steps_cmplt", 6})
_TIME_TYPES: Final = frozenset({"time", 0})


def replay(steps: Sequence[WorkoutStep | Mapping[str, object]]) -> list[ReplayedStep]:
    """Expand the repeats of Workout Steps into the steps a watch runs, in order.

    Accepts the planned steps, or decoded Workout Step messages as mappings of FIT profile
    field names (``wkt_step_name``, ``duration_type``, ``duration_value``, ``target_value``,
    ``intensity``) with enum values as profile names or numbers, which is how the tests feed
    what Garmin's own decoders read.

    Raises:
        WorkoutReplayError: a step has an unsupported duration type, a repeat does not jump
            backwards, repeats zero times, or the workout never ends.
    """
    plain = [_plain(step, index) for index, step in enumerate(steps)]
    out: list[ReplayedStep] = []
    done = [0] * len(plain)
    at = 0
    while at < len(plain):
        step = plain[at]
        if isinstance(step, RepeatStep):
            if not 0 <= step.back_to < at or step.count < 1:
                raise WorkoutReplayError(f"step {at}: repeat back to {step.back_to} x {step.count}")
            done[at] += 1
            if done[at] < step.count:
                at = step.back_to
            else:
                done[at] = 0
                at += 1
            continue
        out.append(ReplayedStep(step.name, step.intensity.value, step.duration_ms, at))
        if len(out) > _REPLAY_CAP:
            raise WorkoutReplayError(f"more than {_REPLAY_CAP} steps: the workout never ends")
        at += 1
    return out


def _plain(step: WorkoutStep | Mapping[str, object], index: int) -> WorkoutStep:
    if isinstance(step, TimeStep | RepeatStep):
        return step
    kind = step.get("duration_type")
    value = step.get("duration_value")
    if not isinstance(value, int):
        raise WorkoutReplayError(f"step {index}: duration_value {value!r}")
    if kind in _REPEAT_TYPES:
        count = step.get("target_value")
        if not isinstance(count, int):
            raise WorkoutReplayError(f"step {index}: target_value {count!r}")
        return RepeatStep(back_to=value, count=count, exercise=0)
    if kind in _TIME_TYPES:
        return TimeStep(
            name=str(step.get("wkt_step_name", "")),
            duration_ms=value,
            intensity=_intensity(step.get("intensity"), index),
            notes=str(step.get("notes", "")),
            exercise=0,
        )
    raise WorkoutReplayError(f"step {index}: duration_type {kind!r} is not time or repeat")


_INTENSITY_NUMBERS: Final = {
    0: Intensity.ACTIVE,
    1: Intensity.REST,
    2: Intensity.WARMUP,
    4: Intensity.RECOVERY,
}


def _intensity(value: object, index: int) -> Intensity:
    if isinstance(value, int) and value in _INTENSITY_NUMBERS:
        return _INTENSITY_NUMBERS[value]
    try:
        return Intensity(str(value))
    except ValueError:
        raise WorkoutReplayError(f"step {index}: intensity {value!r}") from None
