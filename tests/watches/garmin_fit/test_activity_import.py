"""Activity files back into stored events and sessions, on a real Store (SQLite in tmp_path).

The activity files are built to the FIT profile by Garmin's Python encoder (``watch.py``), for
a wearer who follows the workout, laps through an exercise, or stops and saves early.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.watches.garmin_fit.watch import WATCH_SERIAL, Lap, activity_file, wearer_laps
from wearsync.records import ExerciseStatus, SessionRecord, SessionStatus, utc_now
from wearsync.routine import Routine, TimerProgram, compile_routine
from wearsync.routine.compiler import CompileOptions
from wearsync.routine.loader import builtin_text
from wearsync.store import Store
from wearsync.sync.driver import program_key
from wearsync.sync.programs import ProgramLookup
from wearsync.sync.sessions import derive_sessions
from wearsync.watches.garmin_fit.activity import (
    DamagedFitFileError,
    ForeignFitFileError,
    GarminFileError,
    ImportedActivity,
    KnownWorkout,
    read_activity,
)
from wearsync.watches.garmin_fit.codec import FIT_EPOCH, EncodedWorkout, encode_workout

DEVICE = "garmin:/media/GARMIN"
START = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path, program: TimerProgram) -> Store:
    with Store.open(tmp_path / "wearsync.db") as db:
        db.remember_device(DEVICE, "Garmin", "garmin-fit")
        db.record_push(DEVICE, program_key(program), "foot-care", builtin_text("foot-care"))
        yield db  # type: ignore[misc]


@pytest.fixture
def known(program: TimerProgram, routine: Routine) -> list[KnownWorkout]:
    return [KnownWorkout(program, routine, program_key(program))]


def read(data: bytes, known: list[KnownWorkout], name: str = "A.fit") -> ImportedActivity:
    return read_activity(data, source=name, device=DEVICE, workouts=known)


def sessions_of(store: Store) -> list[SessionRecord]:
    return derive_sessions(store.events(DEVICE), ProgramLookup(store), now=utc_now())


def statuses(session: SessionRecord) -> list[ExerciseStatus]:
    return [e.status for e in session.exercises]


def test_a_completed_workout_becomes_a_completed_session(
    store: Store, workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    data = activity_file(wearer_laps(workout, program), start=START, workout=workout.identity)
    imported = read(data, known)
    assert imported.completed
    assert store.add_events(imported.events) == len(imported.events)
    kinds = [e.kind for e in store.events(DEVICE)]
    assert kinds[0] == "session_started" and kinds[-1] == "session_completed"
    assert kinds.count("step_started") == len(program.steps)
    assert kinds.count("exercise_completed") == len(program.exercises)
    (session,) = sessions_of(store)
    assert session.status is SessionStatus.COMPLETED
    assert session.routine == "foot-care"
    assert session.program_hash == program_key(program)
    assert statuses(session) == [ExerciseStatus.DONE] * 5
    assert session.started_at == START
    assert session.duration_s == program.total_ms / 1000
    # Every lap is mapped back to its program step, repeats included.
    started = [e for e in imported.events if e.kind == "step_started"]
    assert [e.step for e in started] == [s.index for s in program.steps]
    tenth_press = started[program.exercises[0].first_step + 18]
    assert (tenth_press.exercise, tenth_press.rep, tenth_press.set) == (0, 10, 1)
    right_pickup = [e for e in started if e.exercise == 4 and e.side == "right"]
    assert len(right_pickup) == 11  # the switch step and five holds and releases
    assert tenth_press.at == START + timedelta(
        milliseconds=program.steps[tenth_press.step].start_ms
    )


def test_a_paused_timer_becomes_paused_and_resumed_events(
    store: Store, workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    laps = wearer_laps(workout, program)
    data = activity_file(laps, start=START, workout=workout.identity, pauses={10: 30.0})
    events = read(data, known).events
    kinds = [e.kind for e in events]
    assert kinds.count("paused") == kinds.count("resumed") == 1
    at = kinds.index("paused")
    paused, resumed, next_step = events[at : at + 3]
    assert resumed.kind == "resumed" and resumed.duration_ms == 30_000
    assert paused.step == 9 and next_step.kind == "step_started" and next_step.step == 10
    assert resumed.at - paused.at == timedelta(seconds=30)
    # Session time excludes the pause; the session's span includes it.
    assert next_step.duration_ms == program.steps[10].start_ms
    assert events[-1].kind == "session_completed"
    assert events[-1].duration_ms == program.total_ms
    store.add_events(events)
    (session,) = sessions_of(store)
    assert session.status is SessionStatus.COMPLETED
    assert session.duration_s == program.total_ms / 1000 + 30


def test_a_lapped_through_exercise_is_skipped_and_the_session_partial(
    store: Store, workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    laps = wearer_laps(workout, program, lap_through=[1])
    store.add_events(read(activity_file(laps, start=START, workout=workout.identity), known).events)
    (session,) = sessions_of(store)
    assert session.status is SessionStatus.PARTIAL
    assert statuses(session) == [
        ExerciseStatus.DONE,
        ExerciseStatus.SKIPPED,
        ExerciseStatus.DONE,
        ExerciseStatus.DONE,
        ExerciseStatus.DONE,
    ]


def test_stopping_early_aborts_the_session_where_it_stopped(
    store: Store, workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    stop = program.exercises[3].first_step + 4  # during resisted flexion
    laps = wearer_laps(workout, program, stop_at_step=stop, stop_after_s=2)
    imported = read(activity_file(laps, start=START, workout=workout.identity), known)
    assert not imported.completed
    assert imported.events[-1].kind == "session_aborted"
    assert imported.events[-1].step == stop
    store.add_events(imported.events)
    (session,) = sessions_of(store)
    assert session.status is SessionStatus.ABORTED
    assert statuses(session) == [ExerciseStatus.DONE] * 3 + [ExerciseStatus.NOT_REACHED] * 2
    assert session.duration_s == program.steps[stop].start_ms / 1000 + 2


def test_stopping_in_the_last_step_is_not_completing(
    workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    laps = wearer_laps(workout, program, stop_at_step=len(program.steps) - 1)
    assert not read(activity_file(laps, start=START, workout=workout.identity), known).completed
    # Lapping through the last step and recording on ends the workout all the same.
    laps[-1] = Lap(laps[-1].step_index, 0.5)
    laps.append(Lap(None, 30))
    assert read(activity_file(laps, start=START, workout=workout.identity), known).completed


def test_a_strength_activity_with_set_messages_only(
    store: Store, workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    laps = wearer_laps(workout, program, lap_through=[2])
    data = activity_file(laps, start=START, workout=workout.identity, sets_only=True)
    store.add_events(read(data, known).events)
    (session,) = sessions_of(store)
    assert session.status is SessionStatus.PARTIAL
    assert statuses(session)[2] is ExerciseStatus.SKIPPED


def test_importing_the_same_file_twice_adds_nothing(
    store: Store, workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    data = activity_file(wearer_laps(workout, program), start=START, workout=workout.identity)
    first = read(data, known).events
    assert store.add_events(first) == len(first)
    assert store.add_events(read(data, known, name="copy-of-A.fit").events) == 0
    assert len(store.events(DEVICE)) == len(first)
    # Keyed by the activity's File Id: boot id is its time_created (FIT seconds).
    assert {e.boot_id for e in first} == {int((START - FIT_EPOCH).total_seconds())}
    assert [e.seq for e in first] == list(range(len(first)))


def test_two_activities_are_two_sessions(
    store: Store, workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    later = START + timedelta(days=2)
    for start in (START, later):
        data = activity_file(wearer_laps(workout, program), start=start, workout=workout.identity)
        store.add_events(read(data, known).events)
    assert [s.started_at for s in sessions_of(store)] == [START, later]


def test_a_training_file_is_matched_by_serial_and_time_created(
    workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    laps = wearer_laps(workout, program)
    data = activity_file(laps, start=START, workout=workout.identity, bare_reference=True)
    assert read(data, known).workout.key == program_key(program)


def test_an_activity_without_training_file_is_matched_by_workout_name(
    workout: EncodedWorkout, program: TimerProgram, routine: Routine, known: list[KnownWorkout]
) -> None:
    laps = wearer_laps(workout, program)
    data = activity_file(
        laps,
        start=START,
        workout=None,
        wkt_name=routine.title,
        num_valid_steps=len(workout.plan.steps),
    )
    assert read(data, known).workout.key == program_key(program)
    with pytest.raises(ForeignFitFileError, match="training_file: missing"):
        read(activity_file(laps, start=START, workout=None), known)


# Files that are not ours, or not whole ---------------------------------------------------------


def activity_of_other_workout(
    routine: Routine, program: TimerProgram, workout: EncodedWorkout
) -> bytes:
    other = encode_workout(compile_routine(routine, CompileOptions(count_seconds=2)), routine)
    return activity_file(wearer_laps(workout, program), start=START, workout=other.identity)


def test_foreign_and_damaged_files_raise_a_typed_one_line_error_and_store_nothing(
    store: Store,
    workout: EncodedWorkout,
    program: TimerProgram,
    routine: Routine,
    known: list[KnownWorkout],
) -> None:
    good = activity_file(wearer_laps(workout, program), start=START, workout=workout.identity)
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    cases: list[tuple[bytes, type[GarminFileError], str]] = [
        (workout.data, ForeignFitFileError, "file_id.type: workout (5), not an activity (4)"),
        (activity_of_other_workout(routine, program, workout), ForeignFitFileError, "not one"),
        (good[: len(good) - 40], DamagedFitFileError, "not a readable FIT file"),
        (good[:10], DamagedFitFileError, "not a readable FIT file"),
        (bytes(flipped), DamagedFitFileError, "not a readable FIT file"),
        (b"", DamagedFitFileError, "not a readable FIT file"),
    ]
    for data, error, problem in cases:
        with pytest.raises(error) as caught:
            read(data, known, name="GARMIN/Activity/X.fit")
        message = str(caught.value)
        assert message.startswith("GARMIN/Activity/X.fit: ")
        assert problem in message
        assert "\n" not in message
        assert caught.value.exit_code == 2
    assert store.events(DEVICE) == []


def test_a_lap_naming_a_step_out_of_order_is_refused(
    workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    laps = wearer_laps(workout, program)[:5]
    laps.append(Lap(0, 5))  # back to the first step: no replay of this workout does that
    data = activity_file(laps, start=START, workout=workout.identity)
    with pytest.raises(ForeignFitFileError, match="lap 5: wkt_step_index 0"):
        read(data, known)


def test_the_watch_serial_does_not_change_the_keys(
    workout: EncodedWorkout, program: TimerProgram, known: list[KnownWorkout]
) -> None:
    data = activity_file(wearer_laps(workout, program), start=START, workout=workout.identity)
    imported = read(data, known)
    assert imported.identity.serial_number == WATCH_SERIAL
    assert {e.device for e in imported.events} == {DEVICE}
