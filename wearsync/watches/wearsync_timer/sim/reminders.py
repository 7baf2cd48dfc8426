"""When the watch reminds the wearer: the planned occurrences of a plan on its local clock (§5.9).

Pure: a :class:`~..codec.WirePlan` and a local wall time in, the next occurrence out. The watch
has no time-zone rules, only the offset the companion last wrote (Local Time Information), so
local time here is naive: UTC plus that offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from wearsync.watches.wearsync_timer.codec.plan import WirePlan, clock_of


@dataclass(frozen=True, order=True)
class PlannedTime:
    """One occurrence on the watch's local clock.

    Attributes:
        local: the local wall time (naive).
        entry: the wire entry number: 0 the whole routine, n entry n (§5.8).
    """

    local: datetime
    entry: int


def is_routine_day(plan: WirePlan, day: date) -> bool:
    """Whether local ``day`` is a routine day of ``plan`` (§5.8)."""
    return day >= plan.first_day and (day - plan.first_day).days % plan.every_days == 0


def day_times(plan: WirePlan, day: date) -> list[PlannedTime]:
    """The occurrences of local ``day``, in time order (entry 0 first at equal times)."""
    if day < plan.first_day:
        return []
    found: list[PlannedTime] = []
    routine_day = is_routine_day(plan, day)
    if routine_day:
        found += [PlannedTime(_at(day, m), 0) for m in plan.times]
    for number, entry in enumerate(plan.entries, start=1):
        for slot in entry.slots:
            if not (routine_day and slot.not_on_routine_days):
                found.append(PlannedTime(_at(day, slot.minute), number))
    return sorted(found)


def next_after(plan: WirePlan, local: datetime) -> list[PlannedTime]:
    """The occurrences at the first planned time strictly after local wall time ``local``
    (several entries may share a time); empty if nothing is planned any more."""
    day = max(local.date(), plan.first_day)
    for _ in range(plan.every_days + 1):
        later = [p for p in day_times(plan, day) if p.local > local]
        if later:
            return [p for p in later if p.local == later[0].local]
        day += timedelta(days=1)
    return []


def window_start(plan: WirePlan, planned: PlannedTime) -> datetime:
    """Since when a session of the entry cancels ``planned`` (§5.9): the entry's previous
    occurrence on the same local day, else the start of that day."""
    earlier = [
        p.local
        for p in day_times(plan, planned.local.date())
        if p.entry == planned.entry and p.local < planned.local
    ]
    return max(earlier, default=datetime.combine(planned.local.date(), time(0)))


def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, clock_of(minute))
