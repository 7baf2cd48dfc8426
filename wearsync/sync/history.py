"""What was done, per day, and adherence against what the schedule planned.

Adherence counts, per entry (the whole routine, and each exercise done several times a day),
the occurrences :mod:`wearsync.routine.occurrences` planned in the window against those done:
"routine: 4 of 5; toe presses: 31 of 36; toe walking: 20 of 24". The routine and the daily
repeats are counted separately; on a routine day the routine stands for the repeat slot the
schedule dropped, so that slot is not in the repeat's plan.

**What is planned.** Only occurrences from the schedule's first day on, and from the first push
of the routine on (a plan did not exist before the watch had it), up to now. The plan in force
at a time is the routine pushed last before it (:class:`~wearsync.routine.occurrences.Plan`),
so changing the schedule never rewrites earlier days.

**Which occurrence a session counts for** is decided by
:func:`wearsync.routine.adherence.match_sessions`, the rule the calendar's done/missed marks use
too: a session counts for an occurrence of its entry in its *bucket* (for a daily repeat, its
local day; for the whole routine, its interval: the routine day and the ``every_days - 1`` days
after it), and a bucket counts at most as many sessions as it has occurrences. An occurrence
not yet due counts as planned only once a session was done for it (done early). Completed
sessions count, even with skipped exercises (``partial``); aborted and interrupted sessions are
listed but not counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel

from wearsync.errors import RoutineError
from wearsync.records import DONE_STATUSES, SessionRecord, SessionStatus
from wearsync.routine.adherence import Mark, match_sessions
from wearsync.routine.loader import parse_routine
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import ROUTINE_ENTRY, Plan, planned
from wearsync.store import Store
from wearsync.sync.first_day import kept_first_day


class DaySessions(BaseModel):
    """The sessions of one local day."""

    day: date
    sessions: list[SessionRecord]


class EntryAdherence(BaseModel):
    """Planned and done occurrences of one entry in the window."""

    entry: str
    name: str
    planned: int
    done: int


class HistoryReport(BaseModel):
    """The result of ``wearsync history``."""

    window_days: int
    since: date
    until: date
    first_day: date
    timezone: str
    planned: int
    """Occurrences planned in the window, all entries together."""
    done: int
    """Occurrences done in the window, all entries together."""
    aborted: int
    interrupted: int
    exercises_done: int
    exercises_skipped: int
    entries: list[EntryAdherence]
    days: list[DaySessions]

    @property
    def adherence(self) -> float:
        """Occurrences done over occurrences planned (0 when nothing was planned)."""
        return self.done / self.planned if self.planned else 0.0


def summarize(
    sessions: list[SessionRecord],
    plans: Sequence[Plan],
    *,
    first_day: date,
    now: datetime,
    window_days: int = 30,
) -> HistoryReport:
    """Report the sessions of the last ``window_days`` local days up to ``now``.

    Args:
        sessions: stored sessions, any order.
        plans: the routine as pushed over time, oldest first (at least one).
        first_day: the schedule's first day.
        now: the end of the window (aware).
        window_days: local days in the window, today included.
    """
    current = plans[-1].routine
    zone = current.schedule.zone
    until = now.astimezone(zone).date()
    since = until - timedelta(days=window_days - 1)
    by_day: dict[date, list[SessionRecord]] = defaultdict(list)
    for session in sessions:
        day = session.started_at.astimezone(zone).date()
        if since <= day <= until:
            by_day[day].append(session)
    in_window = [s for day in sorted(by_day) for s in by_day[day]]
    entries = _adherence(sessions, plans, first_day, since, until, now)
    return HistoryReport(
        window_days=window_days,
        since=since,
        until=until,
        first_day=first_day,
        timezone=current.schedule.timezone,
        planned=sum(e.planned for e in entries),
        done=sum(e.done for e in entries),
        aborted=sum(1 for s in in_window if s.status is SessionStatus.ABORTED),
        interrupted=sum(1 for s in in_window if s.status is SessionStatus.INTERRUPTED),
        exercises_done=sum(1 for s in in_window for e in s.exercises if e.status == "done"),
        exercises_skipped=sum(1 for s in in_window for e in s.exercises if e.status == "skipped"),
        entries=entries,
        days=[DaySessions(day=day, sessions=by_day[day]) for day in sorted(by_day)],
    )


def _adherence(
    sessions: list[SessionRecord],
    plans: Sequence[Plan],
    first_day: date,
    since: date,
    until: date,
    now: datetime,
) -> list[EntryAdherence]:
    zone = plans[-1].routine.schedule.zone
    start = datetime.combine(since, time(0), tzinfo=zone) - timedelta(days=1)
    end = datetime.combine(until + timedelta(days=2), time(0), tzinfo=zone)
    found = [
        o
        for o in planned(plans, first_day=first_day, start=start, end=end)
        if since <= o.day <= until
    ]
    done = [(s.entry, s.started_at) for s in sessions if s.status in DONE_STATUSES]
    planned_n: Counter[str] = Counter()
    done_n: Counter[str] = Counter()
    for m in match_sessions(plans, found, done, first_day=first_day, now=now):
        planned_n[m.occurrence.entry] += m.counted
        done_n[m.occurrence.entry] += m.mark is Mark.DONE
    return [
        EntryAdherence(
            entry=entry,
            name=_name(plans[-1].routine, entry),
            planned=planned_n[entry],
            done=done_n[entry],
        )
        for entry in _entries(plans)
    ]


def _entries(plans: Sequence[Plan]) -> list[str]:
    found = [ROUTINE_ENTRY]
    for plan in plans:
        for ex in plan.routine.exercises:
            if ex.times_per_day > 1 and ex.id not in found:
                found.append(ex.id)
    return found


def _name(routine: Routine, entry: str) -> str:
    if entry == ROUTINE_ENTRY:
        return "routine"
    try:
        return routine.exercise(entry).name.lower()
    except KeyError:
        return entry


def routine_plans(store: Store, current: Routine, *, now: datetime) -> list[Plan]:
    """The routine's plans over time, as the store knows them: each push of a changed routine
    starts a plan; a routine never pushed plans from ``now`` on with ``current``.

    Args:
        store: the database.
        current: the routine as it is now (used when it was never pushed).
        now: the current time (aware).
    """
    plans: list[Plan] = []
    for pushed_at, text in store.routine_pushes(current.name):
        try:
            routine = parse_routine(text, source=f"push of {current.name}")
        except RoutineError:  # a damaged stored text must not hide the other plans
            continue
        if plans and routine == plans[-1].routine:
            continue
        plans.append(Plan(routine, since=pushed_at.astimezone(UTC)))
    return plans or [Plan(current, since=now)]


def plans_in_store(store: Store, current: Routine, *, now: datetime) -> tuple[date, list[Plan]]:
    """The schedule's first day and :func:`routine_plans`.

    The first day is the calendar's (:mod:`wearsync.sync.first_day`), else the local day of
    the routine's first push, else today.
    """
    plans = routine_plans(store, current, now=now)
    zone = plans[0].routine.schedule.zone
    first_since = plans[0].since
    assert first_since is not None
    kept = kept_first_day(store, current.name)
    return kept or first_since.astimezone(zone).date(), plans
