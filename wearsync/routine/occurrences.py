"""One schedule, one set of occurrences: when each entry of a routine is planned (pure).

An *entry* is something the wearer starts on its own: the whole routine (:data:`ROUTINE_ENTRY`)
or an exercise done several times a day (``times_per_day`` > 1; its exercise id). The whole
routine is planned every ``every_days`` days (the range's minimum, the plan a person aims for)
from the schedule's first day, at each of ``schedule.times``; a repeated exercise is planned
every day at the first ``times_per_day`` of ``schedule.daily_times``.

**No double booking.** On a routine day the routine counts as one of the day's repeats of each
exercise it contains, so for each routine time the repeat slot nearest to it (the earlier one
on a tie) is dropped: with the foot routine at 18:00, toe presses are planned at 08:00 and
13:00 on routine days (the 18:00 routine does the third), at 08:00, 13:00 and 18:00 otherwise.

**Time zone.** Times are local wall-clock times in ``schedule.timezone`` and stay there across
daylight-saving changes (18:00 is 18:00 in winter and summer). A wall time that does not exist
on a day (the spring-forward gap) is shifted forward by the gap (01:30 becomes 02:30 in London
on the last Sunday of March); a wall time that happens twice (the autumn fold) is the first of
the two (the one at the summer offset). :attr:`Occurrence.local` is the wall time the wearer
sees after that rule, :attr:`Occurrence.at` the same instant in UTC.

The calendar export (``wearsync.calendar.schedule``: its recurring events expand to exactly
these occurrences, and a slot dropped on routine days is published only between them), the
watch's reminders and adherence use this same generator, so that they agree on what was
planned; :mod:`wearsync.routine.adherence` says which occurrence a session satisfies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wearsync.routine.model import RangePick, Routine, Schedule

ROUTINE_ENTRY = "routine"
"""The entry id of the whole routine (exercise entries use their exercise id)."""


@dataclass(frozen=True, order=True)
class Occurrence:
    """One planned start of an entry.

    Attributes:
        at: the instant, aware, in UTC (first, so occurrences sort in time order).
        entry: :data:`ROUTINE_ENTRY` or the id of an exercise done several times a day.
        local: the same instant as a wall time in the schedule's zone (aware).
        slot: which time of the day it is: the index into ``schedule.times`` for the routine,
            into ``schedule.daily_times`` for a repeated exercise.
    """

    at: datetime
    entry: str
    local: datetime
    slot: int

    @property
    def day(self) -> date:
        """The local day the occurrence belongs to."""
        return self.local.date()


@dataclass(frozen=True)
class Plan:
    """A routine as it was in force from ``since`` (its schedule, its exercises).

    ``since`` None means "from the first day on" (the first plan of a history).
    """

    routine: Routine
    since: datetime | None = None


def interval_days(schedule: Schedule) -> int:
    """Days between two planned routine days: ``every_days`` at its minimum."""
    return int(schedule.every_days.pick(RangePick.MIN))


def entry_ids(routine: Routine) -> tuple[str, ...]:
    """The routine's entries: the whole routine, then each exercise done several times a day.

    Raises:
        ValueError: a repeated exercise is called ``routine``, which would name two entries.
    """
    repeats = tuple(ex.id for ex in routine.exercises if ex.times_per_day > 1)
    if ROUTINE_ENTRY in repeats:
        raise ValueError(f"an exercise done several times a day cannot be called {ROUTINE_ENTRY!r}")
    return (ROUTINE_ENTRY, *repeats)


def is_routine_day(day: date, first_day: date, every: int) -> bool:
    """Whether ``day`` is a planned routine day of a routine every ``every`` days."""
    return day >= first_day and (day - first_day).days % every == 0


def interval_start(day: date, first_day: date, every: int) -> date:
    """The routine day whose interval (it and the ``every - 1`` days after it) holds ``day``."""
    return day - timedelta(days=(day - first_day).days % every)


def wall_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at local wall time ``at`` in ``zone``, by the module's DST rule (aware, local).

    The earlier offset (``fold=0``) resolves both cases: in a gap it maps past the gap, and in
    a fold it is the first of the two instants.
    """
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def minute_of(t: time) -> int:
    """The minute of the local day of wall time ``t``: what the watches plan by (§5.8)."""
    return t.hour * 60 + t.minute


