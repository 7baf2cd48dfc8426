"""Done and missed marks on the schedule's occurrences (pure: occurrences and sessions in,
event text out).

Which occurrence a session satisfies is decided by
:func:`wearsync.routine.adherence.match_sessions`, the rule ``wearsync history`` counts with, so
the calendar and the adherence figures agree occurrence by occurrence. Only *done* occurrences
(also done early) and *missed* ones (their day, or for the whole routine its interval, is over
with no session for them) are marked; an occurrence still open is left as the schedule has it.

**How a mark is written.** An occurrence of a published recurring event is marked by an
override of that instance (RFC 5545 section 3.8.4.4): a VEVENT with the series' UID, a
``RECURRENCE-ID;TZID=<zone>`` equal to the instance's original start, the same DTSTART and
DTEND, no RRULE and **no VALARM** (an override replaces the instance, so a done or past
occurrence no longer rings). Its SUMMARY says what became of it:

- ``✓ Toe Presses (1 of 3 today)``: a session counted for it (DESCRIPTION: when it started);
- ``Missed: Toe Presses (1 of 3 today)``: none did.

(An instance whose wall time falls in a spring-forward gap gets its DTSTART and DTEND in UTC:
ical.js and dateutil read a nonexistent local time an hour earlier than RFC 5545 and the
generator do.)

An occurrence of an earlier plan that the published series do not hold (the schedule changed
since) is published as a single event of its own (UID ``occurrence-...``) with the same
wording, so earlier days keep the plan that was in force then.

Each mark has its own revision-ledger entry, keyed ``<UID>;RECURRENCE-ID=<local start>`` (never
published as a UID), so a new mark moves no SEQUENCE of its series or of the other marks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta

from wearsync.calendar.history import RenderedEvent
from wearsync.calendar.icstext import fold, text_line, utc_stamp
from wearsync.calendar.schedule import EventKind, PlannedEvent
from wearsync.calendar.uids import make_uid
from wearsync.routine.adherence import Mark, Matched
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import ROUTINE_ENTRY

DONE_PREFIX = "✓ "
"""The SUMMARY of a done occurrence starts with this."""
MISSED_PREFIX = "Missed: "
"""The SUMMARY of a missed occurrence starts with this."""

_MINUTE = timedelta(minutes=1)
_MAX_CACHED = 50_000


def _local(m: datetime) -> str:
    # A local DATE-TIME (section 3.3.5, FORM #3); formatted by hand, strftime is slow here.
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}"


def mark_events(
    matched: Sequence[Matched],
    series: Sequence[PlannedEvent],
    *,
    routine: Routine,
    cache: dict[Hashable, RenderedEvent] | None = None,
) -> list[RenderedEvent]:
    """The marks of the done and missed occurrences in ``matched``, in time order.

    Args:
        matched: occurrences and what became of them (``match_sessions``).
        series: the published recurring events (``plan_schedule``).
        routine: the effective routine the series were planned from (names, durations).
        cache: rendered marks kept between builds (``HistoryRenderer.marks``), keyed by
            everything a mark shows; emptied when it grows past 50 000.
    """
    out: list[RenderedEvent] = []
    zone_name = routine.schedule.timezone
    by_slot: dict[tuple[str, int], list[PlannedEvent]] = {}
    durations: dict[str, timedelta] = {}
    for p in series:
        by_slot.setdefault((p.entry, p.slot), []).append(p)
        durations.setdefault(p.entry, p.duration)
    names: dict[str, str] = {}
    summaries: dict[str, tuple[str, str]] = {}  # summary -> its done and missed SUMMARY lines
    if cache is not None and len(cache) > _MAX_CACHED:
        cache.clear()
    for m in matched:
        if m.mark is not Mark.DONE and m.mark is not Mark.MISSED:
            continue
        o = m.occurrence
        held = next((p for p in by_slot.get((o.entry, o.slot), ()) if p.holds(o)), None)
        name = names.get(o.entry)
        if name is None:
            name = names[o.entry] = _entry_name(routine, o.entry)
        summary = held.summary if held is not None else name
        # As long as the entry's event now (an entry no longer published: one minute).
        duration = held.duration if held is not None else durations.get(o.entry, _MINUTE)
        series_key = None if held is None else (held.uid, held.start)
        key = (m, series_key, routine.name, zone_name, summary, duration)
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                out.append(hit)
                continue
        lines = summaries.get(summary)
        if lines is None:
            lines = summaries[summary] = (
                text_line("SUMMARY", DONE_PREFIX + summary),
                text_line("SUMMARY", MISSED_PREFIX + summary),
            )
        event = _render(m, held, routine, lines, duration)
        if cache is not None:
            cache[key] = event
        out.append(event)
    return out


def _render(
    m: Matched,
    held: PlannedEvent | None,
    routine: Routine,
    summary_lines: tuple[str, str],
    duration: timedelta,
) -> RenderedEvent:
    zone_name = routine.schedule.timezone
    o = m.occurrence
    local = o.local.replace(tzinfo=None)
    if held is not None:
        uid = held.uid
        start = datetime.combine(o.day, held.start.time())
        stamp = _local(start)
        key = f"{uid};RECURRENCE-ID={stamp}"
        head = f"{fold(f'UID:{uid}')}RECURRENCE-ID;TZID={zone_name}:{stamp}\r\n"
    else:
        start = local
        stamp = _local(start)
        uid = make_uid("occurrence", routine.name, o.entry, str(o.slot), stamp)
        key = uid
        head = fold(f"UID:{uid}")
    if start == local:
        times = (
            f"DTSTART;TZID={zone_name}:{stamp}\r\n"
            f"DTEND;TZID={zone_name}:{_local(start + duration)}\r\n"
        )
    else:
        # The series' wall time does not exist that day (a spring-forward gap): ical.js and
        # dateutil (vobject) read such a local time at the offset after the gap, RFC 5545 and
        # the generator at the one before. UTC says the generator's instant to all of them.
        times = f"DTSTART:{utc_stamp(o.at)}\r\nDTEND:{utc_stamp(o.at + duration)}\r\n"
    # Kept short (a year of marks is some 1,800 events in the feed's byte budget): the
    # SUMMARY says it all; a done one also says which session counted.
    if m.mark is Mark.DONE:
        assert m.done_at is not None
        done_at = m.done_at.astimezone(o.local.tzinfo)
        text = summary_lines[0] + text_line(
            "DESCRIPTION", f"Done: session at {done_at:%Y-%m-%d %H:%M}."
        )
    else:
        text = summary_lines[1]
    body = f"{head}{times}{text}CATEGORIES:Exercise\r\n"
    raw = body.encode()
    return RenderedEvent(key, EventKind.MARK, body, len(raw), hashlib.sha256(raw).hexdigest(), o.at)


def _entry_name(routine: Routine, entry: str) -> str:
    if entry == ROUTINE_ENTRY:
        return routine.title
    try:
        return routine.exercise(entry).name
    except KeyError:
        return entry
