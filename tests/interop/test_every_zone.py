"""Every IANA zone, read by real parsers, against zoneinfo's truth.

For each zone whose offset changes in the test window, a one-exercise routine at 12:00 local
time every three days (three is prime to seven, so the weekday of the occurrences rotates) is
exported; for every other zone (whose VTIMEZONE still holds its history since 1970, date-line
moves included) the routine recurs every 29 days. Each calendar is expanded over three years
by ical.js (Thunderbird), vobject (Radicale) and icalendar with recurring-ical-events, and each
occurrence compared in UTC with ``datetime(day, 12:00, ZoneInfo(zone))``. Names whose calendars
are the same but for the TZID (aliases such as ``US/Eastern``, zones with one history since
1970) are read once.

A zone a parser reads wrong is reported by name: the test fails listing it, unless it is in
:data:`KNOWN` with the reason, and a zone in :data:`KNOWN` that starts reading right fails the
test too, so that the list stays true.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import pytest

from tests.interop.parsers import (
    Job,
    Occurrences,
    icaljs_available,
    with_icalendar,
    with_icaljs,
    with_vobject,
)
from wearsync.calendar.export import CalendarView, ExportOptions, build_calendar
from wearsync.calendar.history import HistoryMode
from wearsync.routine.loader import parse_routine
from wearsync.store import Store

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2029, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 1, tzinfo=UTC)
EVERY_DAYS = 3  # zones with daylight saving time in the window
EVERY_DAYS_FIXED = 29  # the others: enough to see the offset, cheap to expand
AT = time(12, 0)

KNOWN: dict[str, dict[str, str]] = {"ical.js": {}, "vobject": {}, "icalendar": {}}
"""Parser -> zone -> why that parser cannot read it right (none today)."""

_ROUTINE = """\
format = 1
name = "interop"
title = "Interop check"

[schedule]
every_days = {{ min = {every}, max = {every} }}
times = ["12:00"]
timezone = "{zone}"

[[exercises]]
id = "press"
name = "Press"
hold = {{ seconds = 5 }}
release = {{ seconds = 5 }}
reps = 1
"""


def every_zone() -> list[tuple[str, int]]:
    """Every zone name, with how many days apart its routine recurs (see the module doc)."""
    days = [START + timedelta(days=d) for d in range((END - START).days)]
    zones = []
    # tzdata's placeholders for "no zone set", not places anyone schedules in.
    for key in sorted(available_timezones() - {"Factory", "localtime"}):
        changes = len({day.astimezone(ZoneInfo(key)).utcoffset() for day in days}) > 1
        zones.append((key, EVERY_DAYS if changes else EVERY_DAYS_FIXED))
    return zones


def truth(zone: str, every: int) -> list[datetime]:
    tz = ZoneInfo(zone)
    day, out = START.date(), []
    while True:
        moment = datetime.combine(day, AT, tzinfo=tz).astimezone(UTC)
        if moment >= END:
            return out
        if moment >= START:
            out.append(moment)
        day += timedelta(days=every)


def calendars(tmp: Path) -> Iterator[tuple[str, int, bytes]]:
    """Each zone's calendar (and its recurrence), once per distinct content."""
    seen: set[bytes] = set()
    with Store.open(tmp / "wearsync.db") as store:
        for zone, every in every_zone():
            routine = parse_routine(_ROUTINE.format(every=every, zone=zone), zone)
            exported = build_calendar(
                routine,
                [],
                start=date(2026, 1, 1),
                ledger=store.calendar_ledger(),
                now=NOW,
                options=ExportOptions(view=CalendarView.SCHEDULE, history=HistoryMode.NONE),
            )
            anonymous = exported.body.replace(zone.encode(), b"ZONE")
            if anonymous not in seen:
                seen.add(anonymous)
                yield zone, every, exported.body


def wrong(found: Occurrences, expected: list[datetime]) -> str | None:
    """A short description of how ``found`` differs from ``expected``, or None."""
    (times,) = found.values() if len(found) == 1 else ([],)
    if times == expected:
        return None
    missing = sorted(set(expected) - set(times))[:2]
    extra = sorted(set(times) - set(expected))[:2]
    return f"{len(times)} of {len(expected)}; missing {missing}; unexpected {extra}"


@pytest.mark.slow
def test_every_zone_reads_right_in_every_parser(tmp_path: Path) -> None:
    icaljs_available()
    made = list(calendars(tmp_path))
    jobs = [Job(zone, body, START, END) for zone, _every, body in made]
    every = {zone: days for zone, days, _body in made}
    # The zone database has about two hundred distinct zones with daylight saving time.
    assert sum(1 for days in every.values() if days == EVERY_DAYS) > 150
    by_icaljs = with_icaljs(jobs)
    failures: dict[str, dict[str, str]] = {"ical.js": {}, "vobject": {}, "icalendar": {}}
    for job in jobs:
        expected = truth(job.id, every[job.id])
        assert len(expected) > 30
        for parser, found in (
            ("ical.js", by_icaljs[job.id]),
            ("vobject", with_vobject(job)),
            ("icalendar", with_icalendar(job)),
        ):
            problem = wrong(found, expected)
            if problem is not None:
                failures[parser][job.id] = problem
    unexpected = {p: {z: w for z, w in f.items() if z not in KNOWN[p]} for p, f in failures.items()}
    fixed = {p: sorted(set(KNOWN[p]) - set(f)) for p, f in failures.items()}
    assert unexpected == {p: {} for p in failures}, unexpected
    assert fixed == {p: [] for p in failures}, f"now read right, drop from KNOWN: {fixed}"
