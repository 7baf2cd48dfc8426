"""The schedule's occurrences: routine days, daily repeats, no double booking, DST, changes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from wearsync.routine import Routine, load_routine
from wearsync.routine.occurrences import (
    ROUTINE_ENTRY,
    Plan,
    daily_slots,
    day_occurrences,
    entry_ids,
    interval_start,
    occurrences,
    planned,
    wall_time,
)

LONDON = ZoneInfo("Europe/London")
FIRST = date(2026, 3, 2)


@pytest.fixture(scope="module")
def routine() -> Routine:
    return load_routine("foot-care")


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=LONDON)


def test_entries_are_the_routine_and_the_repeated_exercises(routine: Routine) -> None:
    assert entry_ids(routine) == (ROUTINE_ENTRY, "toe-presses", "toe-walking")


def test_routine_day_drops_the_repeat_nearest_the_routine(routine: Routine) -> None:
    """18:00 routine: toe presses keep 08:00 and 13:00, toe walking (08:00, 13:00) keeps 08:00."""
    got = [(o.entry, o.local.time()) for o in day_occurrences(routine, FIRST, FIRST)]
    assert got == [
        ("toe-presses", time(8)),
        ("toe-walking", time(8)),
        ("toe-presses", time(13)),
        (ROUTINE_ENTRY, time(18)),
    ]
    # nothing else is booked at the routine's time
    assert [o.entry for o in day_occurrences(routine, FIRST, FIRST) if o.local.hour == 18] == [
        ROUTINE_ENTRY
    ]


def test_daily_slots_say_which_one_a_routine_day_drops(routine: Routine) -> None:
    """What a watch planning by itself carries: each daily time, and whether the routine
    stands for it on routine days; the same days as day_occurrences plans."""
    assert daily_slots(routine, 3) == [(time(8), False), (time(13), False), (time(18), True)]
    assert daily_slots(routine, 2) == [(time(8), False), (time(13), True)]
    for day, routine_day in ((FIRST, True), (FIRST + timedelta(days=1), False)):
        planned_times = [
            o.local.time().replace(tzinfo=None)
            for o in day_occurrences(routine, day, FIRST)
            if o.entry == "toe-presses"
        ]
        assert planned_times == [
            t for t, off in daily_slots(routine, 3) if not (routine_day and off)
        ]


def test_off_day_has_every_repeat_and_no_routine(routine: Routine) -> None:
    off = FIRST + timedelta(days=1)
    got = Counter(o.entry for o in day_occurrences(routine, off, off - timedelta(days=1)))
    assert got == {"toe-presses": 3, "toe-walking": 2}


def test_a_week_counts(routine: Routine) -> None:
    """Every 2 days from Monday: routine Mon, Wed, Fri, Sun (4); presses 3/day less 4; walks."""
    week = occurrences(
        routine, first_day=FIRST, start=at(FIRST, 0), end=at(FIRST, 0) + timedelta(7)
    )
    got = Counter(o.entry for o in week)
    assert got == {ROUTINE_ENTRY: 4, "toe-presses": 21 - 4, "toe-walking": 14 - 4}
    assert [o.at for o in week] == sorted(o.at for o in week)
    assert all(o.at.tzinfo is UTC and o.at == o.local for o in week)


def test_nothing_before_the_first_day(routine: Routine) -> None:
    got = occurrences(
        routine, first_day=FIRST, start=at(FIRST, 0) - timedelta(days=10), end=at(FIRST, 9)
    )
    assert [(o.entry, o.local) for o in got] == [
        ("toe-presses", at(FIRST, 8)),
        ("toe-walking", at(FIRST, 8)),
    ]


def test_window_is_half_open(routine: Routine) -> None:
    got = occurrences(routine, first_day=FIRST, start=at(FIRST, 8), end=at(FIRST, 13))
    assert [o.local.time() for o in got] == [time(8), time(8)]


def test_dst_week_keeps_wall_times(routine: Routine) -> None:
    """London goes to BST on Sunday 2026-03-29: 18:00 stays 18:00, the UTC time moves."""
    before, after = date(2026, 3, 28), date(2026, 3, 30)
    first = date(2026, 3, 28)
    sat = [o for o in day_occurrences(routine, before, first) if o.entry == ROUTINE_ENTRY]
    mon = [o for o in day_occurrences(routine, after, first) if o.entry == ROUTINE_ENTRY]
    assert sat[0].at == datetime(2026, 3, 28, 18, tzinfo=UTC)
    assert mon[0].at == datetime(2026, 3, 30, 17, tzinfo=UTC)
    assert sat[0].local.time() == mon[0].local.time() == time(18)


def test_nonexistent_time_shifts_forward_and_ambiguous_takes_the_first() -> None:
    gap = wall_time(date(2026, 3, 29), time(1, 30), LONDON)
    assert gap.time() == time(2, 30)
    assert gap.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    fold = wall_time(date(2026, 10, 25), time(1, 30), LONDON)
    assert fold.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # BST, the first


def test_interval_start() -> None:
    assert interval_start(FIRST + timedelta(days=3), FIRST, 2) == FIRST + timedelta(days=2)
    assert interval_start(FIRST, FIRST, 2) == FIRST


def test_changed_schedule_keeps_earlier_plan(routine: Routine) -> None:
    """Moving the routine to 19:00 on day 4 leaves days 0-3 at 18:00."""
    schedule = routine.schedule.model_copy(update={"times": (time(19),)})
    later = routine.model_copy(update={"schedule": schedule})
    change = at(FIRST + timedelta(days=4), 0)
    got = planned(
        [Plan(routine), Plan(later, since=change)],
        first_day=FIRST,
        start=at(FIRST, 0),
        end=at(FIRST, 0) + timedelta(days=8),
    )
    times = [(o.day, o.local.time()) for o in got if o.entry == ROUTINE_ENTRY]
    assert times == [
        (FIRST, time(18)),
        (FIRST + timedelta(days=2), time(18)),
        (FIRST + timedelta(days=4), time(19)),
        (FIRST + timedelta(days=6), time(19)),
    ]
