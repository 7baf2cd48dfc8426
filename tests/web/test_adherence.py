"""Weekly adherence for the chart, pure: the same counts as ``wearsync history`` per week."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tests.calendar.factories import foot_care, session
from wearsync.records import SessionRecord, SessionStatus
from wearsync.routine import compile_routine
from wearsync.routine.occurrences import Plan
from wearsync.sync.history import summarize
from wearsync.web.adherence import WEEKS, render_adherence, weeks
from wearsync.web.data import PageData

ROUTINE = foot_care()
ZONE = ROUTINE.schedule.zone
NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def data(first_day: date, sessions: list[SessionRecord]) -> PageData:
    since = datetime.combine(first_day, time(0), tzinfo=ZONE)
    return PageData(
        routine=ROUTINE,
        program=compile_routine(ROUTINE),
        sessions=sessions,
        devices={},
        start=first_day,
        plans=[Plan(ROUTINE, since=since)],
        first_day=first_day,
        now=NOW,
        feed_url="http://127.0.0.1:8765/feeds/x.ics",
    )


def routine_days(first_day: date, until: date) -> list[datetime]:
    days = []
    day = first_day
    while day <= until:
        days.append(datetime.combine(day, time(18, 5), tzinfo=ZONE))
        day += timedelta(days=2)
    return days


def test_each_week_counts_as_the_history_report_of_its_seven_days() -> None:
    first_day = date(2026, 8, 1)
    done = [
        session(at, status=SessionStatus.ABORTED if i % 5 == 0 else SessionStatus.COMPLETED)
        for i, at in enumerate(routine_days(first_day, date(2026, 11, 23)))
        if i % 3
    ]
    page = data(first_day, done)
    found = weeks(page)
    assert len(found) == WEEKS
    assert found[-1].last == NOW.astimezone(ZONE).date()
    for week in found:
        end = NOW if week is found[-1] else datetime.combine(week.last, time.max, tzinfo=ZONE)
        report = summarize(done, page.plans, first_day=first_day, now=end, window_days=7)
        assert [(e.name, e.planned, e.done) for e in week.entries] == [
            (e.name, e.planned, e.done) for e in report.entries
        ]
    assert {e.name for e in found[-1].entries} == {"routine", "toe presses", "toe walking"}
    assert any(e.done for w in found for e in w.entries if e.name == "routine")


def test_a_recent_schedule_has_only_its_weeks_and_one_chart_per_entry() -> None:
    first_day = NOW.astimezone(ZONE).date() - timedelta(days=10)
    found = weeks(data(first_day, []))
    assert len(found) == 2
    page = render_adherence(data(first_day, [])).decode()
    assert page.count('<svg class="chart"') == 3
