"""The watch as a folder: the workout written once and atomically, activities read back once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from garmin_fit_sdk import Encoder, Profile

from tests.watches.garmin_fit.watch import activity_file, wearer_laps
from wearsync.records import SessionStatus, utc_now
from wearsync.routine import CompileOptions, Routine, TimerProgram, compile_routine
from wearsync.routine.loader import builtin_text
from wearsync.store import Store
from wearsync.sync.driver import program_key
from wearsync.sync.programs import ProgramLookup
from wearsync.sync.sessions import derive_sessions
from wearsync.watches.garmin_fit.activity import KnownWorkout
from wearsync.watches.garmin_fit.codec import EncodedWorkout, encode_workout
from wearsync.watches.garmin_fit.folder import GarminFolder, GarminFolderError, collect_activities

START = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)


def usb_watch(tmp_path: Path) -> Path:
    mount = tmp_path / "mnt"
    for sub in ("NewFiles", "Activity", "Workouts"):
        (mount / "GARMIN" / sub).mkdir(parents=True)
    return mount


def a_run(start: datetime) -> bytes:
    """An activity that followed no workout: a run with an hour of records."""
    enc = Encoder()
    mesg = Profile["mesg_num"]
    enc.write_mesg(
        {
            "mesg_num": mesg["FILE_ID"],
            "type": "activity",
            "manufacturer": "garmin",
            "product": 1,
            "serial_number": 9,
            "time_created": start,
        }
    )
    for second in range(3600):
        enc.write_mesg(
            {
                "mesg_num": mesg["RECORD"],
                "timestamp": start + timedelta(seconds=second),
                "heart_rate": 140,
            }
        )
    return bytes(enc.close())


def test_a_usb_watch_is_recognised_by_its_garmin_folder(tmp_path: Path) -> None:
    mount = usb_watch(tmp_path)
    for path in (mount, mount / "GARMIN"):
        folder = GarminFolder.at(path)
        assert folder.usb
        assert folder.inbox == mount / "GARMIN" / "NewFiles"
        assert folder.outbox == mount / "GARMIN" / "Activity"
        assert folder.address == f"garmin-fit:{mount.resolve()}"
    plain = GarminFolder.at(tmp_path)
    assert not plain.usb and plain.inbox == plain.outbox == tmp_path
    with pytest.raises(GarminFolderError, match="not a folder"):
        GarminFolder.at(tmp_path / "missing")


def test_an_unchanged_program_writes_nothing(
    tmp_path: Path, workout: EncodedWorkout, routine: Routine
) -> None:
    folder = GarminFolder.at(usb_watch(tmp_path))
    written = folder.write_workout(workout, "foot-care")
    assert written == folder.inbox / "foot-care.fit"
    assert written.read_bytes() == workout.data
    assert folder.write_workout(workout, "foot-care") is None
    assert [p.name for p in folder.inbox.iterdir()] == ["foot-care.fit"]  # no temporary left
    # The watch loads it at its next start: NewFiles -> Workouts. Still nothing to write.
    written.rename(folder.loaded[0] / "W0001.FIT")
    assert folder.write_workout(workout, "foot-care") is None
    assert list(folder.inbox.iterdir()) == []
    changed = encode_workout(compile_routine(routine, CompileOptions(count_seconds=2)), routine)
    again = folder.write_workout(changed, "foot-care")
    assert again is not None and again.read_bytes() == changed.data


def test_an_unwritable_folder_is_a_one_line_error(tmp_path: Path, workout: EncodedWorkout) -> None:
    folder = GarminFolder.at(usb_watch(tmp_path))
    folder.inbox.rmdir()
    folder.inbox.write_text("a file where the folder should be")
    with pytest.raises(GarminFolderError, match="cannot write the workout") as caught:
        folder.write_workout(workout, "foot-care")
    assert "\n" not in str(caught.value)


def test_activities_are_imported_once_and_others_left_alone(
    tmp_path: Path, workout: EncodedWorkout, program: TimerProgram, routine: Routine
) -> None:
    folder = GarminFolder.at(usb_watch(tmp_path))
    device = folder.address
    done = activity_file(wearer_laps(workout, program), start=START, workout=workout.identity)
    stopped = activity_file(
        wearer_laps(workout, program, stop_at_step=30),
        start=START + timedelta(days=2),
        workout=workout.identity,
    )
    later = activity_file(
        wearer_laps(workout, program), start=START + timedelta(days=4), workout=workout.identity
    )
    other = encode_workout(compile_routine(routine, CompileOptions(count_seconds=2)), routine)
    files = {
        "2026-11-28-18-00-00.fit": done,
        "2026-11-30-18-00-00.FIT": stopped,
        "2026-11-29-07-00-00.fit": a_run(START + timedelta(hours=13)),
        "other-workout.fit": activity_file(
            wearer_laps(workout, program), start=START, workout=other.identity
        ),
        "the-workout-itself.fit": workout.data,
        "half-copied.fit": later[: len(later) // 2],
    }
    for name, data in files.items():
        (folder.outbox / name).write_bytes(data)
    known = [KnownWorkout(program, routine, program_key(program))]
    with Store.open(tmp_path / "wearsync.db") as store:
        store.remember_device(device, "Garmin", "garmin-fit")
        store.record_push(device, program_key(program), "foot-care", builtin_text("foot-care"))

        def stored(boot: int) -> bool:
            return store.has_event(device, boot, 0)

        first = collect_activities(folder, device=device, workouts=known, stored=stored)
        assert first.files == 6
        assert sorted(first.imported) == ["2026-11-28-18-00-00.fit", "2026-11-30-18-00-00.FIT"]
        assert first.other == 3
        (problem,) = first.problems
        assert problem.startswith(str(folder.outbox / "half-copied.fit") + ": ")
        assert store.add_events(first.events) == len(first.events)
        sessions = derive_sessions(store.events(device), ProgramLookup(store), now=utc_now())
        assert [s.status for s in sessions] == [SessionStatus.COMPLETED, SessionStatus.ABORTED]

        second = collect_activities(folder, device=device, workouts=known, stored=stored)
        assert second.events == [] and second.imported == []
        assert second.stored_before == 2
        assert len(second.problems) == 1  # still half copied: reported again, never stored
        assert store.add_events(second.events) == 0
