"""The schedule as recurring events, parsed back with icalendar and expanded with
recurring-ical-events; expected occurrences are computed here by plain date arithmetic."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events

from tests.calendar.factories import NOW, events, foot_care, foot_care_with, parse
from wearsync.calendar.export import ExportOptions, build_calendar
from wearsync.calendar.schedule import ScheduleOptions
from wearsync.calendar.uids import exercise_uid, routine_uid
from wearsync.errors import InputError
from wearsync.routine import RangePick, Routine
from wearsync.store import CalendarLedger, Store

LONDON = ZoneInfo("Europe/London")
FIRST_DAY = date(2025, 2, 14)
URL = "http://127.0.0.1:8765/"

# Durations worked out by hand from foot-care.toml (1 s per count, 5 s to prepare, 15 s between
# exercises, 5 s to switch sides, releases as given, rests at the range's maximum):
#   toe presses alone: 5 + 10 x (3 + 2) = 55 s
#   toe walking alone: 5 + 6 x 20 + 5 x 15 = 200 s
#   the whole routine: 9 min 20 s (what 'wearsync routine show' reports)
TOE_PRESSES_S = 55
TOE_WALKING_S = 200
ROUTINE_S = 9 * 60 + 20
# Published in whole minutes, rounded up so that the plan always fits (calcurse and other
# minute-based clients reject an end at 08:00:55).
TOE_PRESSES_MIN, TOE_WALKING_MIN, ROUTINE_MIN = 1, 4, 10


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[CalendarLedger]:
    with Store.open(tmp_path / "wearsync.db") as store:
        yield store.calendar_ledger()


def export(
    routine: Routine, ledger: CalendarLedger, schedule: ScheduleOptions | None = None
) -> bytes:
    options = ExportOptions(schedule=schedule or ScheduleOptions(), url=URL)
    return build_calendar(
        routine, [], start=FIRST_DAY, ledger=ledger, now=NOW, options=options
    ).body


def every(days: int, at: time, start: datetime, end: datetime, *, offset: int = 0) -> set[datetime]:
    """Wall-clock ``at`` in London on FIRST_DAY (+ ``offset`` days) and every ``days`` days
    after, in [start, end)."""
    found = set()
    day = FIRST_DAY + timedelta(days=offset)
    while True:
        moment = datetime(day.year, day.month, day.day, at.hour, at.minute, tzinfo=LONDON)
        if moment >= end:
            return found
        if moment >= start:
            found.add(moment)
        day += timedelta(days=days)


def occurrences(body: bytes, start: datetime, end: datetime) -> dict[str, list[datetime]]:
    by_uid: dict[str, list[datetime]] = defaultdict(list)
    for occurrence in recurring_ical_events.of(parse(body)).between(start, end):
        by_uid[str(occurrence["UID"])].append(occurrence["DTSTART"].dt)
    return by_uid


def as_utc(moments: set[datetime] | list[datetime]) -> set[datetime]:
    return {m.astimezone(UTC) for m in moments}


WINDOWS = {
    # Two months each, across the change to summer time (30 March 2025, 01:00 UTC) and back
    # (26 October 2025, 01:00 UTC).
    "spring": (datetime(2025, 3, 1, tzinfo=LONDON), datetime(2025, 5, 1, tzinfo=LONDON)),
    "autumn": (datetime(2025, 10, 1, tzinfo=LONDON), datetime(2025, 12, 1, tzinfo=LONDON)),
}


@pytest.mark.parametrize("window", sorted(WINDOWS))
def test_occurrences_match_the_schedule_exactly(window: str, ledger: CalendarLedger) -> None:
    start, end = WINDOWS[window]
    found = occurrences(export(foot_care(), ledger), start, end)
    expected = {
        routine_uid("foot-care", 1): every(2, time(18), start, end),
        exercise_uid("foot-care", "toe-presses", 1): every(1, time(8), start, end),
        exercise_uid("foot-care", "toe-presses", 2): every(1, time(13), start, end),
        # The 18:00 routine stands for the third toe presses on routine days, and for the
        # second toe walking (13:00 is the nearest of its slots): those are planned on the
        # days between routine days only.
        exercise_uid("foot-care", "toe-presses", 3): every(2, time(18), start, end, offset=1),
        exercise_uid("foot-care", "toe-walking", 1): every(1, time(8), start, end),
        exercise_uid("foot-care", "toe-walking", 2): every(2, time(13), start, end, offset=1),
    }
    assert set(found) == set(expected)
    for uid, moments in expected.items():
        assert len(found[uid]) == len(moments), uid
        assert as_utc(found[uid]) == as_utc(moments), uid
    assert len(expected[routine_uid("foot-care", 1)]) in (30, 31)
    assert len(expected[exercise_uid("foot-care", "toe-presses", 1)]) in (61, 62)


@pytest.mark.parametrize(
    ("window", "change"),
    [
        ("spring", datetime(2025, 3, 30, 1, tzinfo=UTC)),
        ("autumn", datetime(2025, 10, 26, 1, tzinfo=UTC)),
    ],
)
def test_wall_time_stays_18_00_while_the_utc_offset_switches(
    window: str, change: datetime, ledger: CalendarLedger
) -> None:
    start, end = WINDOWS[window]
    found = occurrences(export(foot_care(), ledger), start, end)
    routine_days = sorted(found[routine_uid("foot-care", 1)])
    summer, winter = timedelta(hours=1), timedelta(0)
    before, after = (winter, summer) if window == "spring" else (summer, winter)
    offsets = set()
    for moment in routine_days:
        local = moment.astimezone(LONDON)
        assert local.time() == time(18, 0)
        offset = local.utcoffset()
        assert offset == (before if moment < change else after)
        assert moment.astimezone(UTC).hour == (17 if offset == summer else 18)
        offsets.add(offset)
    assert offsets == {before, after}


def test_durations_come_from_the_compiled_program(ledger: CalendarLedger) -> None:
    start, end = WINDOWS["spring"]
    lengths: dict[str, set[timedelta]] = defaultdict(set)
    for occurrence in recurring_ical_events.of(parse(export(foot_care(), ledger))).between(
        start, end
    ):
        lengths[str(occurrence["UID"])].add(occurrence["DTEND"].dt - occurrence["DTSTART"].dt)
    assert lengths[routine_uid("foot-care", 1)] == {timedelta(minutes=ROUTINE_MIN)}
    for slot in (1, 2, 3):
        uid = exercise_uid("foot-care", "toe-presses", slot)
        assert lengths[uid] == {timedelta(minutes=TOE_PRESSES_MIN)}
    for slot in (1, 2):
        uid = exercise_uid("foot-care", "toe-walking", slot)
        assert lengths[uid] == {timedelta(minutes=TOE_WALKING_MIN)}
    for minutes, seconds in (
        (ROUTINE_MIN, ROUTINE_S),
        (TOE_PRESSES_MIN, TOE_PRESSES_S),
        (TOE_WALKING_MIN, TOE_WALKING_S),
    ):
        assert (minutes - 1) * 60 < seconds <= minutes * 60  # rounded up, never shortened
    assert b"T080055" not in export(foot_care(), ledger)


def test_events_carry_summary_description_alarm_url_and_timezone(
    ledger: CalendarLedger,
) -> None:
    body = export(foot_care(), ledger)
    text = body.decode()
    assert "DTSTART;TZID=Europe/London:20250214T180000" in text
    cal = parse(body)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
    by_uid = events(body)
    routine_event = by_uid[routine_uid("foot-care", 1)]
    assert str(routine_event["SUMMARY"]) == foot_care().title
    description = str(routine_event["DESCRIPTION"])
    for line in (
        "1. Toe Presses: hold 3 counts, release 2 s x 10 reps (0:50); 3 times a day",
        "2. Toe Walking: work 20 s, rest 10-15 s x 6 reps (3:15); 2 times a day",
        "4. Resisted Flexion: hold 5 counts, release 2 s x 10 reps (1:10)",
        "   Equipment: exercise band, sturdy chair or bedpost",
        "Every 2 days at 18:00 (Europe/London); about 9:20 with transitions.",
    ):
        assert line in description.splitlines()
    # The page is linked once, from the calendar; events carry no URL, so that serving on
    # another port changes no event.
    assert "URL" not in routine_event and str(cal["URL"]) == URL
    assert routine_event["RRULE"]["FREQ"] == ["DAILY"] and routine_event["RRULE"]["INTERVAL"] == [2]
    alarms = routine_event.walk("VALARM")
    assert len(alarms) == 1
    assert alarms[0]["TRIGGER"].dt == timedelta(minutes=-10)
    assert str(alarms[0]["ACTION"]) == "DISPLAY"
    presses = by_uid[exercise_uid("foot-care", "toe-presses", 2)]
    assert str(presses["SUMMARY"]) == "Toe Presses (2 of 3 today)"
    assert "hold 3 counts, release 2 s x 10 reps" in str(presses["DESCRIPTION"])
    assert "Grip the floor with your toes" in str(presses["DESCRIPTION"])
    # Only exercises done several times a day get events of their own.
    assert not [u for u in by_uid if "ankle-circles" in u]


def test_the_calendar_has_refresh_hints_and_names(ledger: CalendarLedger) -> None:
    body = export(foot_care(), ledger)
    lines = body.decode().split("\r\n")
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert "X-PUBLISHED-TTL:PT1H" in lines
    assert "VERSION:2.0" in lines
    cal = parse(body)
    assert cal.refresh_interval == timedelta(hours=1)
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/London"
    assert str(cal["PRODID"]).startswith("-//wearsync//")


def test_every_days_picks_and_overrides(ledger: CalendarLedger) -> None:
    start, end = WINDOWS["spring"]
    uid = routine_uid("foot-care", 1)
    widest = export(foot_care(), ledger, ScheduleOptions(every_pick=RangePick.MAX))
    assert as_utc(occurrences(widest, start, end)[uid]) == as_utc(every(3, time(18), start, end))
    forced = export(foot_care(), ledger, ScheduleOptions(every_days=4))
    assert as_utc(occurrences(forced, start, end)[uid]) == as_utc(every(4, time(18), start, end))
    chosen = foot_care_with(
        "every_days = { min = 2, max = 3 }", "every_days = { min = 2, max = 3, use = 3 }"
    )
    body = export(chosen, ledger)
    assert as_utc(occurrences(body, start, end)[uid]) == as_utc(every(3, time(18), start, end))


def test_times_from_the_routine_file_and_from_options(ledger: CalendarLedger) -> None:
    start, end = WINDOWS["autumn"]
    changed = foot_care_with('times = ["18:00"]', 'times = ["07:30", "19:15"]')
    changed = changed.model_copy(
        update={
            "schedule": changed.schedule.model_copy(
                update={"daily_times": (time(9, 5), time(12), time(21, 45))}
            )
        }
    )
    found = occurrences(export(changed, ledger), start, end)
    assert as_utc(found[routine_uid("foot-care", 1)]) == as_utc(every(2, time(7, 30), start, end))
    assert as_utc(found[routine_uid("foot-care", 2)]) == as_utc(every(2, time(19, 15), start, end))
    # Routine days: 07:30 stands for the nearest slot (09:05), 19:15 for 21:45; 12:00 stays.
    assert as_utc(found[exercise_uid("foot-care", "toe-presses", 2)]) == as_utc(
        every(1, time(12), start, end)
    )
    for slot, at in ((1, time(9, 5)), (3, time(21, 45))):
        assert as_utc(found[exercise_uid("foot-care", "toe-presses", slot)]) == as_utc(
            every(2, at, start, end, offset=1)
        )
    overridden = export(
        foot_care(), ledger, ScheduleOptions(daily_times=(time(6), time(14), time(22)))
    )
    found = occurrences(overridden, start, end)
    # The 18:00 routine is nearest to 14:00 (for toe presses a tie with 22:00: the earlier).
    for exercise in ("toe-walking", "toe-presses"):
        assert as_utc(found[exercise_uid("foot-care", exercise, 2)]) == as_utc(
            every(2, time(14), start, end, offset=1)
        )
    assert as_utc(found[exercise_uid("foot-care", "toe-presses", 3)]) == as_utc(
        every(1, time(22), start, end)
    )


def test_too_few_daily_times_is_an_input_error(ledger: CalendarLedger) -> None:
    with pytest.raises(InputError, match="toe-presses is done 3 times a day but only 2"):
        export(foot_care(), ledger, ScheduleOptions(daily_times=(time(8), time(20))))


def test_no_reminder_means_no_alarm(ledger: CalendarLedger) -> None:
    body = export(foot_care(), ledger, ScheduleOptions(reminder=None))
    assert b"BEGIN:VALARM" not in body
