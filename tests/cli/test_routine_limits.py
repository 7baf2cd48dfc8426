"""Hostile routine files: every limit of the program format, checked when the file is read.

``routine validate`` and a sync must agree: a routine the validator accepts encodes for the
watch (docs/protocol.md §5), and one the encoder would refuse is refused on reading, with one
``error:`` line naming the file and the field, exit status 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearsync.cli.app import app
from wearsync.routine import compile_routine, load_routine
from wearsync.routine.loader import builtin_text
from wearsync.watches.wearsync_timer.codec.encode import encode_program

runner = CliRunner()
GOOD = builtin_text("foot-care")

HOSTILE = {
    "hold-inf": (
        GOOD.replace("hold = { counts = 5 }", "hold = { seconds = inf }"),
        "exercises[3].hold.seconds: must be a finite number",
    ),
    "hold-1e308": (
        GOOD.replace("hold = { counts = 5 }", "hold = { seconds = 1e308 }"),
        "exercises[3].hold.seconds: must be at most 2147483.647",
    ),
    "hold-1e12": (
        GOOD.replace("hold = { counts = 5 }", "hold = { seconds = 1e12 }"),
        "exercises[3].hold.seconds: must be at most 2147483.647",
    ),
    "hold-counts-too-long": (
        GOOD.replace("hold = { counts = 5 }", "hold = { counts = 99999999 }"),
        "exercises[3].hold.counts: 99999999 counts of 1 s exceed the longest duration",
    ),
    "rest-range-to-inf": (
        GOOD.replace("{ min = 10, max = 15 }", "{ min = 10, max = inf }"),
        "exercises[1].rest.range.max: must be a finite number",
    ),
    "rest-range-nan": (
        GOOD.replace("{ min = 10, max = 15 }", "{ min = nan, max = 15 }"),
        "exercises[1].rest.range.min: must be a finite number",
    ),
    "every-days-inf": (
        GOOD.replace("every_days = { min = 2, max = 3 }", "every_days = { min = 2, max = inf }"),
        "schedule.every_days.max: must be a finite number",
    ),
    "every-days-huge": (
        GOOD.replace("every_days = { min = 2, max = 3 }", "every_days = { min = 2, max = 1000 }"),
        "schedule.every_days: must be at most 366 days",
    ),
    "time-zone-name-too-long": (
        GOOD.replace('"Europe/London"', '"' + "Europe/" + "x" * 5000 + '"'),
        "schedule.timezone: unknown IANA time zone",
    ),
    "too-many-steps": (
        GOOD.replace(
            'reps = 10                      # "a set of 10 reps"\nsets = 1',
            "reps = 500\nsets = 50\ndirections = ['clockwise', 'counterclockwise']",
        ),
        "exercises[0]: unrolls into 100050 steps; a program has at most 65535",
    ),
    "switch-side-inf": (
        GOOD.replace("switch_side_seconds = 5 ", "switch_side_seconds = inf "),
        "switch_side_seconds: must be a finite number",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_routine_is_one_line_exit_2(tmp_path: Path, case: str) -> None:
    text, expected = HOSTILE[case]
    assert text != GOOD, "the fixture must actually change the file"
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    result = runner.invoke(app, ["routine", "validate", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: {path}: ")
    assert expected in lines[0], lines[0]
    assert len([x for x in lines if x.startswith("error:")]) == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_routine_at_every_limit_validates_and_encodes(tmp_path: Path) -> None:
    """The largest values validation accepts are ones the watch encoder accepts too."""
    text = GOOD.replace("hold = { counts = 5 }", "hold = { seconds = 2147483.647 }").replace(
        "{ min = 10, max = 15 }", "{ min = 10, max = 2147483.647 }"
    )
    path = tmp_path / "limits.toml"
    path.write_text(text)
    result = runner.invoke(app, ["routine", "validate", str(path)])
    assert result.exit_code == 0, result.output
    program = compile_routine(load_routine(path))
    assert max(s.duration_ms for s in program.steps) == 2**31 - 1
    assert encode_program(program)


def test_many_steps_just_under_the_limit_encode(tmp_path: Path) -> None:
    # 2 + 29 * 1 + 30 * (2 * 500 * 2 + 0) ... the exact count is the compiler's; what matters
    # is that the validator's count and the compiler's agree at the boundary.
    text = GOOD.replace(
        'reps = 10                      # "a set of 10 reps"\nsets = 1',
        "reps = 500\nsets = 32",
    )
    path = tmp_path / "big.toml"
    path.write_text(text)
    result = runner.invoke(app, ["routine", "validate", str(path)])
    assert result.exit_code == 0, result.output
    program = compile_routine(load_routine(path))
    assert 32_000 < len(program.steps) <= 65535
    assert encode_program(program)


def test_routine_file_that_never_ends_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["routine", "validate", "/dev/zero"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[0] == (
        "error: /dev/zero: is larger than 1 MiB; a routine file is a few kilobytes"
    )


def test_routine_file_just_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "padded.toml"
    path.write_text(GOOD + "#" * (1 << 20))
    result = runner.invoke(app, ["routine", "show", str(path)])
    assert result.exit_code == 2, result.output
    assert "is larger than 1 MiB" in result.stderr
