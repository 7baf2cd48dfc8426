"""VTIMEZONE components (RFC 5545 section 3.6.5) for the zone a schedule is written in.

A schedule recurs without end, so its time zone is described by yearly rules (``RRULE:FREQ=
YEARLY;BYMONTH=3;BYDAY=-1SU``), as Google and Apple publish them, rather than by a list of
transition dates that runs out. The rules are read off the zone itself: the transitions of a few
years around the schedule are found with ``utcoffset`` and, when every year follows the same
"n-th (or last) weekday of the month at this wall time" pattern, that pattern becomes the rule.
Zones that follow no such pattern (rules that changed recently, or that track a lunar calendar)
get each transition listed (RDATE) for twenty years past the checked span.

Onsets follow RFC 5545: DTSTART is the wall time just before the change, in TZOFFSETFROM.
(icalendar's ``Timezone.from_tzinfo`` writes it in the new offset, an hour late for some zones,
and bounds every zone to 1970-2038, so it is not used.)
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_STEP = timedelta(hours=12)  # no zone has two transitions within 12 hours
_RULE_YEARS = 10  # a yearly rule must hold this many years ahead (every weekday position shows)
_LISTED_YEARS = 20  # how far ahead a zone without a yearly rule has its transitions listed


@dataclass(frozen=True, slots=True)
class _Transition:
    onset: datetime  # naive wall time in the offset before the change (RFC 5545 DTSTART rule)
    offset_from: timedelta
    offset_to: timedelta
    name: str

    @property
    def daylight(self) -> bool:
        # Labelled by the larger offset, as most publishers do: tzdata marks Ireland's winter
        # as the (negative) daylight time, which some clients mishandle.
        return self.offset_to > self.offset_from


def vtimezone(zone: ZoneInfo, start: date, now: date) -> Timezone:
    """A VTIMEZONE for ``zone`` valid from before ``start`` onwards.

    Args:
        zone: the schedule's time zone.
        start: the first date any event uses the zone.
        now: today; the rules are checked over the years from before ``start`` to ten years
            past the later of ``start`` and ``now``.
    """
    first_year = start.year - 1
    last_year = max(start.year, now.year) + _RULE_YEARS
    years = [_transitions(zone, y) for y in range(first_year, last_year + 1)]
    if not any(years):
        return _fixed(zone, first_year)
    ruled = _yearly_rules(zone.key, years)
    if ruled is not None:
        return ruled
    extra = [_transitions(zone, y) for y in range(last_year + 1, last_year + _LISTED_YEARS)]
    return _listed(zone.key, [t for y in years + extra for t in y])


def _offsets(zone: ZoneInfo, moment: datetime) -> tuple[timedelta, str]:
    local = moment.astimezone(zone)
    offset = local.utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset, local.tzname() or ""


@lru_cache(maxsize=256)
def _transitions(zone: ZoneInfo, year: int) -> tuple[_Transition, ...]:
    found: list[_Transition] = []
    at = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    before = _offsets(zone, at)[0]
    while at < end:
        nxt = at + _STEP
        after = _offsets(zone, nxt)[0]
        if after != before:
            found.append(_bisect(zone, at, nxt, before))
        at, before = nxt, after
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
    return _Transition(onset, before, offset_to, name)


def _day_rule(onsets: list[datetime]) -> dict[str, object] | None:
    """The BYDAY (and BYMONTHDAY) parts that give every onset, or None.

    ``2SU`` (second Sunday), ``-1SU`` (last Sunday), or a weekday on or after a day of the
    month (``BYMONTHDAY=2,...,8;BYDAY=SU``: Chile's "first Sunday after the first Saturday").
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
    if max(d.day for d in onsets) <= low + 6 and low + 6 <= 28:
        return {"BYMONTHDAY": list(range(low, low + 7)), "BYDAY": code}
    return None


def _yearly_rules(tzid: str, years: list[tuple[_Transition, ...]]) -> Timezone | None:
    if any(len(y) != 2 for y in years):
        return None
    tz = Timezone()
    tz.add("TZID", tzid)
    for slot in (0, 1):
        column = [y[slot] for y in years]
        first = column[0]
        same = {(t.onset.month, t.onset.time(), t.offset_from, t.offset_to) for t in column}
        day_rule = _day_rule([t.onset for t in column])
        if len(same) != 1 or day_rule is None:
            return None
        observance = _observance(first)
        observance.add("RRULE", {"FREQ": "YEARLY", "BYMONTH": first.onset.month, **day_rule})
        tz.add_component(observance)
    return tz


def _listed(tzid: str, transitions: list[_Transition]) -> Timezone:
    """Each transition listed: one observance per kind of change, with RDATEs for the rest."""
    tz = Timezone()
    tz.add("TZID", tzid)
    kinds: dict[tuple[timedelta, timedelta, str], list[_Transition]] = {}
    for t in transitions:
        kinds.setdefault((t.offset_from, t.offset_to, t.name), []).append(t)
    for group in kinds.values():
        observance = _observance(group[0])
        if len(group) > 1:
            observance.add("RDATE", [t.onset for t in group[1:]])
        tz.add_component(observance)
    return tz


def _observance(t: _Transition) -> TimezoneDaylight | TimezoneStandard:
    observance = TimezoneDaylight() if t.daylight else TimezoneStandard()
    observance.add("DTSTART", t.onset)
    observance.add("TZOFFSETFROM", t.offset_from)
    observance.add("TZOFFSETTO", t.offset_to)
    observance.add("TZNAME", t.name)
    return observance


def _fixed(zone: ZoneInfo, year: int) -> Timezone:
    offset, name = _offsets(zone, datetime(year, 1, 1, tzinfo=UTC))
    tz = Timezone()
    tz.add("TZID", zone.key)
    observance = TimezoneStandard()
    observance.add("DTSTART", datetime(1970, 1, 1))
    observance.add("TZOFFSETFROM", offset)
    observance.add("TZOFFSETTO", offset)
    observance.add("TZNAME", name)
    tz.add_component(observance)
    return tz
