"""The calendar published from the occurrence generator: no double booking on routine days, the
generator's occurrences exactly, stable UIDs and SEQUENCE, and done/missed marks that follow
adherence's matching rule. Calendars are parsed back with icalendar and expanded with
recurring-ical-events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events

from tests.calendar.factories import foot_care, foot_care_with, overrides, parse, session
from wearsync.calendar.export import CalendarView, ExportedCalendar, ExportOptions, build_calendar
from wearsync.calendar.history import HistoryMode
from wearsync.calendar.publish import split_events
from wearsync.calendar.schedule import ScheduleOptions, effective_routine, plan_schedule
from wearsync.calendar.uids import exercise_uid, routine_uid
from wearsync.records import SessionRecord, SessionStatus
from wearsync.routine import Routine
from wearsync.routine.model import Range
from wearsync.routine.occurrences import Plan, occurrences, planned
from wearsync.store import CalendarLedger, Store
from wearsync.sync.history import summarize

LONDON = ZoneInfo("Europe/London")
FIRST_DAY = date(2026, 3, 2)  # a Monday; London moves to summer time on Sunday 29 March 2026
# Four weeks across the change to summer time.
WINDOW = (datetime(2026, 3, 16, tzinfo=LONDON), datetime(2026, 4, 13, tzinfo=LONDON))


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[CalendarLedger]:
    with Store.open(tmp_path / "wearsync.db") as store:
        yield store.calendar_ledger()


def build(
    routine: Routine,
    ledger: CalendarLedger,
    *,
    sessions: Sequence[SessionRecord] = (),
    now: datetime = datetime(2026, 3, 1, tzinfo=UTC),
    schedule: ScheduleOptions | None = None,
    plans: Sequence[Plan] | None = None,
    view: CalendarView = CalendarView.COMBINED,
    history: HistoryMode = HistoryMode.RECENT,
) -> ExportedCalendar:
    options = ExportOptions(schedule=schedule or ScheduleOptions(), view=view, history=history)
    return build_calendar(
        routine,
        sessions,
        start=FIRST_DAY,
        ledger=ledger,
        now=now,
        options=options,
        plans=plans,
    )


@dataclass(frozen=True)
class Seen:
    """One occurrence as a client sees it."""

    uid: str
    at: datetime
    summary: str
    alarms: int


def expand(body: bytes, start: datetime, end: datetime) -> list[Seen]:
    return sorted(
        (
            Seen(
                str(e["UID"]),
                e["DTSTART"].dt.astimezone(UTC),
                str(e["SUMMARY"]),
                len(e.walk("VALARM")),
            )
            for e in recurring_ical_events.of(parse(body)).between(start, end)
            if not str(e["UID"]).startswith(("session-", "summary-"))
        ),
        key=lambda s: (s.at, s.uid),
    )


def entry_of(uid: str, routine: Routine) -> str:
    """The generator's entry a published event stands for, read from its UID (a series, or a
    single marked occurrence of an earlier plan)."""
    if uid.startswith("routine-"):
        return "routine"
    entries = ["routine", *(ex.id for ex in routine.exercises)]
    found = [
        e
        for e in entries
        for kind in ("exercise", "occurrence")
        if uid.startswith(f"{kind}-{routine.name}-{e}-")
    ]
    assert len(found) == 1, uid
    return found[0]


def every_n(n: int) -> Routine:
    """The foot routine with every_days fixed at ``n`` in its file (not through the options)."""
    return foot_care_with(
        "every_days = { min = 2, max = 3 }", f"every_days = {{ min = {n}, max = {n} }}"
    )


def test_no_double_booking_at_18_00_on_routine_days(ledger: CalendarLedger) -> None:
    routine = foot_care()
    seen = expand(build(routine, ledger).body, *WINDOW)
    routine_days = {s.at for s in seen if s.uid == routine_uid("foot-care", 1)}
    assert len(routine_days) == 14
    at_18 = [s for s in seen if s.at.astimezone(LONDON).time() == time(18)]
    for moment in routine_days:
        # The routine holds the day's third toe presses: nothing else at 18:00.
        assert [s.uid for s in at_18 if s.at == moment] == [routine_uid("foot-care", 1)]
    # No exercise twice at one instant, counting the routine as every exercise it contains.
    inside = {ex.id for ex in routine.exercises}
    per_instant: Counter[tuple[datetime, str]] = Counter()
    for s in seen:
        entry = entry_of(s.uid, routine)
        for exercise in inside if entry == "routine" else {entry}:
            per_instant[s.at, exercise] += 1
    assert max(per_instant.values()) == 1
    # Toe presses three times every day: twice plus the routine on routine days.
    presses = Counter(
        s.at.astimezone(LONDON).date()
        for s in seen
        if entry_of(s.uid, routine) in ("routine", "toe-presses")
    )
    assert set(presses.values()) == {3} and len(presses) == 28
    # One alarm per occurrence.
    assert all(s.alarms == 1 for s in seen)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_published_events_expand_to_the_generators_occurrences(
    n: int, ledger: CalendarLedger
) -> None:
    published = foot_care()
    body = build(published, ledger, schedule=ScheduleOptions(every_days=n)).body
    seen = Counter((entry_of(s.uid, published), s.at) for s in expand(body, *WINDOW))
    planned = Counter(
        (o.entry, o.at)
        for o in occurrences(every_n(n), first_day=FIRST_DAY, start=WINDOW[0], end=WINDOW[1])
    )
    assert seen == planned
    assert max(seen.values()) == 1


def test_every_day_routine_drops_the_slots_it_stands_for(ledger: CalendarLedger) -> None:
    exported = build(foot_care(), ledger, schedule=ScheduleOptions(every_days=1))
    assert [e.uid for e in exported.schedule] == [
        routine_uid("foot-care", 1),
        exercise_uid("foot-care", "toe-presses", 1),
        exercise_uid("foot-care", "toe-presses", 2),
        exercise_uid("foot-care", "toe-walking", 1),
    ]


def test_every_three_days_the_dropped_slot_is_two_events(ledger: CalendarLedger) -> None:
    exported = build(foot_care(), ledger, schedule=ScheduleOptions(every_days=3))
    masters = {str(e["UID"]): e for e in parse(exported.body).walk("VEVENT")}
    for slot_uid, day in (
        (exercise_uid("foot-care", "toe-presses", 3), 1),
        (exercise_uid("foot-care", "toe-presses", 3, day=2), 2),
    ):
        event = masters[slot_uid]
        assert event["DTSTART"].dt == datetime(2026, 3, 2 + day, 18, tzinfo=LONDON)
        assert event["RRULE"]["FREQ"] == ["DAILY"] and event["RRULE"]["INTERVAL"] == [3]
        assert len(event.walk("VALARM")) == 1
        assert "Not on routine days" in str(event["DESCRIPTION"])
    assert "EXDATE" not in exported.body.decode() and "EXRULE" not in exported.body.decode()


def test_times_and_daily_times_options_feed_the_generator(ledger: CalendarLedger) -> None:
    options = ScheduleOptions(
        every_days=3, times=(time(7, 30), time(19, 15)), daily_times=(time(9), time(12), time(22))
    )
    body = build(foot_care(), ledger, schedule=options).body
    # The same schedule written in the routine file, built independently of the options.
    text = every_n(3).model_dump()
    text["schedule"].update(times=options.times, daily_times=options.daily_times)
    written = Routine.model_validate(text)
    planned = Counter(
        (o.entry, o.at)
        for o in occurrences(written, first_day=FIRST_DAY, start=WINDOW[0], end=WINDOW[1])
    )
    assert Counter((entry_of(s.uid, written), s.at) for s in expand(body, *WINDOW)) == planned
    # 07:30 stands for 09:00, 19:15 for 22:00: only 12:00 toe presses on routine days.
    routine_day = datetime(2026, 3, 17, tzinfo=LONDON)  # FIRST_DAY + 15
    assert [
        s.at.astimezone(LONDON).time()
        for s in expand(body, routine_day, routine_day + timedelta(days=1))
        if entry_of(s.uid, written) == "toe-presses"
    ] == [time(12)]


# What the previous version published for the events the change leaves alone (computed with
# it): a ledger it wrote keeps their SEQUENCE.
UNCHANGED_FINGERPRINTS = {
    "routine-foot-care-1-a870e0c08f@wearsync.invalid": (
        "94eb3fd2dd1409d93921e320b247619d1a7f5402198f155413e4ccc695cb3660"
    ),
    "exercise-foot-care-toe-presses-1-26289ba609@wearsync.invalid": (
        "408fd9198da73a6282b8160f5a67cc209806fac92b702a73199546df4cf421f6"
    ),
    "exercise-foot-care-toe-presses-2-8c6f5410f7@wearsync.invalid": (
        "f3091b1df7f9d5bd5f9e537028f905042cefd9f883bbe91cf1b652fe77b9d9c3"
    ),
    "exercise-foot-care-toe-walking-1-9300bdd555@wearsync.invalid": (
        "94b348586393653766cf9d1b5b87a711fcff1492a9f92135ab664b0c7a1e74e8"
    ),
}


def test_unaffected_events_keep_their_uid_and_fingerprint(ledger: CalendarLedger) -> None:
    options = ScheduleOptions()
    planned = plan_schedule(effective_routine(foot_care(), options), date(2026, 2, 2), options)
    fingerprints = {p.uid: p.fingerprint() for p in planned}
    for uid, fingerprint in UNCHANGED_FINGERPRINTS.items():
        assert fingerprints[uid] == fingerprint
    # The dropped slots keep their UID (an edit of the old daily event, not a new one).
    assert exercise_uid("foot-care", "toe-presses", 3) in fingerprints
    assert exercise_uid("foot-care", "toe-walking", 2) in fingerprints


def test_sequence_moves_only_for_events_that_change(ledger: CalendarLedger) -> None:
    first = build(foot_care(), ledger)
    again = build(foot_care(), ledger, now=datetime(2026, 3, 1, 6, tzinfo=UTC))
    assert again.body == first.body
    assert {e.uid: e.sequence for e in again.schedule} == dict.fromkeys(
        (e.uid for e in first.schedule), 0
    )
    wider = build(foot_care(), ledger, schedule=ScheduleOptions(every_days=3))
    sequences = {e.uid: e.sequence for e in wider.schedule}
    assert sequences == {
        routine_uid("foot-care", 1): 1,  # INTERVAL=3
        exercise_uid("foot-care", "toe-presses", 1): 0,
        exercise_uid("foot-care", "toe-presses", 2): 0,
        exercise_uid("foot-care", "toe-presses", 3): 1,  # INTERVAL=3
        exercise_uid("foot-care", "toe-presses", 3, day=2): 0,  # new
        exercise_uid("foot-care", "toe-walking", 1): 0,
        exercise_uid("foot-care", "toe-walking", 2): 1,
        exercise_uid("foot-care", "toe-walking", 2, day=2): 0,
    }


# -- marks -----------------------------------------------------------------------------------

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)  # a Friday; routine days are even days of March


def presses(
    at: datetime, key: str, status: SessionStatus = SessionStatus.COMPLETED
) -> SessionRecord:
    return session(at, key=key, status=status).model_copy(update={"entry": "toe-presses"})


def whole(at: datetime, key: str, status: SessionStatus = SessionStatus.COMPLETED) -> SessionRecord:
    return session(at, key=key, status=status)


SESSIONS = [
    whole(datetime(2026, 3, 16, 18, 4, tzinfo=UTC), "d/1/1"),  # on the routine day
    whole(datetime(2026, 3, 19, 10, 0, tzinfo=UTC), "d/1/2"),  # a day late for 18 March
    whole(datetime(2026, 3, 14, 18, 0, tzinfo=UTC), "d/1/3", SessionStatus.ABORTED),
    presses(datetime(2026, 3, 17, 9, 30, tzinfo=UTC), "d/1/4"),  # counts for 08:00
    presses(datetime(2026, 3, 17, 21, 0, tzinfo=UTC), "d/1/5"),  # counts for 13:00
    presses(datetime(2026, 3, 20, 7, 0, tzinfo=UTC), "d/1/6"),  # today, early for 08:00
]


def mark_summaries(body: bytes) -> dict[tuple[str, datetime], str]:
    return {key: str(e["SUMMARY"]) for key, e in overrides(body).items()}


def at_london(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=LONDON).astimezone(UTC)


def test_done_and_missed_marks_override_their_occurrences(ledger: CalendarLedger) -> None:
    body = build(foot_care(), ledger, sessions=SESSIONS, now=NOW).body
    marks = mark_summaries(body)
    title = foot_care().title
    routine = routine_uid("foot-care", 1)
    p1, p2 = (exercise_uid("foot-care", "toe-presses", n) for n in (1, 2))
    p3 = exercise_uid("foot-care", "toe-presses", 3)
    assert marks[routine, at_london(16, 18)] == f"✓ {title}"
    assert marks[routine, at_london(18, 18)] == f"✓ {title}"  # done the next morning
    assert marks[routine, at_london(14, 18)] == f"Missed: {title}"  # aborted does not count
    assert marks[p1, at_london(17, 8)] == "✓ Toe Presses (1 of 3 today)"
    assert marks[p2, at_london(17, 13)] == "✓ Toe Presses (2 of 3 today)"
    assert marks[p3, at_london(17, 18)] == "Missed: Toe Presses (3 of 3 today)"
    assert marks[p1, at_london(20, 8)] == "✓ Toe Presses (1 of 3 today)"  # done early
    # Today's other occurrences are still open, and so is the interval of 20 March.
    assert (p2, at_london(20, 13)) not in marks
    assert (routine, at_london(20, 18)) not in marks
    # Nothing before the first day; every earlier occurrence is marked one way or the other.
    assert min(at for _, at in marks) == at_london(2, 8)
    # A mark carries no alarm, and keeps the occurrence's time and length.
    for (_uid, at), event in overrides(body).items():
        assert not event.walk("VALARM")
        assert event["DTSTART"].dt.astimezone(UTC) == at
    seen = {(s.uid, s.at): s for s in expand(body, *WINDOW)}
    assert seen[p1, at_london(17, 8)].summary.startswith("✓ ")
    assert seen[p1, at_london(17, 8)].alarms == 0
    assert seen[p1, at_london(24, 8)].alarms == 1  # a future occurrence still rings


def test_marks_agree_with_adherence(ledger: CalendarLedger) -> None:
    exported = build(foot_care(), ledger, sessions=SESSIONS, now=NOW)
    marks = mark_summaries(exported.body)
    report = summarize(SESSIONS, [Plan(foot_care())], first_day=FIRST_DAY, now=NOW, window_days=30)
    done = Counter(entry_of(uid, foot_care()) for (uid, _), s in marks.items() if s.startswith("✓"))
    assert {e.entry: e.done for e in report.entries} == {
        "routine": done["routine"],
        "toe-presses": done["toe-presses"],
        "toe-walking": done["toe-walking"],
    }
    assert done == {"routine": 2, "toe-presses": 3}


def test_marks_only_where_the_schedule_is(ledger: CalendarLedger) -> None:
    schedule_only = build(
        foot_care(), ledger, sessions=SESSIONS, now=NOW, view=CalendarView.SCHEDULE
    )
    assert schedule_only.marks == len(overrides(schedule_only.body)) > 0
    assert schedule_only.sessions == 0
    for view, history in (
        (CalendarView.HISTORY, HistoryMode.RECENT),
        (CalendarView.COMBINED, HistoryMode.NONE),
    ):
        built = build(foot_care(), ledger, sessions=SESSIONS, now=NOW, view=view, history=history)
        assert built.marks == 0 and b"RECURRENCE-ID" not in built.body


def test_a_new_mark_moves_no_other_sequence(ledger: CalendarLedger) -> None:
    before = build(foot_care(), ledger, sessions=SESSIONS[:1], now=NOW)
    after = build(foot_care(), ledger, sessions=SESSIONS, now=NOW + timedelta(hours=1))
    assert [e.sequence for e in after.schedule] == [e.sequence for e in before.schedule]
    old = overrides(before.body)
    new = overrides(after.body)
    for key, event in old.items():
        if str(event["SUMMARY"]) == str(new[key]["SUMMARY"]):
            assert new[key]["SEQUENCE"] == event["SEQUENCE"] == 0
    # The mark that changed (missed, then done the next morning) is an edit of its override.
    changed = (routine_uid("foot-care", 1), at_london(18, 18))
    assert str(old[changed]["SUMMARY"]).startswith("Missed: ")
    assert str(new[changed]["SUMMARY"]).startswith("✓ ")
    assert (old[changed]["SEQUENCE"], new[changed]["SEQUENCE"]) == (0, 1)
    # A series and its marks are one CalDAV object, whose revision moves with a new mark.
    objects = {o.uid: o for o in split_events(after.body)}
    earlier = {o.uid: o for o in split_events(before.body)}
    p1 = exercise_uid("foot-care", "toe-presses", 1)
    assert objects[p1].body.count(b"BEGIN:VEVENT") == 1 + sum(1 for u, _ in new if u == p1)
    assert objects[p1].revision != earlier[p1].revision
    assert len(objects) == len({o.uid for o in split_events(after.body)})


def test_a_changed_schedule_keeps_the_plan_then_in_force(ledger: CalendarLedger) -> None:
    old = foot_care_with('times = ["18:00"]', 'times = ["17:00"]')
    changed_at = datetime(2026, 3, 12, 12, tzinfo=UTC)
    plans = [Plan(old, since=datetime(2026, 3, 2, 6, tzinfo=UTC)), Plan(foot_care(), changed_at)]
    sessions = [whole(datetime(2026, 3, 10, 17, 5, tzinfo=UTC), "d/2/1")]
    body = build(foot_care(), ledger, sessions=sessions, now=NOW, plans=plans).body
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)
    seen = expand(body, start, end)
    title = foot_care().title
    whole_routine = [
        (s.at.astimezone(LONDON), s.summary) for s in seen if s.summary.endswith(title)
    ]
    days = {at.date(): (at.time(), summary) for at, summary in whole_routine}
    assert days[date(2026, 3, 10)] == (time(17), f"✓ {title}")  # the old plan, done
    assert days[date(2026, 3, 8)] == (time(17), f"Missed: {title}")
    assert days[date(2026, 3, 12)] == (time(18), f"Missed: {title}")  # the new plan
    assert days[date(2026, 3, 20)] == (time(18), title)  # its interval is still open
    assert days[date(2026, 3, 22)] == (time(18), title)
    assert len(whole_routine) == len(days)
    # Exactly what the plans planned, each at its plan's time; nothing before the first push.
    expected = Counter(
        (o.entry, o.at) for o in planned(plans, first_day=FIRST_DAY, start=start, end=end)
    )
    assert Counter((entry_of(s.uid, foot_care()), s.at) for s in seen) == expected
    assert expected[("routine", at_london(10, 17))] == 1
    assert expected[("routine", at_london(10, 18))] == 0


def test_a_wall_time_in_the_spring_gap_and_its_mark(ledger: CalendarLedger) -> None:
    """01:30 does not exist in London on 29 March 2026: the generator (and RFC 5545 section
    3.3.10) moves it forward by the gap, to 02:30 BST; the mark of that instance overrides it."""
    early = foot_care_with('times = ["18:00"]', 'times = ["01:30"]')
    now = datetime(2026, 4, 2, 12, tzinfo=UTC)
    body = build(early, ledger, now=now, schedule=ScheduleOptions(every_days=1)).body
    start, end = datetime(2026, 3, 25, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)
    seen = [s for s in expand(body, start, end) if s.uid == routine_uid("foot-care", 1)]
    daily = early.model_copy(
        update={"schedule": early.schedule.model_copy(update={"every_days": Range(min=1, max=1)})}
    )
    planned = [
        o.at
        for o in occurrences(daily, first_day=FIRST_DAY, start=start, end=end)
        if o.entry == "routine"
    ]
    assert [s.at for s in seen] == planned
    gap_day = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 02:30 BST
    assert gap_day in planned
    assert all(s.summary.startswith("Missed: ") for s in seen)
