"""One sync with a Garmin folder on a real store: push once, import once, keep old programs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.watches.garmin_fit.watch import activity_file, wearer_laps
from wearsync.records import ExerciseStatus, SessionStatus, utc_now
from wearsync.routine import Routine, compile_routine
from wearsync.routine.loader import builtin_text, parse_routine
from wearsync.store import Store
from wearsync.sync.driver import program_key
from wearsync.sync.programs import ProgramLookup
from wearsync.sync.sessions import derive_sessions
from wearsync.watches.garmin_fit.codec import encode_workout
from wearsync.watches.garmin_fit.exchange import sync_folder
from wearsync.watches.garmin_fit.folder import GarminFolder, GarminFolderError

START = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
TEXT = builtin_text("foot-care")


@pytest.fixture
def folder(tmp_path: Path) -> GarminFolder:
    for sub in ("NewFiles", "Activity", "Workouts"):
        (tmp_path / "watch" / "GARMIN" / sub).mkdir(parents=True)
    return GarminFolder.at(tmp_path / "watch")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "wearsync.db") as db:
        yield db  # type: ignore[misc]


def watch_runs(folder: GarminFolder, routine: Routine, start: datetime, **wearer: object) -> None:
    """The watch loads the waiting workout (if any) and the wearer does it once."""
    for waiting in folder.inbox.iterdir():
        waiting.rename(folder.loaded[0] / waiting.name)
    program = compile_routine(routine)
    workout = encode_workout(program, routine)
    laps = wearer_laps(workout, program, **wearer)  # type: ignore[arg-type]
    name = f"{start:%Y-%m-%d-%H-%M-%S}.fit"
    (folder.outbox / name).write_bytes(activity_file(laps, start=start, workout=workout.identity))


def test_push_once_import_once(store: Store, folder: GarminFolder, routine: Routine) -> None:
    first = sync_folder(store, folder, routine=routine, routine_text=TEXT)
    assert first.program_pushed and first.written == folder.inbox / "foot-care.fit"
    assert first.program_identity == program_key(compile_routine(routine))
    assert first.program_bytes == len(first.written.read_bytes())
    assert first.events_new == 0
    assert store.pushed_routine(first.program_identity) == ("foot-care", TEXT)

    again = sync_folder(store, folder, routine=routine, routine_text=TEXT)
    assert not again.program_pushed and again.written is None

    watch_runs(folder, routine, START, lap_through=[3])
    after = sync_folder(store, folder, routine=routine, routine_text=TEXT)
    assert not after.program_pushed  # the loaded workout is the same program
    assert after.files_imported == ("2026-11-24-18-00-00.fit",)
    assert after.events_new == after.events_received > 0
    (session,) = derive_sessions(store.events(folder.address), ProgramLookup(store), now=utc_now())
    assert session.status is SessionStatus.PARTIAL
    assert session.exercises[3].status is ExerciseStatus.SKIPPED
    assert session.exercises[3].name == "Resisted Flexion"

    last = sync_folder(store, folder, routine=routine, routine_text=TEXT)
    assert (last.events_received, last.events_new, last.files_imported) == (0, 0, ())


def test_an_activity_of_the_previous_program_still_maps_back(
    store: Store, folder: GarminFolder, routine: Routine
) -> None:
    sync_folder(store, folder, routine=routine, routine_text=TEXT)
    watch_runs(folder, routine, START)  # done with the old program, not yet synced
    changed_text = TEXT.replace('reps = 10                      # "a set of 10 reps"', "reps = 8")
    changed = parse_routine(changed_text)
    assert changed.exercise("toe-presses").reps == 8
    result = sync_folder(store, folder, routine=changed, routine_text=changed_text)
    assert result.program_pushed
    assert result.files_imported == ("2026-11-24-18-00-00.fit",)
    old_key = program_key(compile_routine(routine))
    assert result.program_identity != old_key
    assert {e.program_hash for e in store.events(folder.address)} == {old_key}
    # The new workout now waits in NewFiles; the watch runs it two days later.
    watch_runs(folder, changed, START + timedelta(days=2))
    sync_folder(store, folder, routine=changed, routine_text=changed_text)
    sessions = derive_sessions(store.events(folder.address), ProgramLookup(store), now=utc_now())
    assert [s.program_hash for s in sessions] == [old_key, result.program_identity]
    assert [s.status for s in sessions] == [SessionStatus.COMPLETED] * 2


def test_activities_are_stored_even_when_the_workout_cannot_be_written(
    store: Store, folder: GarminFolder, routine: Routine
) -> None:
    sync_folder(store, folder, routine=routine, routine_text=TEXT)
    watch_runs(folder, routine, START)
    folder.inbox.rmdir()
    folder.inbox.write_text("not a folder")
    changed_text = TEXT.replace("prepare_seconds = 5 ", "prepare_seconds = 8 ")
    with pytest.raises(GarminFolderError, match="cannot write the workout"):
        sync_folder(store, folder, routine=parse_routine(changed_text), routine_text=changed_text)
    assert store.events(folder.address)[-1].kind == "session_completed"
