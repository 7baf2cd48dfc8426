"""The one rule for which occurrence a done session satisfies (``routine/adherence.py``), worked
out by hand for the foot routine (every 2 days at 18:00; toe presses at 08:00, 13:00 and, on
days between routine days, 18:00) in London in winter (UTC+0)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from wearsync.errors import RoutineError
from wearsync.routine.adherence import Mark, match_sessions
from wearsync.routine.loader import builtin_text, load_routine, parse_routine
from wearsync.routine.occurrences import Plan, occurrences, planned

FIRST = date(2026, 1, 5)  # a routine day; so are the 7th, 9th, ...
ROUTINE = load_routine("foot-care")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def marks(done: list[tuple[str, datetime]], now: datetime) -> dict[tuple[str, datetime], Mark]:
    found = occurrences(ROUTINE, first_day=FIRST, start=at(5, 0), end=at(11, 0))
    matched = match_sessions([Plan(ROUTINE)], found, done, first_day=FIRST, now=now)
    assert [m.occurrence for m in matched] == sorted(found)
    return {(m.occurrence.entry, m.occurrence.at): m.mark for m in matched}


def test_the_routine_counts_in_its_interval_once() -> None:
    now = at(10, 12)
    got = marks([("routine", at(6, 9)), ("routine", at(7, 18, 5)), ("routine", at(8, 7))], now)
    assert got["routine", at(5, 18)] is Mark.DONE  # done the next morning
    assert got["routine", at(7, 18)] is Mark.DONE
    # The third session is in the 7th's interval too, which has one occurrence: it counts for
    # nothing, not for the 9th.
    assert got["routine", at(9, 18)] is Mark.DUE  # its interval (9th-10th) is still open
    assert marks([], at(11, 0))["routine", at(9, 18)] is Mark.MISSED


def test_daily_repeats_count_per_day_in_time_order_also_early() -> None:
    done = [("toe-presses", at(6, 7)), ("toe-presses", at(6, 7, 10)), ("toe-presses", at(6, 7, 20))]
    done += [("toe-presses", at(6, 7, 30))]  # a fourth on a day of three: counts for nothing
    done += [("toe-presses", at(8, 23))]
    got = marks(done, now=at(8, 12))
    for hour in (8, 13, 18):  # the 6th is between routine days: three slots
        assert got["toe-presses", at(6, hour)] is Mark.DONE
    assert got["toe-presses", at(7, 8)] is Mark.MISSED
    assert ("toe-presses", at(7, 18)) not in got  # the routine stands for it on the 7th
    assert got["toe-presses", at(8, 8)] is Mark.DONE  # done later (and after now) that day
    assert got["toe-presses", at(8, 13)] is Mark.PLANNED
    assert got["toe-presses", at(9, 8)] is Mark.PLANNED


def test_an_earlier_plan_decides_its_own_buckets() -> None:
    # Every 3 days until the 8th at noon, then every 2 days: the session of the 6th belongs to
    # the interval starting on the 5th under the old plan.
    every3 = ROUTINE.model_copy(
        update={
            "schedule": ROUTINE.schedule.model_copy(
                update={"every_days": ROUTINE.schedule.every_days.model_copy(update={"min": 3})}
            )
        }
    )
    plans = [Plan(every3), Plan(ROUTINE, since=at(8, 12))]
    found = planned(plans, first_day=FIRST, start=at(5, 0), end=at(12, 0))
    routine_days = [o.at for o in found if o.entry == "routine"]
    assert routine_days == [at(5, 18), at(9, 18), at(11, 18)]
    matched = match_sessions(
        plans,
        found,
        [("routine", at(7, 9)), ("routine", at(10, 9))],
        first_day=FIRST,
        now=at(12, 0),
    )
    got = {m.occurrence.at: m.mark for m in matched if m.occurrence.entry == "routine"}
    assert got == {at(5, 18): Mark.DONE, at(9, 18): Mark.DONE, at(11, 18): Mark.DUE}
    assert all(m.bucket_end > m.occurrence.at for m in matched)
    assert timedelta(0) < min(m.bucket_end - m.occurrence.at for m in matched) <= timedelta(hours=6)


def test_a_repeated_exercise_called_routine_is_refused_when_loaded() -> None:
    """Its entry would be the whole routine's; the loader says so in one line (the calendar,
    adherence and reminders would otherwise stop on it later)."""
    text = builtin_text("foot-care").replace('id = "toe-presses"', 'id = "routine"', 1)
    with pytest.raises(RoutineError) as caught:
        parse_routine(text, "clash.toml")
    assert "cannot be called 'routine'" in str(caught.value)
    once = text.replace("times_per_day = 3", "times_per_day = 1", 1)
    assert parse_routine(once, "once.toml").exercises[0].id == "routine"
