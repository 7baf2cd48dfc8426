"""``wearsync history`` over a real database in WEARSYNC_HOME."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearsync.cli.app import app
from wearsync.records import ExerciseOutcome, ExerciseStatus, SessionRecord, SessionStatus, utc_now
from wearsync.routine.loader import load_routine_and_text
from wearsync.store import Store
from wearsync.sync.history import HistoryReport

runner = CliRunner()


def session(days_ago: int, status: SessionStatus) -> SessionRecord:
    start = utc_now() - timedelta(days=days_ago)
    return SessionRecord(
        key=f"AA/1/{days_ago}",
        device="AA",
        routine="foot-care",
        program_hash="00",
        started_at=start,
        ended_at=start + timedelta(minutes=9),
        status=status,
        exercises=(
            ExerciseOutcome(
                index=0, exercise_id="toe-presses", name="Toe Presses", status=ExerciseStatus.DONE
            ),
            ExerciseOutcome(
                index=1,
                exercise_id="toe-walking",
                name="Toe Walking",
                status=ExerciseStatus.SKIPPED,
            ),
        ),
        updated_at=start,
    )


def test_history_reads_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """First pushed 10 days ago: routine days are 10, 8, 6, 4, 2 and 0 days ago."""
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path))
    _, text = load_routine_and_text("foot-care")
    with Store.open(tmp_path / "wearsync.db") as store:
        store.remember_device("AA", "watch", "wearsync-timer")
        store.record_push("AA", "00", "foot-care", text, at=utc_now() - timedelta(days=10))
        store.save_sessions(
            [
                session(1, SessionStatus.PARTIAL),
                session(3, SessionStatus.COMPLETED),
                session(5, SessionStatus.ABORTED),
                session(40, SessionStatus.COMPLETED),
            ]
        )
    result = runner.invoke(app, ["history", "--json"])
    assert result.exit_code == 0, result.output
    report = HistoryReport.model_validate_json(result.stdout)
    routine = next(e for e in report.entries if e.entry == "routine")
    # the session 40 days ago predates the plan; the aborted one does not count
    assert routine.done == 2 and routine.planned in (5, 6)  # today's 18:00 may be due
    assert report.aborted == 1
    assert [e.entry for e in report.entries] == ["routine", "toe-presses", "toe-walking"]
    # no more than 10 days of daily repeats were planned, whatever --days says
    presses = next(e for e in report.entries if e.entry == "toe-presses")
    assert 10 * 3 - 6 <= presses.planned <= 11 * 3 - 5
    shown = runner.invoke(app, ["history"]).stdout
    assert f"routine: 2 of {routine.planned}; toe presses: 0 of {presses.planned}" in shown
    assert "skipped: Toe Walking" in shown
