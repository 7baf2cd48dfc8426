"""Which planned occurrence a done session satisfies: the one matching rule (pure).

Adherence (:mod:`wearsync.sync.history`) and the calendar's done/missed marks
(:mod:`wearsync.calendar.marks`) both call :func:`match_sessions`, so the count in
``wearsync history`` and the marks in the calendar agree occurrence by occurrence.

**Buckets.** A session counts for an occurrence of its entry in its *bucket*: for a daily repeat,
its local day; for the whole routine, its interval (the routine day and the ``every_days - 1``
days after it), so a routine done a day late, or earlier on the day, still counts for that
interval's occurrence. Day and interval are taken in the plan in force at the session's start
(for the session) and at the occurrence (for the occurrence). A bucket takes at most as many
sessions as it has occurrences; its done sessions satisfy its occurrences in time order (the
first session the first occurrence).

**States.** An occurrence is :attr:`Mark.DONE` when a session satisfies it (also before it is
due: done early), else :attr:`Mark.MISSED` once its bucket is over (the day or the interval has
ended: no later session can satisfy it), else :attr:`Mark.DUE` when its time has come, else
:attr:`Mark.PLANNED`. Adherence counts DONE, MISSED and DUE occurrences as planned, DONE ones
as done.

Callers pass only the sessions that count (completed, or ended normally with skipped
exercises: ``wearsync.records.DONE_STATUSES``) as ``(entry, start)`` pairs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from wearsync.routine.model import Routine
from wearsync.routine.occurrences import (
    ROUTINE_ENTRY,
    Occurrence,
    Plan,
    interval_days,
    interval_start,
    wall_time,
)

Bucket = tuple[str, date]
"""An entry and the first local day of its bucket."""


class Mark(StrEnum):
    """What became of one occurrence (see the module docstring)."""

    DONE = "done"
    MISSED = "missed"
    DUE = "due"
    PLANNED = "planned"


@dataclass(frozen=True)
class Matched:
    """One occurrence and what became of it.

    Attributes:
        occurrence: the planned occurrence.
        mark: done, missed, due or planned.
        done_at: the start of the session that satisfied it, when done.
        bucket_end: when its bucket ends (aware): after it, an occurrence not done is missed.
    """

    occurrence: Occurrence
    mark: Mark
    done_at: datetime | None
    bucket_end: datetime

    @property
    def counted(self) -> bool:
        """Whether adherence counts it as planned (done, missed or due)."""
        return self.mark is not Mark.PLANNED


def plan_at(plans: Sequence[Plan], moment: datetime) -> Routine:
    """The routine in force at ``moment``: the last plan whose ``since`` is at or before it."""
    chosen = plans[0].routine
    for plan in plans:
        if plan.since is None or plan.since <= moment:
            chosen = plan.routine
    return chosen


def bucket_of(entry: str, day: date, routine: Routine, first_day: date) -> Bucket:
    """The bucket of ``entry`` on local ``day`` under ``routine``'s schedule."""
    if entry == ROUTINE_ENTRY:
        return entry, interval_start(day, first_day, interval_days(routine.schedule))
    return entry, day


def _bucket_end(bucket: Bucket, routine: Routine) -> datetime:
    entry, first = bucket
    days = interval_days(routine.schedule) if entry == ROUTINE_ENTRY else 1
    return wall_time(first + timedelta(days=days), time(0), routine.schedule.zone)


def match_sessions(
    plans: Sequence[Plan],
    occurrences: Iterable[Occurrence],
    done: Iterable[tuple[str, datetime]],
    *,
    first_day: date,
    now: datetime,
) -> list[Matched]:
    """What became of each of ``occurrences``, given the sessions ``done``.

    Args:
        plans: the plans the occurrences come from (oldest first, at least one).
        occurrences: planned occurrences (any order; typically ``occurrences.planned(...)``).
        done: ``(entry, start)`` of every session that counts (any order, any window).
        first_day: the schedule's first day.
        now: the current time (aware): what is due and which buckets are over.

    Returns:
        One :class:`Matched` per occurrence, in time order.
    """
    by_bucket: dict[Bucket, list[Occurrence]] = defaultdict(list)
    routines: dict[Bucket, Routine] = {}
    for o in occurrences:
        routine = plan_at(plans, o.at)
        bucket = bucket_of(o.entry, o.day, routine, first_day)
        by_bucket[bucket].append(o)
        routines.setdefault(bucket, routine)
    starts: dict[Bucket, list[datetime]] = defaultdict(list)
    for entry, start in done:
        routine = plan_at(plans, start)
        day = start.astimezone(routine.schedule.zone).date()
        bucket = bucket_of(entry, day, routine, first_day)
        if bucket in by_bucket:
            starts[bucket].append(start)
    result: list[Matched] = []
    for bucket, found in by_bucket.items():
        found.sort()
        end = _bucket_end(bucket, routines[bucket])
        sessions = sorted(starts[bucket])
        for i, o in enumerate(found):
            if i < len(sessions):
                result.append(Matched(o, Mark.DONE, sessions[i], end))
            elif end <= now:
                result.append(Matched(o, Mark.MISSED, None, end))
            elif o.at <= now:
                result.append(Matched(o, Mark.DUE, None, end))
            else:
                result.append(Matched(o, Mark.PLANNED, None, end))
    return sorted(result, key=lambda m: m.occurrence)
