"""Any routine, any wearer: the derived session says what the wearer did."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.routine.strategies import routines
from tests.watches.garmin_fit.watch import Lap, activity_file, wearer_laps
from wearsync.records import ExerciseStatus, SessionStatus, utc_now
from wearsync.routine import Routine, compile_routine
from wearsync.sync.sessions import derive_sessions
from wearsync.watches.garmin_fit.activity import KnownWorkout, read_activity
from wearsync.watches.garmin_fit.codec import encode_workout

START = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(routine=routines(max_exercises=3), data=st.data())
def test_the_session_matches_what_the_wearer_did(routine: Routine, data: st.DataObject) -> None:
    program = compile_routine(routine)
    workout = encode_workout(program, routine)
    count = len(program.exercises)
    lapped = data.draw(st.sets(st.integers(min_value=0, max_value=count - 1)))
    stop = data.draw(st.none() | st.integers(min_value=0, max_value=len(program.steps) - 1))
    laps = wearer_laps(workout, program, lap_through=lapped, stop_at_step=stop, stop_after_s=0.1)
    if stop is None and program.steps[-1].exercise in lapped:
        # Lapping through the last step ends the workout; the wearer saves a moment later, in
        # a lap that names no step. (Without it, a cut-short last step reads as a stop.)
        laps.append(Lap(None, 2.0))
    imported = read_activity(
        activity_file(laps, start=START, workout=workout.identity),
        source="generated.fit",
        device="d",
        workouts=[KnownWorkout(program, routine, "k")],
    )
    (session,) = derive_sessions(imported.events, lambda key: program, now=utc_now())
    stopped_in = None if stop is None else program.steps[stop].exercise
    expected = []
    for number in range(count):
        if stopped_in is not None and number >= stopped_in:
            expected.append(ExerciseStatus.NOT_REACHED)
        elif number in lapped:
            expected.append(ExerciseStatus.SKIPPED)
        else:
            expected.append(ExerciseStatus.DONE)
    assert [e.status for e in session.exercises] == expected
    if stop is not None:
        assert session.status is SessionStatus.ABORTED
    elif lapped:
        assert session.status is SessionStatus.PARTIAL
    else:
        assert session.status is SessionStatus.COMPLETED
    assert [e.step for e in imported.events if e.kind == "step_started"] == [
        s.index for s in program.steps[: None if stop is None else stop + 1]
    ]
