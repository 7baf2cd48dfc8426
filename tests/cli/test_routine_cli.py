"""``wearsync routine``: output for people and JSON, and one-line errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearsync.cli.app import app
from wearsync.cli.routine import RoutineList, RoutineShow, ValidateResult
from wearsync.routine import TimerProgram, compile_routine, load_routine
from wearsync.routine.loader import builtin_text

runner = CliRunner()

GOOD = builtin_text("foot-care")


def test_show_renders_exercises_times_and_schedule() -> None:
    result = runner.invoke(app, ["routine", "show", "foot-care"])
    assert result.exit_code == 0, result.output
    for text in ("Toe Presses", "Toe Pencil Pickups", "every 2-3 days", "Europe/London", "9:20"):
        assert text in result.output


def test_show_json_parses_back_into_the_model() -> None:
    result = runner.invoke(app, ["routine", "show", "foot-care", "--json"])
    assert result.exit_code == 0, result.output
    shown = RoutineShow.model_validate_json(result.stdout)
    assert shown.routine == load_routine("foot-care")
    assert shown.total_ms == compile_routine(shown.routine).total_ms
    assert [e.active_ms for e in shown.exercises] == [50000, 195000, 45000, 70000, 135000]


def test_plan_json_is_the_compiled_program() -> None:
    result = runner.invoke(app, ["routine", "plan", "foot-care", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    program = TimerProgram.model_validate(
        {k: v for k, v in data.items() if k not in ("total_ms", "content_hash")}
    )
    assert program == compile_routine(load_routine("foot-care"))
    assert data["content_hash"] == program.content_hash


def test_plan_lists_steps_and_total() -> None:
    result = runner.invoke(app, ["routine", "plan", "foot-care", "-e", "toe-presses"])
    assert result.exit_code == 0, result.output
    assert result.output.count("hold_start") == 10
    assert "total 0:55, 21 steps" in result.output


def test_plan_unknown_exercise_is_a_clear_error() -> None:
    result = runner.invoke(app, ["routine", "plan", "foot-care", "-e", "jumping"])
    assert result.exit_code == 2
    assert "no exercise 'jumping'" in result.stderr


def test_list_json() -> None:
    result = runner.invoke(app, ["routine", "list", "--json"])
    assert result.exit_code == 0
    listed = RoutineList.model_validate_json(result.stdout)
    assert [r.name for r in listed.routines] == ["foot-care"]


def test_validate_good_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    result = runner.invoke(app, ["routine", "validate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert ValidateResult.model_validate_json(result.stdout).exercises == 5


def test_show_accepts_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD.replace('name = "foot-care"', 'name = "my-feet"'))
    result = runner.invoke(app, ["routine", "show", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert RoutineShow.model_validate_json(result.stdout).routine.name == "my-feet"


BAD_INPUTS = {
    "toml-syntax": (
        GOOD.replace('[[exercises]]\nid = "toe-walking"', '[[exercises]\nid = "toe-walking"'),
        ":35: invalid TOML",
    ),
    "unknown-field": (
        GOOD.replace('reps = 10                      # "a set', 'repz = 10 # "a set'),
        ": exercises[0].repz: unknown field",
    ),
    "negative-duration": (
        GOOD.replace("hold = { counts = 5 }", "hold = { seconds = -5 }"),
        ": exercises[3].hold.seconds: must be greater than 0 (got -5)",
    ),
    "empty-routine": (
        GOOD[: GOOD.index("[[exercises]]")].replace("[schedule]", "exercises = []\n\n[schedule]"),
        ": exercises: a routine needs at least one exercise",
    ),
    "rest-range-reversed": (
        GOOD.replace("{ min = 10, max = 15 }", "{ min = 15, max = 10 }"),
        ": exercises[1].rest.range: range is reversed: min 15 is greater than max 10",
    ),
    "unknown-cue": (
        GOOD.replace(
            'sides = ["left", "right"]      # "for each foot"',
            'sides = ["left", "right"]\ncues = { hold_start = "thunder" }',
        ),
        ": exercises[4].cues.hold_start: unknown cue 'thunder'",
    ),
    "unknown-time-zone": (
        GOOD.replace('"Europe/London"', '"Mars/Olympus"'),
        ": schedule.timezone: unknown IANA time zone 'Mars/Olympus'",
    ),
    "daily-time-twice": (
        GOOD.replace(
            'daily_times = ["08:00", "13:00", "18:00"]', 'daily_times = ["08:00", "08:00"]'
        ),
        ": schedule.daily_times: the same time is listed twice",
    ),
    "time-with-seconds": (
        GOOD.replace('times = ["18:00"]', 'times = ["18:00:30"]'),
        ": schedule.times: 18:00:30: times are local hours and minutes (HH:MM)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_routine_file_is_one_line_exit_2(tmp_path: Path, case: str) -> None:
    text, expected = BAD_INPUTS[case]
    assert text != GOOD, "the fixture must actually break the file"
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    result = runner.invoke(app, ["routine", "validate", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: {path}")
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["routine", "show", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.toml'}: file not found"


def test_unknown_builtin_has_a_hint() -> None:
    result = runner.invoke(app, ["routine", "show", "hand-care"])
    assert result.exit_code == 2
    assert "error: hand-care: no such built-in routine" in result.stderr
    assert "hint: built-in routines: foot-care" in result.stderr
