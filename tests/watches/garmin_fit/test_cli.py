"""The Garmin commands as a user runs them: export fit, sync --device PATH, devices, history."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from tests.watches.garmin_fit.conftest import decode_py
from tests.watches.garmin_fit.watch import activity_file, wearer_laps
from wearsync.cli.app import app
from wearsync.records import utc_now
from wearsync.routine import Routine, TimerProgram
from wearsync.watches.garmin_fit.codec import EncodedWorkout

runner = CliRunner()


def run(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def test_export_fit_writes_the_workout_once(tmp_path: Path, workout: EncodedWorkout) -> None:
    target = tmp_path / "out" / "foot.fit"
    first = run("export", "fit", "-o", str(target))
    assert first["written"] is True
    assert (first["steps"], first["repeats"], first["bytes"]) == (27, 5, len(workout.data))
    assert target.read_bytes() == workout.data
    _messages, errors = decode_py(target.read_bytes())
    assert errors == []
    assert run("export", "fit", "-o", str(target))["written"] is False


def test_sync_a_garmin_drive_then_history_shows_the_session(
    tmp_path: Path, workout: EncodedWorkout, program: TimerProgram, routine: Routine
) -> None:
    drive = tmp_path / "drive"
    for sub in ("NewFiles", "Activity"):
        (drive / "GARMIN" / sub).mkdir(parents=True)
    pushed = run("sync", "--device", str(drive))
    assert pushed["program_pushed"] is True and pushed["profile"] == "garmin-fit"
    assert (drive / "GARMIN" / "NewFiles" / "foot-care.fit").read_bytes() == workout.data
    # The wearer does the workout the next evening (laps through the toe walking).
    start = (utc_now() - timedelta(hours=3)).replace(microsecond=0)
    laps = wearer_laps(workout, program, lap_through=[1])
    data = activity_file(laps, start=start, workout=workout.identity)
    (drive / "GARMIN" / "Activity" / "A1.FIT").write_bytes(data)
    synced = run("sync")  # the folder synced last, found without a scan
    assert synced["program_pushed"] is False
    assert synced["events_new"] == synced["events_received"] != 0
    assert run("sync", "--device", str(drive))["events_new"] == 0
    devices = run("devices", "list")["devices"]
    assert isinstance(devices, list)
    assert [(d["address"], d["profile"]) for d in devices] == [
        (f"garmin-fit:{drive.resolve()}", "garmin-fit")
    ]
    result = runner.invoke(app, ["history", "--days", "2"])
    assert result.exit_code == 0, result.output
    assert "partial" in result.stdout and "4/5 exercises" in result.stdout


def test_a_damaged_activity_is_reported_and_the_sync_goes_on(
    tmp_path: Path, workout: EncodedWorkout, program: TimerProgram
) -> None:
    drive = tmp_path / "drive"
    (drive / "GARMIN" / "Activity").mkdir(parents=True)
    good = activity_file(
        wearer_laps(workout, program),
        start=utc_now().replace(microsecond=0) - timedelta(days=1),
        workout=workout.identity,
    )
    (drive / "GARMIN" / "Activity" / "half.fit").write_bytes(good[:300])
    result = runner.invoke(app, ["sync", "--device", str(drive)])
    assert result.exit_code == 0, result.output
    assert (
        "warning: skipped " in result.output
        and "half.fit: not a readable FIT file" in result.output
    )
    assert "Traceback" not in result.output
