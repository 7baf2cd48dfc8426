"""``wearsync history`` over a real database in WEARSYNC_HOME."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearsync.cli.app import app
from wearsync.records import ExerciseOutcome, ExerciseStatus, SessionRecord, SessionStatus, utc_now
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
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path))
    with Store.open(tmp_path / "wearsync.db") as store:
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
    assert (report.planned, report.done, report.aborted) == (15, 2, 1)
    text = runner.invoke(app, ["history"]).stdout
    assert "2 of 15 planned sessions in the last 30 days" in text
    assert "skipped: Toe Walking" in text
