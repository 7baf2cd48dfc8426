"""What was done, per day, and adherence against the schedule. Pure: sessions in, report out.

Adherence counts the sessions the schedule planned in a window against those done. A routine
"every 2-3 days" plans one session per ``every_days.min`` days (the more frequent end: the plan
a person aims for), so 30 days plan 15 sessions. A session counts as done when it completed,
even with skipped exercises (``partial``); aborted and interrupted sessions are listed but not
counted.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from pydantic import BaseModel

from wearsync.records import SessionRecord, SessionStatus
from wearsync.routine.model import RangePick, Schedule

DONE_STATUSES = frozenset({SessionStatus.COMPLETED, SessionStatus.PARTIAL})


class DaySessions(BaseModel):
    """The sessions of one local day."""

    day: date
    sessions: list[SessionRecord]


class HistoryReport(BaseModel):
    """The result of ``wearsync history``."""

    window_days: int
    since: date
    until: date
    timezone: str
    planned: int
    done: int
    aborted: int
    interrupted: int
    exercises_done: int
    exercises_skipped: int
    days: list[DaySessions]

    @property
    def adherence(self) -> float:
        """Sessions done over sessions planned (0 when nothing was planned)."""
        return self.done / self.planned if self.planned else 0.0


def summarize(
    sessions: list[SessionRecord], schedule: Schedule, *, now: datetime, window_days: int = 30
) -> HistoryReport:
    """Report the sessions of the last ``window_days`` local days up to ``now``."""
    zone = schedule.zone
    until = now.astimezone(zone).date()
    since = until - timedelta(days=window_days - 1)
    by_day: dict[date, list[SessionRecord]] = defaultdict(list)
    for session in sessions:
        day = session.started_at.astimezone(zone).date()
        if since <= day <= until:
            by_day[day].append(session)
    in_window = [s for day in sorted(by_day) for s in by_day[day]]
    interval = int(schedule.every_days.pick(RangePick.MIN))
    return HistoryReport(
        window_days=window_days,
        since=since,
        until=until,
        timezone=schedule.timezone,
        planned=window_days // interval,
        done=sum(1 for s in in_window if s.status in DONE_STATUSES),
        aborted=sum(1 for s in in_window if s.status is SessionStatus.ABORTED),
        interrupted=sum(1 for s in in_window if s.status is SessionStatus.INTERRUPTED),
        exercises_done=sum(1 for s in in_window for e in s.exercises if e.status == "done"),
        exercises_skipped=sum(1 for s in in_window for e in s.exercises if e.status == "skipped"),
        days=[DaySessions(day=day, sessions=by_day[day]) for day in sorted(by_day)],
    )
