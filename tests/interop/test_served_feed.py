"""The feed as ``wearsync feed serve`` serves it on 127.0.0.1, read by icalendar, ical.js and
vobject: the same occurrences, in UTC, for a window spanning two daylight-saving changes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from typer.testing import CliRunner

from tests.calendar.factories import session
from tests.interop.parsers import (
    Job,
    icaljs_available,
    shown_by_icalendar,
    shown_by_icaljs,
    shown_by_vobject,
    with_icalendar,
    with_icaljs,
    with_vobject,
)
from wearsync.calendar.uids import routine_uid, session_uid
from wearsync.cli.app import app
from wearsync.cli.feed import FeedLinks
from wearsync.routine.loader import builtin_text
from wearsync.store import Store

# Europe/London changes on 29 March and 25 October 2026.
START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 11, 30, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


async def fetch_served_feed(home: Path) -> bytes:
    env = {**os.environ, "WEARSYNC_HOME": str(home)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "wearsync", "feed", "serve", "--port", "0", "--json"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stdout is not None
        text = ""
        while not text.rstrip().endswith("}"):
            line = await asyncio.wait_for(process.stdout.readline(), 30)
            assert line, "feed serve exited"
            text += line.decode()
        links = FeedLinks.model_validate(json.loads(text))
        async with aiohttp.ClientSession() as http, http.get(links.http) as response:
            assert response.status == 200
            return await response.read()
    finally:
        process.terminate()
        await process.wait()


async def test_the_served_feed_reads_the_same_in_three_parsers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    icaljs_available()
    home = tmp_path / "home"
    monkeypatch.setenv("WEARSYNC_HOME", str(home))
    first = CliRunner().invoke(app, ["feed", "first-day", "2026-01-05"])
    assert first.exit_code == 0, first.output
    sessions = [
        session(datetime(2026, 3, 28, 18, 3, tzinfo=UTC), key="C0:FF:EE:00:00:01/1/1"),
        session(datetime(2026, 3, 30, 17, 1, tzinfo=UTC), key="C0:FF:EE:00:00:01/1/9"),
        session(datetime(2026, 10, 26, 18, 2, tzinfo=UTC), key="C0:FF:EE:00:00:01/2/4"),
    ]
    with Store.open(home / "wearsync.db") as store:
        store.save_sessions(sessions)
    body = await fetch_served_feed(home)
    job = Job("served", body, START, END)
    readings = {
        "ical.js": with_icaljs([job])["served"],
        "vobject": with_vobject(job),
        "icalendar": with_icalendar(job),
    }
    # Occurrences in the window only (history events outside it are left out alike).
    readings = {p: {u: t for u, t in r.items() if t} for p, r in readings.items()}
    reference = readings["icalendar"]
    assert readings["ical.js"] == reference
    assert readings["vobject"] == reference
    # And they are right: 18:00 in London every second day from the first day, both sides of
    # both changes.
    expected, day = [], date(2026, 1, 5)
    while day < END.date():
        at = datetime.combine(day, time(18), tzinfo=LONDON).astimezone(UTC)
        if START <= at < END:
            expected.append(at)
        day += timedelta(days=2)
    assert reference[routine_uid("foot-care", 1)] == expected
    assert {t.hour for t in expected} == {17, 18}  # summer and winter time both in the window
    for record in sessions:
        minute = record.started_at.replace(second=0, microsecond=0)
        assert reference[session_uid(record.key)] == [minute]


async def test_the_served_feed_marks_from_the_first_push_alike_in_three_parsers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``feed serve`` hands the push log's plans to the export: occurrences before the first
    push carry no mark, later ones are done or missed, and all three parsers show the same."""
    icaljs_available()
    home = tmp_path / "home"
    monkeypatch.setenv("WEARSYNC_HOME", str(home))
    now = datetime.now(UTC)
    today = now.astimezone(LONDON).date()
    first = CliRunner().invoke(app, ["feed", "first-day", (today - timedelta(days=20)).isoformat()])
    assert first.exit_code == 0, first.output
    pushed = now - timedelta(days=10)
    done = session(now - timedelta(days=5), key="C0:FF:EE:00:00:01/3/1").model_copy(
        update={"entry": "toe-presses"}
    )
    with Store.open(home / "wearsync.db") as store:
        store.remember_device("AA", "watch", "wearsync-timer")
        store.record_push("AA", "01", "foot-care", builtin_text("foot-care"), at=pushed)
        store.save_sessions([done])
    body = await fetch_served_feed(home)
    job = Job("served-marks", body, now - timedelta(days=19), now - timedelta(days=1))
    readings = {
        "ical.js": shown_by_icaljs(job),
        "vobject": shown_by_vobject(job),
        "icalendar": shown_by_icalendar(job),
    }
    assert readings["ical.js"] == readings["icalendar"] == readings["vobject"]
    shown = {k: v for k, v in readings["icalendar"].items() if not k[0].startswith("session-")}
    before = [summary for (_, at), (summary, _) in shown.items() if at < pushed]
    # Occurrences whose day (or routine interval, two days) is over are marked one way or the
    # other.
    closed = now - timedelta(days=2)
    after = [summary for (_, at), (summary, _) in shown.items() if pushed <= at < closed]
    assert before and not [s for s in before if s.startswith(("✓", "Missed"))]
    assert after and all(s.startswith(("✓ ", "Missed: ")) for s in after)
    assert sum(s.startswith("✓ ") for s in after) == 1  # the one toe presses session
