"""The schedule with its done and missed marks, read by ical.js (Thunderbird), vobject (Radicale)
and icalendar + recurring-ical-events: over seven weeks across the change to summer time, each
shows exactly the occurrence generator's occurrences, each marked as adherence's matching rule
says, alarms only where nothing is marked, and no exercise twice at one instant."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.calendar.factories import foot_care, session
from tests.interop.parsers import (
    Job,
    Shown,
    icaljs_available,
    shown_by_icalendar,
    shown_by_icaljs,
    shown_by_vobject,
)
from wearsync.calendar.export import build_calendar
from wearsync.records import DONE_STATUSES, SessionRecord, SessionStatus
from wearsync.routine.adherence import Mark, match_sessions
from wearsync.routine.loader import builtin_text, parse_routine
from wearsync.routine.occurrences import Plan, occurrences
from wearsync.store import CalendarLedger, Store
from wearsync.sync.history import summarize

LONDON = ZoneInfo("Europe/London")  # summer time from 29 March 2026, 01:00 UTC
FIRST_DAY = date(2026, 3, 2)
START = datetime(2026, 3, 2, tzinfo=LONDON)
END = datetime(2026, 4, 20, tzinfo=LONDON)
NOW = datetime(2026, 4, 9, 12, tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[CalendarLedger]:
    with Store.open(tmp_path / "wearsync.db") as store:
        yield store.calendar_ledger()


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def sessions() -> list[SessionRecord]:
    """Some weeks of a wearer who mostly keeps to the plan, and sometimes does not."""
    out = []
    for i in range((NOW.date() - FIRST_DAY).days + 1):
        day = FIRST_DAY + timedelta(days=i)
        if i % 3 != 2:
            out.append(_entry(local(day, time(8, 20)), "toe-presses", f"p/{i}"))
        if i % 5 == 0:
            out.append(_entry(local(day, time(12, 50)), "toe-presses", f"q/{i}"))
        if i % 4 == 1:
            out.append(_entry(local(day, time(13, 10)), "toe-walking", f"w/{i}"))
        if i % 6 == 0:  # every third routine day, at 18:04
            out.append(session(local(day, time(18, 4)), key=f"r/{i}"))
        if i % 6 == 3:  # the routine of the day before, done a day late
            out.append(session(local(day, time(9)), key=f"l/{i}"))
        if i % 7 == 4:  # an aborted routine, which counts for nothing
            out.append(session(local(day, time(18)), key=f"a/{i}", status=SessionStatus.ABORTED))
    return out


def _entry(at: datetime, entry: str, key: str) -> SessionRecord:
    return session(at, key=key).model_copy(update={"entry": entry})


def entry_of(uid: str) -> str:
    if uid.startswith("routine-"):
        return "routine"
    for exercise in ("toe-presses", "toe-walking"):
        if uid.startswith(f"exercise-foot-care-{exercise}-"):
            return exercise
    raise AssertionError(uid)


def test_three_parsers_show_the_generators_occurrences_with_their_marks(
    ledger: CalendarLedger,
) -> None:
    icaljs_available()
    routine = foot_care()
    done = sessions()
    body = build_calendar(routine, done, start=FIRST_DAY, ledger=ledger, now=NOW).body
    job = Job("marks", body, START, END)
    readings: dict[str, Shown] = {
        "ical.js": shown_by_icaljs(job),
        "vobject": shown_by_vobject(job),
        "icalendar": shown_by_icalendar(job),
    }
    planned = occurrences(routine, first_day=FIRST_DAY, start=START, end=END)
    matched = match_sessions(
        [Plan(routine)],
        planned,
        [(s.entry, s.started_at) for s in done if s.status in DONE_STATUSES],
        first_day=FIRST_DAY,
        now=NOW,
    )
    expected = Counter((o.entry, o.at) for o in planned)
    state = {(m.occurrence.entry, m.occurrence.at): m.mark for m in matched}
    assert Counter(state.values())[Mark.DONE] > 40 and Counter(state.values())[Mark.MISSED] > 40
    for parser, shown in readings.items():
        schedule = {
            (entry_of(uid), at): value
            for (uid, at), value in shown.items()
            if not uid.startswith(("session-", "summary-"))
        }
        # Exactly the generator's occurrences, once each, across the DST change.
        assert Counter(schedule.keys()) == expected, parser
        for key, (summary, alarms) in schedule.items():
            mark = state[key]
            if mark is Mark.DONE:
                assert summary.startswith("✓ ") and alarms == 0, (parser, key, summary)
            elif mark is Mark.MISSED:
                assert summary.startswith("Missed: ") and alarms == 0, (parser, key, summary)
            else:
                assert not summary.startswith(("✓", "Missed")) and alarms == 1, (parser, key)
        # No exercise twice at one instant: the routine holds the exercises it contains.
        per_instant: Counter[tuple[datetime, str]] = Counter()
        for entry, at in schedule:
            for exercise in ("toe-presses", "toe-walking") if entry == "routine" else (entry,):
                per_instant[at, exercise] += 1
        assert max(per_instant.values()) == 1, parser
        # Both sides of the change: 18:00 local is 18:00 UTC in March, 17:00 UTC in April.
        hours = {at.hour for (entry, at) in schedule if entry == "routine"}
        assert hours == {17, 18}, parser
    # The done marks are the sessions adherence counts.
    report = summarize(done, [Plan(routine)], first_day=FIRST_DAY, now=NOW, window_days=40)
    marked = Counter(entry for (entry, _), mark in state.items() if mark is Mark.DONE)
    assert {e.entry: e.done for e in report.entries} == {
        e: marked[e] for e in ("routine", "toe-presses", "toe-walking")
    }


def test_a_wall_time_in_the_spring_gap_reads_alike(ledger: CalendarLedger) -> None:
    """01:30 on 29 March 2026 does not exist in London. The generator (and RFC 5545 section
    3.3.10) puts it at 02:30 BST; ical.js and vobject (dateutil) read the series' wall time at
    01:30 BST. A marked occurrence's override gives the instant in UTC, so all three show it
    where the generator planned it."""
    icaljs_available()
    text = builtin_text("foot-care").replace('times = ["18:00"]', 'times = ["01:30"]')
    text = text.replace("every_days = { min = 2, max = 3 }", "every_days = { min = 1, max = 1 }")
    routine = parse_routine(text, "early")
    now = datetime(2026, 4, 2, 12, tzinfo=UTC)
    body = build_calendar(routine, [], start=FIRST_DAY, ledger=ledger, now=now).body
    start, end = datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    job = Job("gap", body, start, end)
    planned = [
        o.at
        for o in occurrences(routine, first_day=FIRST_DAY, start=start, end=end)
        if o.entry == "routine"
    ]
    assert datetime(2026, 3, 29, 1, 30, tzinfo=UTC) in planned
    for parser, shown in (
        ("ical.js", shown_by_icaljs(job)),
        ("vobject", shown_by_vobject(job)),
        ("icalendar", shown_by_icalendar(job)),
    ):
        routine_rows = sorted(
            (at, s) for (uid, at), (s, _a) in shown.items() if uid.startswith("routine-")
        )
        assert [at for at, _ in routine_rows] == planned, parser
        assert all(s.startswith("Missed: ") for _, s in routine_rows), parser
