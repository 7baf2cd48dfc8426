"""Stored sessions as past events: real times, status in SUMMARY and DESCRIPTION, stable UIDs,
SEQUENCE on change, windowing under 256 KB, and full history on request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.calendar.factories import (
    DEVICE,
    NOW,
    content_lines,
    events,
    foot_care,
    many_sessions,
    overrides,
    parse,
    session,
)
from wearsync.calendar.export import CalendarView, ExportedCalendar, ExportOptions, build_calendar
from wearsync.calendar.history import HistoryMode, HistoryRenderer
from wearsync.calendar.uids import session_uid, summary_uid
from wearsync.records import SessionRecord, SessionStatus
from wearsync.store import CalendarLedger, Store

KIB_256 = 256 * 1024
FIRST_DAY = date(2025, 2, 14)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[CalendarLedger]:
    with Store.open(tmp_path / "wearsync.db") as store:
        yield store.calendar_ledger()


def build(
    sessions: list[SessionRecord],
    ledger: CalendarLedger,
    *,
    now: datetime = NOW,
    renderer: HistoryRenderer | None = None,
    **options: object,
) -> ExportedCalendar:
    return build_calendar(
        foot_care(),
        sessions,
        start=FIRST_DAY,
        ledger=ledger,
        now=now,
        options=ExportOptions(url="http://127.0.0.1:8765/", **options),  # type: ignore[arg-type]
        renderer=renderer,
    )


def test_sessions_become_past_events_with_real_times_and_status(
    ledger: CalendarLedger,
) -> None:
    at = datetime(2026, 11, 20, 17, 58, 12, tzinfo=UTC)
    sessions = [
        session(at, minutes=9.5),
        session(
            at + timedelta(days=1),
            status=SessionStatus.PARTIAL,
            skipped=("toe-walking", "ankle-circles"),
        ),
        session(at + timedelta(days=2), status=SessionStatus.ABORTED, minutes=3),
        session(at + timedelta(days=2, hours=2), status=SessionStatus.IN_PROGRESS),
    ]
    by_uid = events(build(sessions, ledger).body)
    done = by_uid[session_uid(f"{DEVICE}/7/{int(at.timestamp())}")]
    # Whole minutes (calcurse rejects seconds), covering the whole session: 17:58:12 to
    # 18:07:42 is published as 17:58 to 18:08.
    assert done["DTSTART"].dt == datetime(2026, 11, 20, 17, 58, tzinfo=UTC)
    assert done["DTEND"].dt == datetime(2026, 11, 20, 18, 8, tzinfo=UTC)
    title = foot_care().title
    assert str(done["SUMMARY"]) == f"{title}: completed"
    description = str(done["DESCRIPTION"]).splitlines()
    assert description[0] == f"Completed: 5 of 5 exercises done in 9:30 (watch {DEVICE})."
    assert "Toe Presses: done (1:00)" in description
    summaries = {str(e["SUMMARY"]) for e in by_uid.values() if str(e["UID"]).startswith("session-")}
    assert summaries == {
        f"{title}: completed",
        f"{title}: partial, 2 skipped",
        f"{title}: aborted",
        f"{title}: in progress",
    }
    partial = next(e for e in by_uid.values() if "partial" in str(e["SUMMARY"]))
    assert "Toe Walking: skipped" in str(partial["DESCRIPTION"]).splitlines()
    assert "Partial, 2 skipped: 3 of 5 exercises done" in str(partial["DESCRIPTION"])
    running = next(e for e in by_uid.values() if "in progress" in str(e["SUMMARY"]))
    # No end yet: the event lasts as long as the work recorded so far (5 x 60 s from 19:58:12),
    # in whole minutes around it: 19:58 to 20:04.
    assert running["DTEND"].dt - running["DTSTART"].dt == timedelta(minutes=6)


def test_history_events_are_valid_rfc5545_text(ledger: CalendarLedger) -> None:
    """Folded at 75 octets without splitting characters, TEXT escaped, CRLF everywhere."""
    odd = foot_care().model_copy(update={"title": "Füße; Knöchel, Zehen \\ «Übungen» " * 3})
    at = datetime(2026, 11, 1, 8, tzinfo=UTC)
    record = session(at, routine=odd, device="Montre de Zoë, gauche; n°2")
    body = build_calendar(
        odd, [record], start=FIRST_DAY, ledger=ledger, now=NOW, options=ExportOptions()
    ).body
    for line in content_lines(body):
        assert len(line) <= 75, line
        line.decode()  # every physical line is whole UTF-8
        assert b"\r" not in line and b"\n" not in line
    (event,) = [e for e in parse(body).walk("VEVENT") if str(e["UID"]).startswith("session-")]
    assert str(event["SUMMARY"]) == f"{odd.title}: completed"
    assert "(watch Montre de Zoë, gauche; n°2)." in str(event["DESCRIPTION"])


def test_uids_are_stable_and_sequence_moves_only_on_change(ledger: CalendarLedger) -> None:
    at = datetime(2026, 11, 2, 18, tzinfo=UTC)
    running = session(at, status=SessionStatus.IN_PROGRESS, key="dev/1/1")
    other = session(at + timedelta(days=1), key="dev/1/2")
    first = events(build([running, other], ledger).body)
    again = events(build([running, other], ledger, now=NOW + timedelta(hours=1)).body)
    finished = running.model_copy(
        update={"status": SessionStatus.COMPLETED, "ended_at": at + timedelta(minutes=9)}
    )
    later = NOW + timedelta(hours=2)
    changed = events(build([finished, other], ledger, now=later).body)
    uid = session_uid("dev/1/1")
    assert first[uid]["SEQUENCE"] == again[uid]["SEQUENCE"] == 0
    assert again[uid]["LAST-MODIFIED"].dt == first[uid]["LAST-MODIFIED"].dt
    assert changed[uid]["SEQUENCE"] == 1
    assert changed[uid]["LAST-MODIFIED"].dt == later
    assert changed[uid]["DTSTAMP"].dt == later  # no METHOD: DTSTAMP is the last revision
    assert "completed" in str(changed[uid]["SUMMARY"])
    untouched = session_uid("dev/1/2")
    assert changed[untouched]["SEQUENCE"] == 0


@pytest.mark.slow
def test_five_thousand_sessions_fit_the_default_feed(ledger: CalendarLedger) -> None:
    sessions = many_sessions(5000, until=NOW)
    exported = build(sessions, ledger, renderer=HistoryRenderer())
    assert len(exported.body) < KIB_256
    by_uid = events(exported.body)
    shown = [e for u, e in by_uid.items() if u.startswith("session-")]
    summaries = [e for u, e in by_uid.items() if u.startswith("summary-")]
    # The done and missed marks of the months shown share the budget with their sessions.
    assert len(shown) == exported.sessions > 100
    assert exported.marks > 100
    assert len(summaries) == exported.summaries
    # The newest sessions are shown one by one, the oldest only in summaries.
    newest = max(sessions, key=lambda s: s.started_at)
    oldest = min(sessions, key=lambda s: s.started_at)
    assert session_uid(newest.key) in by_uid
    assert session_uid(oldest.key) not in by_uid
    # Every month with sessions is either shown in full or summarised: none is lost.
    zone = foot_care().schedule.zone
    shown_keys = {str(e["UID"]) for e in shown}
    months_shown = {
        s.started_at.astimezone(zone).strftime("%Y-%m")
        for s in sessions
        if session_uid(s.key) in shown_keys
    }
    months_summarised = {e["DTSTART"].dt.strftime("%Y-%m") for e in summaries}
    assert {str(e["UID"]) for e in summaries} == {
        summary_uid("foot-care", month) for month in months_summarised
    }
    all_months = {s.started_at.astimezone(zone).strftime("%Y-%m") for s in sessions}
    assert months_shown | months_summarised == all_months
    assert not months_shown & months_summarised
    for month in months_shown:
        in_month = [s for s in sessions if s.started_at.astimezone(zone).strftime("%Y-%m") == month]
        assert all(session_uid(s.key) in shown_keys for s in in_month)
    # Marks go with their month: only shown months have them.
    marks = overrides(exported.body)
    assert len(marks) == exported.marks
    assert {e["DTSTART"].dt.strftime("%Y-%m") for e in marks.values()} <= months_shown
    # A summary is one all-day event on the month's first day, counting its sessions.
    march = by_uid[summary_uid("foot-care", "2023-03")]
    assert march["DTSTART"].dt == date(2023, 3, 1)
    assert march["DTEND"].dt == date(2023, 3, 2)
    count = sum(1 for s in sessions if s.started_at.astimezone(zone).strftime("%Y-%m") == "2023-03")
    assert f"March 2023, {count} sessions (" in str(march["SUMMARY"])
    assert "?history=all" in str(march["DESCRIPTION"])


@pytest.mark.slow
def test_full_history_on_request(ledger: CalendarLedger) -> None:
    sessions = many_sessions(5000, until=NOW)
    exported = build(sessions, ledger, history=HistoryMode.ALL, max_bytes=None)
    by_uid = events(exported.body)
    assert sum(1 for u in by_uid if u.startswith("session-")) == 5000 == exported.sessions
    assert not any(u.startswith("summary-") for u in by_uid)
    assert {session_uid(s.key) for s in sessions} <= set(by_uid)


def test_history_only_and_schedule_only_views(ledger: CalendarLedger) -> None:
    sessions = [session(datetime(2026, 11, 2, 18, tzinfo=UTC))]
    history = events(build(sessions, ledger, view=CalendarView.HISTORY).body)
    assert list(history) == [session_uid(sessions[0].key)]
    schedule = events(build(sessions, ledger, view=CalendarView.SCHEDULE).body)
    assert schedule and all(u.startswith(("routine-", "exercise-")) for u in schedule)
    none = events(build(sessions, ledger, history=HistoryMode.NONE).body)
    assert not any(u.startswith("session-") for u in none)


def test_history_older_than_ten_years_is_summarised_per_year(ledger: CalendarLedger) -> None:
    old = [session(datetime(2014, m, 3, 18, tzinfo=UTC), key=f"old/{m}") for m in (2, 5, 9)]
    recent = [session(datetime(2026, 10, 3, 18, tzinfo=UTC), key="new/1")]
    by_uid = events(build(old + recent, ledger).body)
    year = by_uid[summary_uid("foot-care", "2014")]
    assert year["DTSTART"].dt == date(2014, 1, 1)
    assert "2014, 3 sessions (3 completed)" in str(year["SUMMARY"])
    assert session_uid("new/1") in by_uid


def test_same_inputs_give_the_same_bytes(ledger: CalendarLedger) -> None:
    sessions = many_sessions(300, until=NOW, years=1)
    first = build(sessions, ledger)
    second = build(list(reversed(sessions)), ledger, now=NOW + timedelta(hours=3))
    assert second.body == first.body and second.etag == first.etag
    assert second.last_modified == first.last_modified
