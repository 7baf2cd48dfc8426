"""The plan a Bangle.js carries (pure): the same occurrences as routine.occurrences, and each
entry's steps as numbered in the whole program."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from wearsync.routine import CompileOptions, compile_routine, load_routine
from wearsync.routine.occurrences import ROUTINE_ENTRY, day_occurrences, minute_of
from wearsync.watches.bangle.plan import bangle_plan, entry_steps

FIRST = date(2026, 3, 2)


@pytest.mark.parametrize(
    "options",
    [CompileOptions(), CompileOptions(exercises=("toe-walking", "ankle-circles"))],
    ids=["whole", "two-exercises"],
)
def test_entry_steps_are_the_exercises_steps_lead_in_first(options: CompileOptions) -> None:
    program = compile_routine(load_routine("foot-care"), options)
    for index, ex in enumerate(program.exercises):
        steps = entry_steps(program, index)
        assert [s.index for s in program.steps if s.exercise == index] == list(steps)
        assert steps.stop == ex.first_step + ex.step_count
    with pytest.raises(ValueError, match="no exercise"):
        entry_steps(program, len(program.exercises))


def test_the_plan_plans_what_the_occurrences_plan() -> None:
    """Each day of two intervals, read the way the runtime reads the plan, against
    day_occurrences: same local minutes, same entries."""
    routine = load_routine("foot-care")
    program = compile_routine(routine)
    plan = bangle_plan(routine, program, FIRST)
    assert [e.id for e in plan.entries] == ["toe-presses", "toe-walking"]
    for offset in range(2 * plan.every_days + 1):
        day = FIRST + timedelta(days=offset)
        routine_day = offset % plan.every_days == 0
        watch = [(m, ROUTINE_ENTRY) for m in plan.times] if routine_day else []
        for entry in plan.entries:
            watch += [(m, entry.id) for m, off in entry.slots if not (routine_day and off)]
        want = [(minute_of(o.local.time()), o.entry) for o in day_occurrences(routine, day, FIRST)]
        assert sorted(watch) == sorted(want), day


def test_an_entry_not_in_the_program_is_left_out() -> None:
    routine = load_routine("foot-care")
    program = compile_routine(routine, CompileOptions(exercises=("toe-walking",)))
    plan = bangle_plan(routine, program, FIRST)
    assert [(e.id, e.exercise) for e in plan.entries] == [("toe-walking", 0)]
    assert plan.number_of("toe-walking") == 1 and plan.number_of(None) == 0
    assert plan.number_of("toe-presses") is None
