"""Properties of the timer compiler, checked on generated routines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.routine.strategies import routines
from wearsync.routine import (
    CompileOptions,
    Range,
    Routine,
    Span,
    StepKind,
    compile_routine,
    load_routine,
)


@given(routines())
def test_durations_add_up(routine: Routine) -> None:
    program = compile_routine(routine)
    clock = 0
    for index, step in enumerate(program.steps):
        assert step.index == index
        assert step.start_ms == clock, "steps must follow each other with no gap or overlap"
        clock += step.duration_ms
    assert program.total_ms == clock
    assert sum(ex.active_ms for ex in program.exercises) <= program.total_ms


@given(routines())
def test_every_hold_starts_and_ends_with_a_cue(routine: Routine) -> None:
    program = compile_routine(routine)
    for i, step in enumerate(program.steps):
        assert step.cue in program.cues, f"step {i} plays an undefined cue {step.cue!r}"
        if step.kind is StepKind.HOLD:
            assert step.cue in ("hold_start", "direction_change")
            follower = program.steps[i + 1]
            assert follower.kind is StepKind.RELEASE and follower.cue == "hold_end"
        if step.countdown_ms:
            assert step.countdown_cue in program.cues
            assert step.countdown_ms <= step.duration_ms - 1000
    assert program.end_cue in program.cues


@given(routines())
def test_reps_sets_and_sides_are_all_there(routine: Routine) -> None:
    program = compile_routine(routine)
    for number, ex in enumerate(routine.exercises):
        effort = StepKind.HOLD if ex.hold is not None else StepKind.WORK
        efforts = [s for s in program.steps_of(number) if s.kind is effort]
        assert len(efforts) == len(ex.sides) * ex.sets * ex.reps * len(ex.directions)
        assert {s.side for s in efforts} == set(ex.sides)
        assert max(s.rep for s in efforts) == ex.reps
        assert max(s.set for s in efforts) == ex.sets


@settings(max_examples=50)
@given(routines())
def test_same_routine_same_hash(routine: Routine) -> None:
    again = Routine.model_validate_json(routine.model_dump_json())
    assert compile_routine(routine).content_hash == compile_routine(again).content_hash


@settings(max_examples=50)
@given(routines(), st.data())
def test_changing_any_timing_changes_the_hash(routine: Routine, data: st.DataObject) -> None:
    before = compile_routine(routine).content_hash
    number = data.draw(st.integers(min_value=0, max_value=len(routine.exercises) - 1))
    ex = routine.exercises[number]
    field = "hold" if ex.hold is not None else "work"
    span: Span = getattr(ex, field)
    longer = (
        Span(seconds=span.seconds + 1)
        if span.seconds is not None
        else Span(counts=span.counts + 1)
        if span.counts is not None
        else Span(range=Range(min=span.range.min + 1, max=span.range.max + 1))
    )
    changed_ex = ex.model_copy(update={field: longer})
    exercises = list(routine.exercises)
    exercises[number] = changed_ex
    changed = routine.model_copy(update={"exercises": tuple(exercises)})
    assert compile_routine(changed).content_hash != before


def test_compile_options_change_the_program() -> None:
    routine = load_routine("foot-care")
    default = compile_routine(routine)
    shorter_rests = compile_routine(routine, CompileOptions(rest_pick="min"))
    slower_counts = compile_routine(routine, CompileOptions(count_seconds=1.5))
    assert shorter_rests.total_ms == default.total_ms - 5 * 5000
    assert slower_counts.total_ms > default.total_ms
    assert len({default.content_hash, shorter_rests.content_hash, slower_counts.content_hash}) == 3


def test_one_exercise_alone() -> None:
    routine = load_routine("foot-care")
    program = compile_routine(routine, CompileOptions(exercises=("toe-presses",)))
    assert [ex.id for ex in program.exercises] == ["toe-presses"]
    assert program.steps[0].kind is StepKind.PREPARE
    assert program.total_ms == 5000 + 10 * (3000 + 2000)


def test_options_that_push_a_step_over_the_format_limit_are_refused() -> None:
    """A count the routine keeps under 2**31 - 1 ms at 1 s can pass it at 10 s a count."""
    from wearsync.errors import RoutineError
    from wearsync.routine import parse_routine
    from wearsync.routine.loader import builtin_text

    text = builtin_text("foot-care").replace("hold = { counts = 5 }", "hold = { counts = 1000000 }")
    routine = parse_routine(text, "big.toml")
    assert compile_routine(routine).steps
    with pytest.raises(RoutineError) as caught:
        compile_routine(routine, CompileOptions(count_seconds=10))
    assert caught.value.field == "exercises[3]"
    assert "lasts 10000000000 ms; a step lasts at most 2147483647 ms" in caught.value.problem
