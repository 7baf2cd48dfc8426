"""``wearsync demo`` end to end: simulated watch, real GATT, SQLite, calendar export."""

from __future__ import annotations

from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from wearsync.cli.app import app
from wearsync.cli.demo import DemoResult
from wearsync.store import Store

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WEARSYNC_HCI", raising=False)
    return tmp_path / "home"


def run_demo(*args: str) -> DemoResult:
    result = runner.invoke(app, ["demo", "--speed", "400", "--json", *args])
    assert result.exit_code == 0, result.output
    return DemoResult.model_validate_json(result.stdout)


def test_demo_syncs_runs_stores_and_exports(home: Path) -> None:
    result = run_demo()
    assert result.program_pushed and result.program_bytes == 210
    assert result.session_ended == "session_completed"
    assert (result.session_status, result.exercises_done, result.exercises) == ("completed", 5, 5)
    assert result.vibrations > 100
    assert Path(result.database) == home / "demo" / "wearsync.db"
    with Store.open(Path(result.database)) as store:
        assert len(store.events()) == result.events_stored > 80
        assert [s.status.value for s in store.sessions()] == ["completed"]
    assert result.calendar is not None
    calendar = icalendar.Calendar.from_ical(Path(result.calendar).read_bytes())
    summaries = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
    assert len(summaries) == result.calendar_events
    assert any("completed" in s.lower() for s in summaries), summaries
    assert any("Toe Presses" in s for s in summaries)


def test_demo_with_a_wearer_who_skips(home: Path) -> None:
    result = run_demo("--wearer", "skip=2")
    assert result.session_status == "partial"
    assert result.exercises_done == 4


def test_demo_rejects_a_bad_wearer_script(home: Path) -> None:
    result = runner.invoke(app, ["demo", "--wearer", "jump=3"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert not (home / "demo").exists(), "nothing is started (or wiped) for bad input"
