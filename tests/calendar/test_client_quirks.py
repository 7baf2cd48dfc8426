"""What real clients tripped over, one test per class of problem (the issue "A calendar every
real client reads the same"): calendar-level UID (vdirsyncer/khal), unescaped TEXT, unsafe UID
characters, SEQUENCE moving when only the port changed, and the UID migration."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.calendar.factories import NOW, content_lines, events, foot_care, many_sessions, session
from wearsync.calendar.export import ExportedCalendar, ExportOptions, build_calendar
from wearsync.calendar.uids import (
    calendar_uid,
    exercise_uid,
    routine_uid,
    session_uid,
    summary_uid,
)
from wearsync.records import SessionRecord
from wearsync.store import MIGRATIONS, Store, _uid_v2

FIRST_DAY = date(2025, 2, 14)
SAFE_UID = re.compile(r"[A-Za-z0-9-]+@wearsync\.invalid")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "wearsync.db") as opened:
        yield opened


def build(
    store: Store, sessions: list[SessionRecord], url: str, now: datetime = NOW
) -> ExportedCalendar:
    return build_calendar(
        foot_care(),
        sessions,
        start=FIRST_DAY,
        ledger=store.calendar_ledger(),
        now=now,
        options=ExportOptions(url=url),
    )


def unfolded(body: bytes) -> list[str]:
    """Content lines with folding undone (RFC 5545 section 3.1)."""
    return [line.decode() for line in content_lines(body.replace(b"\r\n ", b""))]


def test_no_calendar_level_uid(store: Store) -> None:
    """vdirsyncer copies VCALENDAR properties into every item and keys items by the first UID:
    a calendar UID made every event overwrite the last (1 of 414 shown)."""
    lines = unfolded(build(store, many_sessions(20, until=NOW), "http://127.0.0.1:8765/").body)
    head = lines[: lines.index("BEGIN:VTIMEZONE")]
    assert not [line for line in head if line.startswith("UID")]
    # One UID per event; only an instance override (a done or missed mark) repeats its
    # series' UID, which vdirsyncer keeps with the series in one item.
    uids = [line for line in lines if line.startswith("UID:")]
    overrides = [line for line in lines if line.startswith("RECURRENCE-ID")]
    assert overrides
    assert len(uids) == lines.count("BEGIN:VEVENT")
    assert len(set(uids)) == len(uids) - len(overrides)


def test_every_text_property_is_escaped_alike(store: Store) -> None:
    lines = unfolded(build(store, [], "http://127.0.0.1:8765/").body)
    title = foot_care().title
    assert "," in title
    escaped = title.replace(",", "\\,")
    for prop in ("NAME", "X-WR-CALNAME"):
        assert f"{prop}:{escaped}" in lines
    for prop in ("DESCRIPTION", "X-WR-CALDESC"):
        assert f"{prop}:wearsync: {escaped} (foot-care)" in lines


def test_uids_use_a_safe_alphabet(store: Store) -> None:
    sessions = many_sessions(300, until=NOW, years=3)
    assert any(":" in s.key and "/" in s.key for s in sessions)
    body = build(store, sessions, "http://127.0.0.1:8765/").body
    uids = set(events(body))
    assert uids and all(SAFE_UID.fullmatch(u) for u in uids)
    assert {session_uid(s.key) for s in sessions} & uids
    assert any(u.startswith("summary-") for u in uids)


def test_uids_stay_what_they_are_today() -> None:
    """Frozen: a changed UID is a removed event and a new one in every client."""
    assert routine_uid("foot-care", 1) == "routine-foot-care-1-a870e0c08f@wearsync.invalid"
    assert session_uid("C0:FF:EE:00:00:01/0/2") == (
        "session-C0-FF-EE-00-00-01-0-2-02141da5a8@wearsync.invalid"
    )
    # Readable parts that coincide still give different UIDs.
    assert session_uid("a:b/1") != session_uid("a/b:1")


def test_another_port_moves_no_sequence(store: Store) -> None:
    sessions = many_sessions(50, until=NOW)
    first = build(store, sessions, "http://127.0.0.1:8765/")
    later = NOW + timedelta(hours=3)
    second = build(store, sessions, "http://127.0.0.1:9999/", now=later)
    before, after = events(first.body), events(second.body)
    assert set(before) == set(after)
    for uid, event in after.items():
        assert event["SEQUENCE"] == before[uid]["SEQUENCE"], uid
        assert event["LAST-MODIFIED"].dt == before[uid]["LAST-MODIFIED"].dt, uid
    assert second.last_modified == first.last_modified
    assert b"9999" in second.body  # the calendar's own URL does follow the server


def test_the_migration_maps_old_uids_to_todays() -> None:
    assert _uid_v2("routine.foot-care.1@wearsync.invalid") == routine_uid("foot-care", 1)
    assert _uid_v2("exercise.foot-care.toe-presses.3@wearsync.invalid") == exercise_uid(
        "foot-care", "toe-presses", 3
    )
    assert _uid_v2("session.C0:FF:EE:00:00:01/0/2@wearsync.invalid") == session_uid(
        "C0:FF:EE:00:00:01/0/2"
    )
    assert _uid_v2("summary.foot-care.2023-03@wearsync.invalid") == summary_uid(
        "foot-care", "2023-03"
    )
    assert _uid_v2("calendar.foot-care.combined.recent@wearsync.invalid") == calendar_uid(
        "foot-care", "combined", "recent"
    )
    for other in ("x@example.com", "routine.only@wearsync.invalid", "no-at-sign"):
        assert _uid_v2(other) == other


def test_old_ledger_entries_carry_over_so_sequence_continues(tmp_path: Path) -> None:
    """A database from before migration 4 whose events were published under the old UIDs."""
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        store.conn.execute("PRAGMA user_version = 3")
    key = "C0:FF:EE:00:00:01/7/1"
    stamp = "2026-01-05T09:30:15+00:00"
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO calendar_events VALUES (?, ?, ?, ?)",
            [
                ("routine.foot-care.1@wearsync.invalid", "old", 4, stamp),
                (f"session.{key}@wearsync.invalid", "old", 2, stamp),
            ],
        )
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        moved = store.calendar_ledger().get_many([routine_uid("foot-care", 1), session_uid(key)])
        assert {u: e.sequence for u, e in moved.items()} == {
            routine_uid("foot-care", 1): 4,
            session_uid(key): 2,
        }
        started = datetime(2026, 11, 2, 18, tzinfo=UTC)
        record = session(started, key=key)
        published = events(build(store, [record], "http://127.0.0.1:8765/").body)
    assert published[routine_uid("foot-care", 1)]["SEQUENCE"] == 5  # continues, not 0
    assert published[session_uid(key)]["SEQUENCE"] == 3
    assert not [u for u in published if "." in u.split("@")[0]]
