"""Adherence counts what the schedule planned: per entry, from the first day, across changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wearsync.records import SessionRecord, SessionStatus
from wearsync.routine import Routine, load_routine
from wearsync.routine.loader import load_routine_and_text
from wearsync.routine.occurrences import ROUTINE_ENTRY, Plan
from wearsync.store import Store
from wearsync.sync.history import HistoryReport, plans_in_store, summarize

LONDON = ZoneInfo("Europe/London")
FIRST = date(2026, 3, 2)  # a Monday


@pytest.fixture(scope="module")
def routine() -> Routine:
    return load_routine("foot-care")


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=LONDON)


def done(
    entry: str, when: datetime, status: SessionStatus = SessionStatus.COMPLETED
) -> SessionRecord:
    return SessionRecord(
        key=f"AA/1/{entry}/{when.isoformat()}",
        device="AA",
        routine="foot-care",
        program_hash="00",
        started_at=when.astimezone(UTC),
        ended_at=when.astimezone(UTC) + timedelta(minutes=5),
        status=status,
        updated_at=when.astimezone(UTC),
        entry=entry,
    )


def counts(report: HistoryReport) -> dict[str, tuple[int, int]]:
    return {e.entry: (e.done, e.planned) for e in report.entries}


def test_first_day_after_the_first_sync(routine: Routine) -> None:
    """Synced at 10:00 on the first day: nothing is due yet at 10:05, then one by one."""
    pushed = local(FIRST, 10)
    plans = [Plan(routine, since=pushed)]
    early = summarize([], plans, first_day=FIRST, now=pushed + timedelta(minutes=5))
    assert counts(early) == {ROUTINE_ENTRY: (0, 0), "toe-presses": (0, 0), "toe-walking": (0, 0)}
    evening = summarize([], plans, first_day=FIRST, now=local(FIRST, 20))
    # 08:00 slots predate the sync; 13:00 presses and the 18:00 routine are due
    assert counts(evening) == {ROUTINE_ENTRY: (0, 1), "toe-presses": (0, 1), "toe-walking": (0, 0)}


def test_done_early_counts_for_its_occurrence(routine: Routine) -> None:
    plans = [Plan(routine, since=local(FIRST, 0))]
    report = summarize(
        [done(ROUTINE_ENTRY, local(FIRST, 11))], plans, first_day=FIRST, now=local(FIRST, 12)
    )
    assert counts(report)[ROUTINE_ENTRY] == (1, 1)


def test_a_missed_day_and_a_late_routine(routine: Routine) -> None:
    """Three days from Monday; Tuesday is missed entirely; Monday's routine is done Tuesday."""
    plans = [Plan(routine, since=local(FIRST, 0))]
    mon, tue, wed = FIRST, FIRST + timedelta(days=1), FIRST + timedelta(days=2)
    sessions = [
        done("toe-presses", local(mon, 8, 5)),
        done("toe-presses", local(mon, 13, 5)),
        done("toe-walking", local(mon, 8, 20)),
        done(ROUTINE_ENTRY, local(tue, 19)),  # late, in Monday's interval
        done("toe-presses", local(wed, 8)),
        done("toe-presses", local(wed, 9)),  # a second one, for the 13:00 slot, early
        done("toe-presses", local(wed, 10)),  # a third counts for nothing: the routine does it
        done("toe-walking", local(wed, 8), SessionStatus.ABORTED),
    ]
    report = summarize(sessions, plans, first_day=FIRST, now=local(wed, 20), window_days=3)
    assert counts(report) == {
        ROUTINE_ENTRY: (1, 2),  # Monday's (late) done, Wednesday's missed
        "toe-presses": (4, 2 + 3 + 2),
        "toe-walking": (1, 1 + 2 + 1),
    }
    assert report.aborted == 1
    assert (report.done, report.planned) == (6, 13)


def test_dst_week(routine: Routine) -> None:
    """The week London changes to BST (Sunday 29 March): every wall-time slot still counts."""
    first = date(2026, 3, 23)
    plans = [Plan(routine, since=local(first, 0))]
    sessions = []
    for n in range(7):
        day = first + timedelta(days=n)
        sessions += [done("toe-presses", local(day, h, 1)) for h in (8, 13, 18)]
        sessions += [done("toe-walking", local(day, h, 1)) for h in (8, 13)]
        if n % 2 == 0:
            sessions.append(done(ROUTINE_ENTRY, local(day, 18, 1)))
    report = summarize(sessions, plans, first_day=first, now=local(first, 23) + timedelta(6))
    assert counts(report) == {
        ROUTINE_ENTRY: (4, 4),
        "toe-presses": (7 * 3 - 4, 7 * 3 - 4),
        "toe-walking": (7 * 2 - 4, 7 * 2 - 4),
    }


def test_changed_schedule_keeps_the_old_plan(routine: Routine) -> None:
    """From day 4 the routine is every 3 days and toe presses twice a day."""
    presses = routine.exercises[0].model_copy(update={"times_per_day": 2})
    every3 = routine.schedule.model_copy(
        update={"every_days": routine.schedule.every_days.model_copy(update={"min": 3, "max": 3})}
    )
    later = routine.model_copy(
        update={"schedule": every3, "exercises": (presses, *routine.exercises[1:])}
    )
    change = local(FIRST + timedelta(days=4), 0)
    plans = [Plan(routine, since=local(FIRST, 0)), Plan(later, since=change)]
    report = summarize([], plans, first_day=FIRST, now=local(FIRST, 23) + timedelta(days=7))
    # routine: days 0, 2 (every 2), then days 6 (every 3 from day 0); days 0-7
    # presses: days 0-3 at 3 a day less 2 routine days = 10, days 4-7 at 2 a day less 1 = 7
    assert counts(report) == {ROUTINE_ENTRY: (0, 3), "toe-presses": (0, 17), "toe-walking": (0, 13)}


def test_plans_in_store(tmp_path: Path, routine: Routine) -> None:
    """Each push of a changed routine starts a plan; a re-push does not; the calendar's day wins."""
    _, text = load_routine_and_text("foot-care")
    changed = text.replace('times = ["18:00"]', 'times = ["19:00"]')
    assert changed != text
    t0 = local(FIRST, 10)
    with Store.open(tmp_path / "w.db") as store:
        assert plans_in_store(store, routine, now=t0)[1] == [Plan(routine, since=t0)]
        store.remember_device("AA", "watch", "wearsync-timer")
        store.record_push("AA", "h1", "foot-care", text, at=t0)
        store.record_push("AA", "h1", "foot-care", text, at=t0 + timedelta(days=1))
        store.record_push("AA", "h2", "foot-care", changed, at=t0 + timedelta(days=3))
        first_day, plans = plans_in_store(store, routine, now=t0 + timedelta(days=5))
        assert first_day == FIRST
        assert [p.since for p in plans] == [t0, t0 + timedelta(days=3)]
        assert [p.routine.schedule.times for p in plans] == [(time(18),), (time(19),)]
        store.set_setting("calendar.start.foot-care", "2026-03-01")
        assert plans_in_store(store, routine, now=t0)[0] == date(2026, 3, 1)
