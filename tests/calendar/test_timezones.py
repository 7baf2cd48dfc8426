"""VTIMEZONE (RFC 5545 section 3.6.5): yearly rules read off zoneinfo, checked hour by hour."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from wearsync.calendar.timezones import vtimezone
from wearsync.errors import InputError

START = date(2025, 3, 1)
TODAY = date(2026, 11, 23)


def offsets_agree(key: str, years: int) -> list[datetime]:
    """Instants from START on where the VTIMEZONE and zoneinfo disagree: every six hours, and
    every quarter hour on the days zoneinfo changes offset."""
    text = vtimezone(ZoneInfo(key), START, TODAY).to_ical()
    from_ics = icalendar.Timezone.from_ical(text).to_tz(lookup_tzid=False)
    zone = ZoneInfo(key)

    def differs(moment: datetime) -> bool:
        return moment.astimezone(from_ics).utcoffset() != moment.astimezone(zone).utcoffset()

    wrong = []
    day = datetime(START.year, START.month, START.day, tzinfo=UTC)
    end = day + timedelta(days=365 * years)
    while day < end:
        nxt = day + timedelta(days=1)
        changes = day.astimezone(zone).utcoffset() != nxt.astimezone(zone).utcoffset()
        step = timedelta(minutes=15) if changes else timedelta(hours=6)
        moment = day
        while moment < nxt:
            if differs(moment):
                wrong.append(moment)
            moment += step
        day = nxt
    return wrong


@pytest.mark.parametrize(
    "key",
    [
        "Europe/London",
        "America/New_York",
        "Australia/Sydney",  # southern hemisphere: summer time spans the new year
        "America/Santiago",  # "first Sunday on or after the 2nd": BYMONTHDAY + BYDAY
        "Europe/Dublin",  # tzdata's negative summer time
        "Africa/Casablanca",  # no yearly rule (Ramadan): transitions listed
        "Asia/Kolkata",  # no transitions
        "Pacific/Chatham",  # a quarter-hour offset
    ],
)
def test_vtimezone_matches_zoneinfo_for_twelve_years(key: str) -> None:
    assert offsets_agree(key, years=12) == []


def test_london_ends_in_two_open_yearly_rules_with_rfc_onsets() -> None:
    text = vtimezone(ZoneInfo("Europe/London"), START, TODAY).to_ical()
    tz = icalendar.Timezone.from_ical(text)
    current = [c for c in tz.subcomponents if "RRULE" in c and "UNTIL" not in c["RRULE"]]
    by_kind = {c.name: c for c in current}
    assert len(current) == 2
    summer, winter = by_kind["DAYLIGHT"], by_kind["STANDARD"]
    assert summer["RRULE"]["BYMONTH"] == [3] and summer["RRULE"]["BYDAY"] == ["-1SU"]
    assert winter["RRULE"]["BYMONTH"] == [10] and winter["RRULE"]["BYDAY"] == ["-1SU"]
    # Onsets are wall times in the offset in force before the change: 01:00 GMT, 02:00 BST.
    assert summer["DTSTART"].dt.time().hour == 1 and winter["DTSTART"].dt.time().hour == 2
    assert summer["TZOFFSETTO"].td == timedelta(hours=1)
    assert winter["TZOFFSETTO"].td == timedelta(0)
    assert [c for c in tz.subcomponents if "RDATE" in c] == []


def test_the_zone_is_described_from_1970_not_from_the_first_event() -> None:
    """vobject (Radicale) samples a zone over 2000-2020 to find its daylight saving time."""
    text = vtimezone(ZoneInfo("Europe/London"), START, TODAY).to_ical()
    tz = icalendar.Timezone.from_ical(text)
    # (London kept summer time all year until October 1971, its first change since 1970.)
    assert min(c["DTSTART"].dt for c in tz.subcomponents).year == 1971
    from_ics = tz.to_tz(lookup_tzid=False)
    for year in (1975, 1990, 2000, 2010, 2020):
        july = datetime(year, 7, 1, 12, tzinfo=UTC)
        assert july.astimezone(from_ics).utcoffset() == timedelta(hours=1), year


@pytest.mark.parametrize("key", ["Asia/Jerusalem", "Africa/Casablanca", "Africa/Cairo"])
def test_listed_dates_are_one_rdate_per_line(key: str) -> None:
    """ical.js (Thunderbird) reads only the first value of a comma-separated RDATE."""
    text = vtimezone(ZoneInfo(key), START, TODAY).to_ical()
    rdates = [line for line in text.split(b"\r\n") if line.startswith(b"RDATE")]
    assert rdates and all(b"," not in line for line in rdates)
    assert offsets_agree(key, years=4) == []


def test_israel_today_is_a_rule_not_a_list() -> None:
    """Friday before the last Sunday of March: a weekday within seven days of the month."""
    tz = icalendar.Timezone.from_ical(vtimezone(ZoneInfo("Asia/Jerusalem"), START, TODAY).to_ical())
    current = [c for c in tz.subcomponents if "RRULE" in c and "UNTIL" not in c["RRULE"]]
    rules = {c.name: c["RRULE"] for c in current}
    assert rules["DAYLIGHT"]["BYDAY"] == ["FR"]
    assert rules["DAYLIGHT"]["BYMONTHDAY"] == list(range(23, 30))
    assert rules["STANDARD"]["BYDAY"] == ["-1SU"]


def test_a_zone_without_changes_has_one_observance() -> None:
    tz = icalendar.Timezone.from_ical(vtimezone(ZoneInfo("Asia/Tokyo"), START, TODAY).to_ical())
    (only,) = tz.subcomponents
    assert only.name == "STANDARD"
    assert only["TZOFFSETFROM"].td == only["TZOFFSETTO"].td == timedelta(hours=9)


def test_a_schedule_across_a_date_line_move_is_reported() -> None:
    """Apia skipped 30 December 2011 (-10 to +14): no client's VTIMEZONE reader can follow."""
    with pytest.raises(InputError, match=r"Pacific/Apia moved across the date line in 2011"):
        vtimezone(ZoneInfo("Pacific/Apia"), date(2011, 6, 1), TODAY)
    later = icalendar.Timezone.from_ical(
        vtimezone(ZoneInfo("Pacific/Apia"), date(2012, 1, 5), TODAY).to_ical()
    )
    assert min(c["DTSTART"].dt for c in later.subcomponents).year == 2012
