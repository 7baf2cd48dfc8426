"""``wearsync export ics`` and ``wearsync feed ...`` through CliRunner, and ``feed serve`` as a
real process stopped by signals; the data directory is WEARSYNC_HOME in tmp_path."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from tests.calendar.factories import events, session
from wearsync.calendar.uids import exercise_uid, routine_uid, session_uid
from wearsync.cli.app import app
from wearsync.cli.export import ExportResult
from wearsync.cli.feed import FeedLinks, FirstDay
from wearsync.records import SessionStatus, utc_now
from wearsync.routine.loader import builtin_text
from wearsync.store import Store

runner = CliRunner()
ROUTINE_UID = routine_uid("foot-care", 1)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def export(*args: str) -> ExportResult:
    result = runner.invoke(app, ["export", "ics", "--json", *args])
    assert result.exit_code == 0, result.output
    return ExportResult.model_validate_json(result.stdout)


def test_export_writes_a_calendar_and_reports_it(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "feet.ics"
    result = export("--out", str(out), "--start", "2025-03-01")
    body = out.read_bytes()
    assert result.file == str(out) and result.bytes == len(body)
    assert result.every_days == 2 and result.first_day == date(2025, 3, 1)
    assert [e.uid for e in result.schedule] == [
        ROUTINE_UID,
        *(exercise_uid("foot-care", "toe-presses", n) for n in (1, 2, 3)),
        *(exercise_uid("foot-care", "toe-walking", n) for n in (1, 2)),
    ]
    assert all(e.sequence == 0 for e in result.schedule)
    by_uid = events(body)
    assert by_uid[ROUTINE_UID]["DTSTART"].dt == datetime(
        2025, 3, 1, 18, tzinfo=by_uid[ROUTINE_UID]["DTSTART"].dt.tzinfo
    )
    assert str(by_uid[ROUTINE_UID]["DTSTART"].dt.tzinfo) == "Europe/London"
    assert (home / "wearsync.db").exists()


def test_re_export_of_a_changed_routine_raises_its_sequence(home: Path, tmp_path: Path) -> None:
    first = export("--out", str(tmp_path / "a.ics"))
    edited = tmp_path / "foot-care.toml"
    edited.write_text(
        builtin_text("foot-care").replace("hold = { seconds = 10 }", "hold = { seconds = 12 }")
    )
    second = export("--routine", str(edited), "--out", str(tmp_path / "b.ics"))
    before = {e.uid: e for e in first.schedule}
    after = {e.uid: e for e in second.schedule}
    assert set(before) == set(after)
    assert after[ROUTINE_UID].sequence == 1
    assert after[ROUTINE_UID].last_modified > before[ROUTINE_UID].last_modified
    # Pencil pickups are not done several times a day, so only the routine event changed.
    assert all(after[u].sequence == 0 for u in after if u != ROUTINE_UID)
    assert second.first_day == first.first_day  # kept in the store, not re-picked


def test_export_includes_stored_sessions(home: Path, tmp_path: Path) -> None:
    at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=3)
    with Store.open() as store:
        store.save_sessions(
            [
                session(at, key="w/1/1"),
                session(at + timedelta(days=1), status=SessionStatus.ABORTED, key="w/1/2"),
            ]
        )
    out = tmp_path / "feet.ics"
    result = export("--out", str(out))
    assert result.sessions == 2
    by_uid = events(out.read_bytes())
    assert by_uid[session_uid("w/1/2")]["DTSTART"].dt == at + timedelta(days=1)
    assert str(by_uid[session_uid("w/1/2")]["SUMMARY"]).endswith(": aborted")
    history_only = export("--out", str(out), "--view", "history")
    assert history_only.schedule == [] and history_only.sessions == 2
    assert set(events(out.read_bytes())) == {
        session_uid("w/1/1"),
        session_uid("w/1/2"),
    }
    assert export("--out", str(out), "--history", "none").sessions == 0


def test_export_to_stdout_and_options(home: Path) -> None:
    result = runner.invoke(
        app,
        ["export", "ics", "--out", "-", "--every", "3", "--at", "07:15", "--reminder", "0"],
    )
    assert result.exit_code == 0, result.output
    event = events(result.stdout_bytes)[ROUTINE_UID]
    assert event["RRULE"]["INTERVAL"] == [3]
    assert event["DTSTART"].dt.time().isoformat() == "07:15:00"
    assert not event.walk("VALARM")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "25:00"], "error: --at: '25:00' is not a time of day (HH:MM)"),
        (["--start", "someday"], "error: --start: 'someday' is not a date (YYYY-MM-DD)"),
        (["--daily-at", "08:00"], "error: toe-presses is done 3 times a day but only 1 daily"),
        (["--routine", "no-such"], "error: no-such: no such built-in routine"),
    ],
)
def test_export_errors_are_one_line(home: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["export", "ics", "--out", "-", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.output


def feed(*args: str) -> FeedLinks:
    result = runner.invoke(app, ["feed", *args, "--json"])
    assert result.exit_code == 0, result.output
    return FeedLinks.model_validate_json(result.stdout)


def test_feed_url_is_stable_and_rotate_replaces_it(home: Path) -> None:
    first = feed("url")
    assert first.http.startswith("http://127.0.0.1:8765/feeds/") and first.http.endswith(".ics")
    assert first.webcal == "webcal://" + first.http.removeprefix("http://")
    token = first.http.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 22
    assert feed("url") == first
    rotated = feed("rotate")
    assert rotated.rotated and rotated.http != first.http
    assert feed("url").http == rotated.http
    assert feed("url", "--public-url", "https://cal.example.net/x").webcal.startswith(
        "webcal://cal.example.net/x/feeds/"
    )
    human = runner.invoke(app, ["feed", "url"])
    assert human.exit_code == 0 and f"subscribe: {rotated.webcal}" in human.stdout


def test_feed_first_day(home: Path, tmp_path: Path) -> None:
    set_day = runner.invoke(app, ["feed", "first-day", "2025-01-06", "--json"])
    assert set_day.exit_code == 0, set_day.output
    assert FirstDay.model_validate_json(set_day.stdout).first_day == date(2025, 1, 6)
    assert export("--out", str(tmp_path / "a.ics")).first_day == date(2025, 1, 6)


async def test_feed_serve_runs_until_a_signal(home: Path) -> None:
    env = {**os.environ, "WEARSYNC_HOME": str(home)}
    for sig in (signal.SIGTERM, signal.SIGINT):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wearsync",
            "feed",
            "serve",
            "--port",
            "0",
            "--json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            assert process.stdout is not None
            text = ""
            while not text.rstrip().endswith("}"):
                line = await asyncio.wait_for(process.stdout.readline(), 30)
                assert line, (await process.stderr.read()).decode() if process.stderr else ""
                text += line.decode()
            links = FeedLinks.model_validate(json.loads(text))
            assert links.http.startswith("http://127.0.0.1:")
            async with aiohttp.ClientSession() as http, http.get(links.http) as response:
                assert response.status == 200
                assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
                assert ROUTINE_UID in events(await response.read())
            process.send_signal(sig)
            assert await asyncio.wait_for(process.wait(), 30) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    # Both runs served the same secret: the one 'feed url' prints.
    assert feed("url").http.split("/feeds/")[1] == links.http.split("/feeds/")[1]


def test_export_marks_follow_the_plans_pushed_at_the_time(home: Path) -> None:
    """The CLI passes the push log's plans to the export: the routine pushed at 17:00 and
    changed to 18:00 four days ago keeps 17:00 (and its missed marks) on its days."""
    zone = ZoneInfo("Europe/London")
    now = utc_now()
    today = now.astimezone(zone).date()
    first = today - timedelta(days=12)
    old_push, new_push = now - timedelta(days=10), now - timedelta(days=4)
    text = builtin_text("foot-care")
    with Store.open(home / "wearsync.db") as store:
        store.remember_device("AA", "watch", "wearsync-timer")
        store.record_push(
            "AA",
            "01",
            "foot-care",
            text.replace('times = ["18:00"]', 'times = ["17:00"]'),
            at=old_push,
        )
        store.record_push("AA", "02", "foot-care", text, at=new_push)
    result = export("--start", first.isoformat(), "--out", str(home / "out.ics"))
    body = (home / "out.ics").read_bytes()
    title = result.schedule[0].summary
    routine_events = [
        e for e in Calendar.from_ical(body).walk("VEVENT") if str(e["SUMMARY"]).endswith(title)
    ]
    master = next(e for e in routine_events if "RRULE" in e)
    assert master["DTSTART"].dt >= new_push  # the series is the plan in force now
    missed_at_17 = sorted(
        e["DTSTART"].dt.astimezone(zone)
        for e in routine_events
        if str(e["SUMMARY"]) == f"Missed: {title}" and e["DTSTART"].dt.astimezone(zone).hour == 17
    )
    expected = []
    day = first
    while day <= today:
        at = datetime.combine(day, time(17), tzinfo=zone)
        if old_push <= at < new_push:
            expected.append(at)
        day += timedelta(days=2)
    assert missed_at_17 == expected and len(expected) >= 2
    overrides = sum(1 for e in Calendar.from_ical(body).walk("VEVENT") if "RECURRENCE-ID" in e)
    singles = sum(1 for e in Calendar.from_ical(body).walk("VEVENT") if "occurrence-" in e["UID"])
    assert result.marks == overrides + singles > len(expected)
