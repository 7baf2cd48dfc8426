"""Options out of every sensible range: a one-line usage error with exit status 2, no traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from wearsync.cli.app import app
from wearsync.errors import InputError
from wearsync.sim.clock import SimClock
from wearsync.sync.daemon import parse_interval

runner = CliRunner()


def _refused(args: list[str], expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert expected in result.stderr, result.stderr


@pytest.mark.parametrize("text", ["99999999999999h", "1e400", "32d", "9" * 400])
def test_an_interval_too_long_for_a_timer_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match="--sync-every"):
        parse_interval(text)


def test_the_longest_interval_is_31_days() -> None:
    assert parse_interval("31d").days == 31


def test_serve_with_an_endless_sync_interval() -> None:
    _refused(
        ["serve", "--sync-every", "99999999999999h"],
        "error: --sync-every: '99999999999999h' is longer than 31 days",
    )


@pytest.mark.parametrize("speed", ["inf", "1e400", "1e9"])
def test_sim_at_infinite_speed(speed: str) -> None:
    _refused(["sim", "--port", "0", "--speed", speed], "Invalid value for '--speed'")


@pytest.mark.parametrize("speed", [float("inf"), float("nan"), 1e9, 0.0])
def test_a_sim_clock_runs_at_a_finite_speed(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        SimClock(speed)
