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
    # Each plan's zone and interval worked out once: this runs over a year of occurrences and
    # thousands of sessions on every feed rebuild.
    info = [
        (p.since, p.routine, p.routine.schedule.zone, interval_days(p.routine.schedule))
        for p in plans
    ]

    def bucket_at(entry: str, moment: datetime, local_day: date | None) -> tuple[Bucket, Routine]:
        chosen = info[0]
        for item in info:
            if item[0] is None or item[0] <= moment:
                chosen = item
        _since, routine, zone, every = chosen
        day = local_day if local_day is not None else moment.astimezone(zone).date()
        if entry == ROUTINE_ENTRY:
            return (entry, interval_start(day, first_day, every)), routine
        return (entry, day), routine

    by_bucket: dict[Bucket, list[Occurrence]] = defaultdict(list)
    routines: dict[Bucket, Routine] = {}
    for o in occurrences:
        key, routine = bucket_at(o.entry, o.at, o.day)
        by_bucket[key].append(o)
        routines.setdefault(key, routine)
    starts: dict[Bucket, list[datetime]] = defaultdict(list)
    for entry, start in done:
        key, _routine = bucket_at(entry, start, None)
        if key in by_bucket:
            starts[key].append(start)
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
