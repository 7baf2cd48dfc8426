"""Repeats: nested where that saves steps, exact on any routine, and the step-limit warning."""

from __future__ import annotations

import time as clock
from datetime import time

import pytest
from hypothesis import HealthCheck, given, settings

from tests.routine.strategies import routines
from tests.watches.garmin_fit.conftest import decode_py
from tests.watches.garmin_fit.test_workout_file import expected_run, replayed
from wearsync.routine import Routine, TimerProgram, compile_routine
from wearsync.routine.model import Direction, Exercise, Range, Schedule, Side, Span
from wearsync.watches.garmin_fit import workout as planner
from wearsync.watches.garmin_fit.codec import encode_workout
from wearsync.watches.garmin_fit.workout import (
    STEP_LIMIT,
    RepeatStep,
    TimeStep,
    WorkoutReplayError,
    plan_workout,
    replay,
)


def routine_of(*exercises: Exercise, switch_side_seconds: float = 5) -> Routine:
    return Routine(
        name="test",
        title="Test routine",
        switch_side_seconds=switch_side_seconds,
        schedule=Schedule(every_days=Range(min=2, max=3), times=(time(18, 0),)),
        exercises=exercises,
    )


def holds(ident: str = "presses", **changes: object) -> Exercise:
    fields: dict[str, object] = {
        "id": ident,
        "name": ident.title(),
        "instructions": f"Do the {ident}.",
        "hold": Span(counts=3),
        "release": Span(seconds=2),
        "reps": 4,
    }
    fields.update(changes)
    return Exercise.model_validate(fields)


def nested(steps: tuple[TimeStep | RepeatStep, ...]) -> list[RepeatStep]:
    """Repeat steps whose body holds another repeat step."""
    return [
        s
        for at, s in enumerate(steps)
        if isinstance(s, RepeatStep)
        and any(isinstance(inner, RepeatStep) for inner in steps[s.back_to : at])
    ]


def test_sets_of_reps_nest_a_repeat_in_a_repeat() -> None:
    routine = routine_of(holds(sets=3, rest_between_sets=Span(seconds=10)))
    program = compile_routine(routine)
    encoded = encode_workout(program, routine)
    messages, errors = decode_py(encoded.data)
    assert errors == []
    assert replayed(messages["workout_step_mesgs"]) == expected_run(program)
    steps = encoded.plan.steps
    # prepare; hold, release x4; (set rest; hold, release x4) x2
    assert len(program.steps) == 1 + 8 + 3 * 0 + 2 * (1 + 8)
    assert len(steps) == 9
    (outer,) = nested(steps)
    assert outer.count == 2
    inner = [s for s in steps if isinstance(s, RepeatStep) and s is not outer]
    assert [s.count for s in inner] == [4, 4]


def test_sides_share_their_steps_when_no_switch_separates_them() -> None:
    routine = routine_of(holds(sides=(Side.LEFT, Side.RIGHT)), switch_side_seconds=0)
    program = compile_routine(routine)
    plan = plan_workout(program, routine)
    assert [r[:3] for r in replay(plan.steps)] == expected_run(program)
    # prepare; (hold, release) x 8: both sides' four reps are one run of eight.
    assert len(plan.steps) == 4
    assert [s.count for s in plan.steps if isinstance(s, RepeatStep)] == [8]


def test_sides_of_sets_nest_the_set_in_a_side_repeat() -> None:
    exercise = holds(sides=(Side.LEFT, Side.RIGHT), sets=2, rest_between_sets=Span(seconds=10))
    routine = routine_of(exercise, switch_side_seconds=0)
    program = compile_routine(routine)
    encoded = encode_workout(program, routine)
    messages, errors = decode_py(encoded.data)
    assert errors == []
    assert replayed(messages["workout_step_mesgs"]) == expected_run(program)
    # Per side: (hold, release) x4, set rest, (hold, release) x4; sides: that x2.
    # prepare; ((h, r) x4, set rest, (h, r) x4) x2 takes 1 + (3 + 1 + 3 + 1) = 9 steps.
    assert len(encoded.plan.steps) == 9
    (outer,) = nested(encoded.plan.steps)
    assert outer.count == 2


def test_a_switch_step_keeps_the_sides_apart() -> None:
    routine = routine_of(holds(sides=(Side.LEFT, Side.RIGHT)), switch_side_seconds=5)
    program = compile_routine(routine)
    plan = plan_workout(program, routine)
    assert [r[:3] for r in replay(plan.steps)] == expected_run(program)
    names = [s.name for s in plan.steps if isinstance(s, TimeStep)]
    assert names[0] == "Get ready: Presses, left"
    assert "Presses: switch to right" in names
    assert nested(plan.steps) == []


