"""VTIMEZONE components (RFC 5545 section 3.6.5) for the zone a schedule is written in.

A VTIMEZONE must describe the zone over every year a client looks at, not only from the first
event on: vobject (Radicale) decides whether a zone has daylight saving by sampling it over
2000-2020, and other parsers look before the first event too. So the description starts in
:data:`FIRST_YEAR` (or earlier, for a schedule starting before it) and runs past today.

(A zone that crossed the date line, a jump of a whole day, is described from the year after.)

The transitions are read off the zone itself (``utcoffset``) and grouped into *eras*: runs of
consecutive years whose two changes follow the same "n-th (or last) weekday of the month, or a
weekday within a week of days, at this wall time" pattern. Each era becomes a yearly RRULE
(``FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU``), closed by UNTIL except the last one, which stays open
because a schedule recurs without end. Changes that fit no pattern (a year with one change, rules
that track a lunar calendar) are listed, one RDATE property per date: several clients
(Thunderbird's ical.js among them) read only the first value of a comma-separated RDATE.

Onsets follow RFC 5545: DTSTART is the wall time just before the change, in TZOFFSETFROM.
(icalendar's ``Timezone.from_tzinfo`` writes it in the new offset, an hour late for some zones,
so it is not used.)
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from wearsync.errors import InputError

FIRST_YEAR = 1970
"""The first year described: well before anything a parser samples."""

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_COARSE = timedelta(days=6)  # no zone changes and changes back within six days
_FINE = timedelta(hours=12)  # nor twice within twelve hours
_RULE_YEARS = 10  # years past today (or the first day) whose rules are checked
_MIN_ERA = 3  # fewer years than this are listed rather than given a rule
_LISTED_YEARS = 20  # how far past the checked span irregular changes are listed
_DATE_LINE = timedelta(hours=12)  # a change this large is a move across the date line


@dataclass(frozen=True, slots=True)
class _Transition:
    onset: datetime  # naive wall time in the offset before the change (RFC 5545 DTSTART rule)
    utc: datetime  # the same instant, aware, in UTC
    offset_from: timedelta
    offset_to: timedelta
    name: str

    @property
    def daylight(self) -> bool:
        # Labelled by the larger offset, as most publishers do: tzdata marks Ireland's winter
        # as the (negative) daylight time, which some clients mishandle.
        return self.offset_to > self.offset_from

    @property
    def kind(self) -> tuple[int, object, timedelta, timedelta, str]:
        """What must stay the same for one yearly rule to give this change every year."""
        return (self.onset.month, self.onset.time(), self.offset_from, self.offset_to, self.name)


def vtimezone(zone: ZoneInfo, start: date, now: date) -> Timezone:
    """A VTIMEZONE for ``zone``, correct from :data:`FIRST_YEAR` (or before ``start``) on.

    Args:
        zone: the schedule's time zone.
        start: the first date any event uses the zone.
        now: today; rules are checked to ten years past the later of ``start`` and ``now``.

    Raises:
        InputError: the zone crossed the date line in or after the year of ``start``.
    """
    first_year = min(FIRST_YEAR, start.year - 1)
    last_year = max(start.year, now.year) + _RULE_YEARS
    # A zone that moved across the date line (Apia and Fakaofo in 2011, Kiritimati in 1995)
    # jumped by a whole day, which dateutil, and so vobject, cannot represent: describe it from
    # the year after; a schedule that starts before then cannot be published at all.
    jumps = [
        y
        for y in range(first_year, last_year + 1)
        for t in _transitions(zone, y)
        if abs(t.offset_to - t.offset_from) >= _DATE_LINE
    ]
    if jumps and max(jumps) >= start.year:
        # Reported rather than published wrong: no VTIMEZONE every client reads can hold it.
        raise InputError(
            f"schedule.timezone: {zone.key} moved across the date line in {max(jumps)}, "
            "which calendar clients cannot follow",
            hint=f"start the schedule in {max(jumps) + 1} or later (wearsync feed first-day)",
        )
    if jumps:
        first_year = max(jumps) + 1
    years = [_transitions(zone, y) for y in range(first_year, last_year + 1)]
    tz = Timezone()
    tz.add("TZID", zone.key)
    if not any(years):
        tz.add_component(_fixed(zone, first_year))
        return tz
    eras = list(_eras(years))
    listed = [t for era in eras if len(era) < _MIN_ERA for y in era for t in y]
    ruled = [era for era in eras if len(era) >= _MIN_ERA]
    open_ended = bool(ruled) and ruled[-1][-1] is years[-1]
    if not open_ended and years[-1]:
        # Changes go on past the checked span without a rule: list them further ahead.
        ahead = range(last_year + 1, last_year + _LISTED_YEARS)
        listed += [t for y in ahead for t in _transitions(zone, y)]
    for era in ruled:
        last = era is ruled[-1] and open_ended
        for slot in (0, 1):
            tz.add_component(_ruled([y[slot] for y in era], open_ended=last))
    for observance in _listed(listed):
        tz.add_component(observance)
    return tz


def _offsets(zone: ZoneInfo, moment: datetime) -> tuple[timedelta, str]:
    local = moment.astimezone(zone)
    offset = local.utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset, local.tzname() or ""


@lru_cache(maxsize=4096)
def _transitions(zone: ZoneInfo, year: int) -> tuple[_Transition, ...]:
    found: list[_Transition] = []
    at = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    before = _offsets(zone, at)[0]
    while at < end:
        nxt = min(at + _COARSE, end)
        if _offsets(zone, nxt)[0] != before:
            # Something changed in these days: walk them in half days to find each change.
            fine, fine_before = at, before
            while fine < nxt:
                step = min(fine + _FINE, nxt)
                after = _offsets(zone, step)[0]
                if after != fine_before:
                    found.append(_bisect(zone, fine, step, fine_before))
                fine, fine_before = step, after
        at, before = nxt, _offsets(zone, nxt)[0]
    return tuple(found)


def _bisect(zone: ZoneInfo, lo: datetime, hi: datetime, before: timedelta) -> _Transition:
    # Invariant: lo has the old offset, hi the new one; narrow to the first second of the new.
    while hi - lo > timedelta(seconds=1):
        mid = (lo + (hi - lo) / 2).replace(microsecond=0)
        if _offsets(zone, mid)[0] == before:
            lo = mid
        else:
            hi = mid
    offset_to, name = _offsets(zone, hi)
    onset = (hi + before).replace(tzinfo=None)
    return _Transition(onset, hi, before, offset_to, name)


def _day_rule(onsets: list[datetime]) -> dict[str, object] | None:
    """The BYDAY (and BYMONTHDAY) parts that give every onset, or None.

    ``2SU`` (second Sunday), ``-1SU`` (last Sunday), or a weekday within seven days of the month
    (``BYMONTHDAY=23,...,29;BYDAY=FR``: Israel's "Friday before the last Sunday"; Chile's "first
    Sunday after the first Saturday").
    """
    weekdays = {d.weekday() for d in onsets}
    if len(weekdays) != 1:
        return None
    code = _WEEKDAYS[weekdays.pop()]
    nths = {(d.day - 1) // 7 + 1 for d in onsets}
    if len(nths) == 1 and (n := nths.pop()) <= 4:
        return {"BYDAY": f"{n}{code}"}
    if all(d.day + 7 > _cal.monthrange(d.year, d.month)[1] for d in onsets):
        return {"BYDAY": f"-1{code}"}
    low = min(d.day for d in onsets)
    shortest = min(_cal.monthrange(d.year, d.month)[1] for d in onsets)
    if max(d.day for d in onsets) <= low + 6 <= shortest:
        # A seven-day window holds each weekday exactly once, so the rule names one day a year.
        return {"BYMONTHDAY": list(range(low, low + 7)), "BYDAY": code}
    return None


def _fits(column: list[_Transition]) -> bool:
    return len({t.kind for t in column}) == 1 and _day_rule([t.onset for t in column]) is not None


def _eras(years: list[tuple[_Transition, ...]]) -> Iterator[list[tuple[_Transition, ...]]]:
    """Consecutive years grouped greedily into runs one pair of yearly rules describes; a year
    that fits none (not two changes) is a run of its own."""
    run: list[tuple[_Transition, ...]] = []
    for year in years:
        if len(year) == 2 and run and all(_fits([y[s] for y in [*run, year]]) for s in (0, 1)):
            run.append(year)
            continue
        if run:
            yield run
        run = [year] if len(year) == 2 else []
        if len(year) != 2:
            yield [year]
    if run:
        yield run


def _ruled(column: list[_Transition], *, open_ended: bool) -> TimezoneDaylight | TimezoneStandard:
    first = column[0]
    observance = _observance(first)
    rule: dict[str, object] = {"FREQ": "YEARLY", "BYMONTH": first.onset.month}
    rule.update(_day_rule([t.onset for t in column]) or {})
    if not open_ended:
        rule["UNTIL"] = column[-1].utc  # RFC 5545: in a VTIMEZONE, UNTIL is in UTC
    observance.add("RRULE", rule)
    return observance


def _listed(transitions: list[_Transition]) -> list[TimezoneDaylight | TimezoneStandard]:
    """One observance per kind of change; each further date its own RDATE property."""
    kinds: dict[tuple[timedelta, timedelta, str], list[_Transition]] = {}
    for t in sorted(transitions, key=lambda t: t.utc):
        kinds.setdefault((t.offset_from, t.offset_to, t.name), []).append(t)
    observances = []
    for group in kinds.values():
        observance = _observance(group[0])
        for t in group[1:]:
            observance.add("RDATE", t.onset)
        observances.append(observance)
    return observances


def _observance(t: _Transition) -> TimezoneDaylight | TimezoneStandard:
    observance = TimezoneDaylight() if t.daylight else TimezoneStandard()
    observance.add("DTSTART", t.onset)
    observance.add("TZOFFSETFROM", t.offset_from)
    observance.add("TZOFFSETTO", t.offset_to)
    observance.add("TZNAME", t.name)
    return observance


def _fixed(zone: ZoneInfo, year: int) -> TimezoneStandard:
    offset, name = _offsets(zone, datetime(year + 1, 1, 1, tzinfo=UTC))
    observance = TimezoneStandard()
    observance.add("DTSTART", datetime(min(year, FIRST_YEAR), 1, 1))
    observance.add("TZOFFSETFROM", offset)
    observance.add("TZOFFSETTO", offset)
    observance.add("TZNAME", name)
    return observance