def repeat_slots(routine: Routine, exercise_times: int, routine_day: bool) -> list[int]:
    """Indices into ``daily_times`` planned for an exercise done ``exercise_times`` a day.

    On a routine day the slot nearest each routine time is dropped (the routine does it).
    """
    schedule = routine.schedule
    slots = list(range(min(exercise_times, len(schedule.daily_times))))
    if routine_day:
        for rt in schedule.times:
            if not slots:
                break
            nearest = min(
                slots,
                key=lambda i: (abs(minute_of(schedule.daily_times[i]) - minute_of(rt)), i),
            )
            slots.remove(nearest)
    return slots


def daily_slots(routine: Routine, exercise_times: int) -> list[tuple[time, bool]]:
    """The daily times of an exercise done ``exercise_times`` a day, in slot order, each with
    whether it is dropped on routine days (the routine stands for it): what a watch that plans
    by itself needs to know (docs/protocol.md §5.8, docs/bangle.md)."""
    kept = set(repeat_slots(routine, exercise_times, routine_day=True))
    daily = routine.schedule.daily_times
    return [(daily[i], i not in kept) for i in range(min(exercise_times, len(daily)))]


def day_occurrences(routine: Routine, day: date, first_day: date) -> list[Occurrence]:
    """The occurrences of one local day, in time order (none before ``first_day``)."""
    if day < first_day:
        return []
    schedule = routine.schedule
    zone = schedule.zone
    routine_day = is_routine_day(day, first_day, interval_days(schedule))
    found: list[Occurrence] = []

    def add(entry: str, t: time, slot: int) -> None:
        local = wall_time(day, t, zone)
        found.append(Occurrence(at=local.astimezone(UTC), entry=entry, local=local, slot=slot))

    if routine_day:
        for slot, t in enumerate(schedule.times):
            add(ROUTINE_ENTRY, t, slot)
    entry_ids(routine)  # refuses an ambiguous entry id
    for ex in routine.exercises:
        if ex.times_per_day > 1:
            for slot in repeat_slots(routine, ex.times_per_day, routine_day):
                add(ex.id, schedule.daily_times[slot], slot)
    return sorted(found)


def occurrences(
    routine: Routine, *, first_day: date, start: datetime, end: datetime
) -> list[Occurrence]:
    """Every occurrence of ``routine`` with ``start <= at < end``, in time order.

    Args:
        routine: the routine whose schedule plans the entries.
        first_day: the schedule's first day (a routine day), in the schedule's zone.
        start: the window's start (aware).
        end: the window's end (aware, exclusive).
    """
    return planned([Plan(routine)], first_day=first_day, start=start, end=end)


def planned(
    plans: Sequence[Plan], *, first_day: date, start: datetime, end: datetime
) -> list[Occurrence]:
    """The occurrences of a changing schedule: each plan rules from its ``since`` to the next's.

    Earlier occurrences keep the plan that was in force at their time, so changing the routine
    never rewrites what was planned before. Every plan counts routine days from ``first_day``.

    Args:
        plans: the plans in ``since`` order; the first may have ``since`` None.
        first_day: the schedule's first day.
        start: the window's start (aware).
        end: the window's end (aware, exclusive).
    """
    found: list[Occurrence] = []
    for i, plan in enumerate(plans):
        lo = start if plan.since is None else max(start, plan.since)
        hi = end if i + 1 == len(plans) else min(end, _since(plans[i + 1]))
        if lo < hi:
            found.extend(o for o in _between(plan.routine, first_day, lo, hi) if lo <= o.at < hi)
    return sorted(found)


def _since(plan: Plan) -> datetime:
    if plan.since is None:
        raise ValueError("only the first plan may have no start")
    return plan.since


def _between(routine: Routine, first_day: date, lo: datetime, hi: datetime) -> Iterator[Occurrence]:
    zone = routine.schedule.zone
    # a day either side: a local day's wall times can fall outside its UTC date
    day = max(lo.astimezone(zone).date() - timedelta(days=1), first_day)
    last = hi.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        yield from day_occurrences(routine, day, first_day)
        day += timedelta(days=1)
