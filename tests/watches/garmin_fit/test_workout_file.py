"""The foot-care workout file, as Garmin's own decoders read it, replayed against the program.

A CRC pass proves nothing about the steps (see the garmin-fit note): every test here decodes
what fit-tool wrote with an official SDK and replays the repeats step by step.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from tests.watches.garmin_fit.conftest import decode_js, decode_py
from wearsync.routine import CompileOptions, Routine, TimerProgram, compile_routine
from wearsync.routine.compiler import StepKind
from wearsync.watches.garmin_fit.codec import (
    MANUFACTURER_DEVELOPMENT,
    EncodedWorkout,
    encode_workout,
    workout_identity,
)
from wearsync.watches.garmin_fit.workout import INTENSITY, replay, step_name


def expected_run(program: TimerProgram) -> list[tuple[str, str, int]]:
    """What the watch should run: every program step's name, intensity and duration."""
    return [(step_name(program, s), INTENSITY[s.kind].value, s.duration_ms) for s in program.steps]


def replayed(steps: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(r.name, r.intensity, r.duration_ms) for r in replay(steps)]


def test_python_sdk_reads_the_foot_care_workout_without_errors(
    workout: EncodedWorkout, program: TimerProgram, routine: Routine
) -> None:
    messages, errors = decode_py(workout.data)
    assert errors == []
    (file_id,) = messages["file_id_mesgs"]
    assert file_id["type"] == "workout"
    assert file_id["manufacturer"] == "development"
    assert file_id["serial_number"] == workout_identity(program).serial_number
    created = file_id["time_created"].astimezone(UTC)
    assert created == workout_identity(program).created_at
    (header,) = messages["workout_mesgs"]
    steps = messages["workout_step_mesgs"]
    assert header["wkt_name"] == routine.title
    assert (header["sport"], header["sub_sport"]) == ("training", "strength_training")
    assert header["num_valid_steps"] == len(steps)
    assert [s["message_index"] for s in steps] == list(range(len(steps)))
    assert replayed(steps) == expected_run(program)


def test_javascript_sdk_reads_the_same_steps(
    workout: EncodedWorkout, program: TimerProgram, tmp_path: Path
) -> None:
    result = decode_js(workout.data, tmp_path)
    assert result["isFit"] is True
    assert result["integrity"] is True
    assert result["errors"] == []
    messages = result["messages"]
    (file_id,) = messages["file_id_mesgs"]
    identity = workout_identity(program)
    assert file_id["type"] == "workout"
    assert file_id["serial_number"] == identity.serial_number
    # Raw date_time: seconds since the FIT epoch, as written.
    assert file_id["time_created"] == identity.time_created
    steps = messages["workout_step_mesgs"]
    assert messages["workout_mesgs"][0]["num_valid_steps"] == len(steps)
    assert replayed(steps) == expected_run(program)


def test_foot_care_steps_are_timed_named_and_noted(
    workout: EncodedWorkout, program: TimerProgram, routine: Routine
) -> None:
    messages, _ = decode_py(workout.data)
    steps = messages["workout_step_mesgs"]
    timed = [s for s in steps if s["duration_type"] == "time"]
    repeats = [s for s in steps if s["duration_type"] == "repeat_until_steps_cmplt"]
    # Every non-repeat step ends by time, so the watch moves on (and alerts) by itself.
    assert len(timed) + len(repeats) == len(steps)
    assert len(steps) < len(program.steps) / 2
    # The ten toe presses are one hold and one release, repeated ten times.
    presses = [s for s in steps if s.get("wkt_step_name", "").startswith("Toe Presses")]
    assert [s["wkt_step_name"] for s in presses] == ["Toe Presses hold", "Toe Presses release"]
    hold_at = steps.index(presses[0])
    loop = next(s for s in repeats if s["duration_value"] == hold_at)
    assert loop["target_value"] == 10
    assert presses[0]["duration_value"] == 3000 and presses[0]["intensity"] == "active"
    assert presses[1]["duration_value"] == 2000 and presses[1]["intensity"] == "rest"
    assert presses[0]["notes"] == " ".join(routine.exercise("toe-presses").instructions.split())
    first = steps[0]
    assert (first["wkt_step_name"], first["intensity"]) == ("Get ready: Toe Presses", "warmup")
    switches = [s for s in steps if "switch to right" in s.get("wkt_step_name", "")]
    assert {s["intensity"] for s in switches} == {"recovery"}
    assert len(switches) == 2  # ankle circles and pencil pickups
    assert workout.warnings == ()


def test_the_same_program_gives_the_same_bytes(
    workout: EncodedWorkout, program: TimerProgram, routine: Routine
) -> None:
    again = encode_workout(compile_routine(routine), routine)
    assert again.data == workout.data
    assert again.identity == workout.identity


def test_a_changed_program_gets_a_new_identity(
    workout: EncodedWorkout, program: TimerProgram, routine: Routine
) -> None:
    # Slower counts lengthen the count-timed holds.
    changed = compile_routine(routine, CompileOptions(count_seconds=1.5))
    assert changed.content_hash != program.content_hash
    other = encode_workout(changed, routine)
    assert other.identity.manufacturer == MANUFACTURER_DEVELOPMENT
    assert other.identity.serial_number != workout.identity.serial_number
    assert other.identity.time_created != workout.identity.time_created
    assert other.data != workout.data


def test_one_exercise_compiles_to_a_workout_of_its_own(routine: Routine, tmp_path: Path) -> None:
    program = compile_routine(routine, CompileOptions(exercises=("toe-walking",)))
    encoded = encode_workout(program, routine)
    messages, errors = decode_py(encoded.data)
    assert errors == []
    assert replayed(messages["workout_step_mesgs"]) == expected_run(program)
    assert {StepKind.WORK, StepKind.REST} <= {s.kind for s in program.steps}


def test_fit_tools_validator_finds_only_its_known_false_positives(
    workout: EncodedWorkout,
) -> None:
    """fit-tool's validator wants ``target_type`` on repeat steps, and a ``num_valid_steps``
    without them; Garmin's own decoders and workout samples accept both (see the garmin-fit
    note). Anything else it finds is a real problem."""
    from fit_tool.fit_file import FitFile
    from fit_tool.validation import STRICT_LEVELS, validate_fit_file

    report = validate_fit_file(FitFile.from_bytes(workout.data).records, levels=STRICT_LEVELS)
    findings = [str(f) for f in report.findings]
    repeats = workout.plan.repeat_count
    missing_target = [f for f in findings if "missing required field(s): target_type" in f]
    counted = [f for f in findings if "workout.num_valid_steps is" in f]
    assert len(missing_target) == repeats
    assert len(counted) == 1 and f"is {len(workout.plan.steps)} but found" in counted[0]
    assert len(findings) == repeats + 1