def test_a_routine_over_the_step_limit_warns_with_a_hint() -> None:
    many = [holds(f"ex-{i}", reps=2, sides=(Side.LEFT, Side.RIGHT)) for i in range(8)]
    routine = routine_of(*many)
    program = compile_routine(routine)
    encoded = encode_workout(program, routine)
    assert len(encoded.plan.steps) > STEP_LIMIT
    (warning,) = encoded.warnings
    assert warning.code == "step_limit"
    assert str(len(encoded.plan.steps)) in warning.message
    assert "not confirmed by Garmin" in warning.hint
    # Still a valid workout: the watch may take it, the user decides.
    messages, errors = decode_py(encoded.data)
    assert errors == []
    assert replayed(messages["workout_step_mesgs"]) == expected_run(program)


def test_the_limit_is_a_parameter(program: TimerProgram, routine: Routine) -> None:
    steps = len(plan_workout(program, routine).steps)
    assert plan_workout(program, routine, step_limit=steps).warnings == ()
    assert len(plan_workout(program, routine, step_limit=steps - 1).warnings) == 1


def test_long_instructions_are_cut_to_a_fit_string() -> None:
    text = "Flex your foot backward and hold, then release. " * 12
    routine = routine_of(holds(instructions=text))
    program = compile_routine(routine)
    messages, errors = decode_py(encode_workout(program, routine).data)
    assert errors == []
    notes = [s["notes"] for s in messages["workout_step_mesgs"] if "notes" in s]
    assert notes and all(len(n.encode()) <= 254 and n.endswith("…") for n in notes)
    assert text.startswith(notes[0][:-1].rstrip())


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        (
            [{"duration_type": "repeat_until_steps_cmplt", "duration_value": 0, "target_value": 2}],
            "repeat back to 0",
        ),
        (
            [
                {"duration_type": "time", "duration_value": 1000, "intensity": "active"},
                {
                    "duration_type": "repeat_until_steps_cmplt",
                    "duration_value": 0,
                    "target_value": 0,
                },
            ],
            "x 0",
        ),
        ([{"duration_type": "open", "duration_value": 0}], "not time or repeat"),
        ([{"duration_type": "time", "duration_value": 1000, "intensity": "loud"}], "intensity"),
    ],
)
def test_replay_rejects_what_no_watch_could_run(
    steps: list[dict[str, object]], problem: str
) -> None:
    with pytest.raises(WorkoutReplayError, match=problem):
        replay(steps)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routines(max_exercises=3))
def test_any_routine_replays_exactly_in_no_more_steps(routine: Routine) -> None:
    program = compile_routine(routine)
    plan = plan_workout(program, routine)
    assert [r[:3] for r in replay(plan.steps)] == expected_run(program)
    assert len(plan.steps) <= len(program.steps)
    assert len(plan.positions) == len(program.steps)
    for step in plan.steps:
        if isinstance(step, RepeatStep):
            assert step.count >= 2


def big_exercise(reps: int) -> Routine:
    return routine_of(
        holds(
            reps=reps,
            sets=3,
            rest_between_sets=Span(seconds=30),
            sides=(Side.LEFT, Side.RIGHT),
            directions=(Direction.CLOCKWISE, Direction.COUNTERCLOCKWISE),
        )
    )


def test_a_long_exercise_is_planned_quickly_to_the_same_structure() -> None:
    small = big_exercise(5)
    small_program = compile_routine(small)
    assert len(small_program.steps) <= planner.EXACT_LIMIT  # planned by the exact search
    exact = plan_workout(small_program, small)
    big = big_exercise(400)
    big_program = compile_routine(big)
    assert len(big_program.steps) > 9000
    started = clock.perf_counter()
    greedy = plan_workout(big_program, big)
    assert clock.perf_counter() - started < 5
    assert [r[:3] for r in replay(greedy.steps)] == expected_run(big_program)
    # The rep count changes repeat counts, not the structure: the same number of steps.
    assert len(greedy.steps) == len(exact.steps)
    assert sorted(s.count for s in greedy.steps if isinstance(s, RepeatStep))[-1] == 400


@settings(max_examples=40, deadline=None)
@given(routines(max_exercises=3))
def test_the_quick_planner_replays_any_routine_exactly(routine: Routine) -> None:
    program = compile_routine(routine)
    exact = plan_workout(program, routine)
    limit = planner.EXACT_LIMIT
    planner.EXACT_LIMIT = 0  # every exercise through the quick planner
    try:
        quick = plan_workout(program, routine)
    finally:
        planner.EXACT_LIMIT = limit
    assert [r[:3] for r in replay(quick.steps)] == expected_run(program)
    assert len(exact.steps) <= len(quick.steps) <= len(program.steps)
