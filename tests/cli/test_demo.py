"""``wearsync demo`` end to end: simulated watch, real GATT, SQLite, calendar export."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from wearsync.cli.app import app
from wearsync.cli.demo import DemoResult
from wearsync.records import utc_now
from wearsync.routine import load_routine
from wearsync.routine.occurrences import ROUTINE_ENTRY, occurrences
from wearsync.store import Store
from wearsync.sync.first_day import kept_first_day

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


def next_planned(database: Path, after: timedelta = timedelta(0)) -> str:
    """What the occurrence generator plans next after now (+ ``after``): the watch reminds of
    it."""
    routine = load_routine("foot-care")
    with Store.open(database) as store:
        first = kept_first_day(store, routine.name)
    assert first is not None
    now = utc_now() + after
    coming = occurrences(routine, first_day=first, start=now, end=now + timedelta(days=3))
    due = [o for o in coming if o.at == coming[0].at]
    names = {ex.id: ex.name for ex in routine.exercises}
    # The watch shows the program's title, cut to the 32 bytes a name holds (§5.1.3).
    title = routine.title.encode()[:32].decode(errors="ignore")
    shown = [title if o.entry == ROUTINE_ENTRY else names[o.entry] for o in due]
    return f"{due[0].local:%a %d %b %H:%M}: {', '.join(shown)}"


def test_demo_syncs_runs_stores_and_exports(home: Path) -> None:
    result = run_demo()
    # The format-2 program: the watch has ENTRIES, so it gets the plan and reminds on its own.
    assert result.program_pushed and result.program_bytes == 236
    # The watch's clock ran at 400x through the session (about 20 minutes of watch time), so
    # its next planned time is the one after now or the one after the session's watch time.
    assert result.next_reminder in {
        next_planned(Path(result.database)),
        next_planned(Path(result.database), timedelta(minutes=25)),
    }
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
