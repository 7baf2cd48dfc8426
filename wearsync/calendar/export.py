"""The iCalendar export: a routine and its sessions in, RFC 5545 bytes out (pure but for the
ledger it is given).

:func:`build_calendar` puts together

- the calendar's properties: PRODID, NAME and X-WR-CALNAME, X-WR-TIMEZONE, the refresh hints
  ``REFRESH-INTERVAL;VALUE=DURATION`` (RFC 7986) and ``X-PUBLISHED-TTL`` (Outlook), and a
  LAST-MODIFIED that moves whenever anything in the calendar does;
- a VTIMEZONE for the schedule's zone (:mod:`wearsync.calendar.timezones`);
- the schedule (:mod:`wearsync.calendar.schedule`), built with icalendar's components from the
  effective routine (the options applied once), so it expands to the occurrence generator's
  occurrences;
- the done and missed marks (:mod:`wearsync.calendar.marks`) of the past occurrences, in the
  plan in force at each (``plans``, as adherence counts them), as RECURRENCE-ID overrides; they
  go with their month in the history window and its byte budget, and only where the schedule is
  (not in the history-only view, not with ``history=none``);
- the history (:mod:`wearsync.calendar.history`), written as text and cached per session.

Every event gets SEQUENCE and LAST-MODIFIED from the revision ledger, which bumps them when the
event's content fingerprint changes. No METHOD is set, so RFC 5545 (section 3.8.7.2) makes
DTSTAMP the time the event was last revised: it equals LAST-MODIFIED. The same inputs and ledger
therefore give the same bytes, and the same ETag, after a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from icalendar import Alarm, Calendar, Event, vDDDTypes, vDuration, vText, vUri

from wearsync import __version__
from wearsync.calendar.history import (
    RECENT_MONTHS,
    HistoryMode,
    HistoryRenderer,
    RenderedEvent,
    select_history,
)
from wearsync.calendar.icstext import utc_stamp
from wearsync.calendar.ledger import revise, whole_seconds
from wearsync.calendar.marks import mark_events
from wearsync.calendar.ports import EventLedger, LedgerEntry
from wearsync.calendar.schedule import (
    EventKind,
    PlannedEvent,
    ScheduleOptions,
    effective_routine,
    plan_schedule,
)
from wearsync.calendar.timezones import vtimezone
from wearsync.calendar.uids import calendar_uid
from wearsync.records import DONE_STATUSES, SessionRecord
from wearsync.routine.adherence import Matched, match_sessions
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import Plan, interval_days
from wearsync.routine.occurrences import planned as occurrences_planned

PRODID = f"-//wearsync//wearsync {__version__}//EN"
DEFAULT_REFRESH = timedelta(hours=1)
MAX_FEED_BYTES = 240_000
"""The default feed's size limit: below 256 KiB with room to spare."""

_END = b"END:VCALENDAR\r\n"


class CalendarView(StrEnum):
    """Which events a calendar holds."""

    COMBINED = "combined"
    """The schedule and the history in one calendar."""
    SCHEDULE = "schedule"
    """Only the planned schedule."""
    HISTORY = "history"
    """Only the sessions: a separate history calendar."""


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    """Everything about an export that is not the routine, the sessions or the time.

    Attributes:
        schedule: choices about the published schedule.
        view: which events (schedule, history or both).
        history: which sessions (recent months, all or none).
        max_bytes: the size the ``recent`` history is fitted into (None: no limit).
        refresh: the refresh hint for subscribers.
        url: the feed's page, linked from the calendar (its URL property).
    """

    schedule: ScheduleOptions = field(default_factory=ScheduleOptions)
    view: CalendarView = CalendarView.COMBINED
    history: HistoryMode = HistoryMode.RECENT
    max_bytes: int | None = MAX_FEED_BYTES
    refresh: timedelta = DEFAULT_REFRESH
    url: str | None = None


@dataclass(frozen=True, slots=True)
class PublishedEvent:
    """One event as published: enough to report it without parsing the calendar."""

    uid: str
    kind: EventKind
    summary: str
    sequence: int
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class ExportedCalendar:
    """The result of :func:`build_calendar`.

    Attributes:
        body: the calendar, RFC 5545 text encoded as UTF-8.
        etag: a strong entity tag for ``body`` (quoted).
        last_modified: when anything in the calendar last changed (UTC, whole seconds).
        schedule: the schedule's events.
        sessions: how many sessions are shown one by one.
        summaries: how many summary events stand for older sessions.
        marks: how many occurrences are marked done or missed.
    """

    body: bytes
    etag: str
    last_modified: datetime
    schedule: tuple[PublishedEvent, ...]
    sessions: int
    summaries: int
    marks: int = 0


def build_calendar(
    routine: Routine,
    sessions: Sequence[SessionRecord],
    *,
    start: date,
    ledger: EventLedger,
    now: datetime,
    options: ExportOptions | None = None,
    renderer: HistoryRenderer | None = None,
    plans: Sequence[Plan] | None = None,
) -> ExportedCalendar:
    """Build the calendar of ``routine`` and its ``sessions``.

    Args:
        routine: the routine whose schedule is published.
        sessions: stored sessions to publish as history.
        start: the first day of the schedule, in the schedule's zone.
        ledger: the revision ledger (read and updated).
        now: the current time (aware); new and changed events are stamped with it.
        options: what to publish; the defaults publish the schedule and recent history.
        renderer: a history renderer to reuse between builds (its cache makes rebuilds fast).
        plans: the routine as it was in force over time, oldest first (``wearsync.sync.history.
            plans_in_store`` reads them from the push log); the done and missed marks follow the
            plan in force at each occurrence, as adherence does. None: ``routine`` from
            ``start`` on. The published series are ``routine``'s, from the last plan's start
            when there are several (earlier occurrences keep their own events).

    Raises:
        InputError: the schedule cannot be published as given (see ``plan_schedule``).
    """
    opts = options or ExportOptions()
    zone = routine.schedule.zone
    current = effective_routine(routine, opts.schedule)
    history_plans = [
        Plan(effective_routine(p.routine, opts.schedule), p.since) for p in plans or ()
    ] or [Plan(current)]
    planned: list[PlannedEvent] = []
    if opts.view is not CalendarView.HISTORY:
        since = history_plans[-1].since if len(history_plans) > 1 else None
        planned = plan_schedule(current, start, opts.schedule, since=since)
    head = _calendar(routine, opts, zone_needed=bool(planned))
    zone_text = b""
    if planned:
        tz = vtimezone(zone, start, now.astimezone(zone).date())
        zone_text = tz.to_ical()
        head.add_component(tz)
    fixed = len(head.to_ical()) + sum(_planned_size(p) for p in planned)
    history: list[RenderedEvent] = []
    if opts.view is not CalendarView.HISTORY and opts.history is not HistoryMode.NONE:
        marks = mark_events(
            _matched(history_plans, sessions, start, now),
            planned,
            routine=current,
            cache=(renderer or HistoryRenderer()).marks,
        )
    else:
        marks = []
    if opts.view is not CalendarView.SCHEDULE or marks:
        history = select_history(
            sessions if opts.view is not CalendarView.SCHEDULE else (),
            marks=marks,
            mode=opts.history,
            routine=routine.name,
            title=routine.title,
            zone=zone,
            now=now,
            budget=None if opts.max_bytes is None else max(0, opts.max_bytes - fixed),
            renderer=renderer or HistoryRenderer(),
        )
    fingerprints = {p.uid: p.fingerprint() for p in planned}
    fingerprints.update((h.uid, h.fingerprint) for h in history)
    whole = calendar_uid(routine.name, opts.view, opts.history)
    fingerprints[whole] = _calendar_fingerprint(fingerprints, opts, zone_text)
    entries = revise(ledger, fingerprints, now)
    calendar_entry = entries[whole]
    head["LAST-MODIFIED"] = _utc_property(calendar_entry.last_modified)
    published = []
    for p in planned:
        entry = entries[p.uid]
        head.add_component(_event(p, entry))
        published.append(
            PublishedEvent(p.uid, p.kind, p.summary, entry.sequence, entry.last_modified)
        )
    text = head.to_ical()
    assert text.endswith(_END)
    body = b"".join(
        [text[: -len(_END)], *(_history_event(h, entries[h.uid]) for h in history), _END]
    )
    return ExportedCalendar(
        body=body,
        etag='"' + hashlib.sha256(body).hexdigest()[:40] + '"',
        last_modified=whole_seconds(calendar_entry.last_modified),
        schedule=tuple(published),
        sessions=sum(1 for h in history if h.kind is EventKind.SESSION),
        summaries=sum(1 for h in history if h.kind is EventKind.SUMMARY),
        marks=sum(1 for h in history if h.kind is EventKind.MARK),
    )


def _matched(
    plans: Sequence[Plan],
    sessions: Sequence[SessionRecord],
    first_day: date,
    now: datetime,
) -> list[Matched]:
    """What became of the occurrences from the history window's start up to the open buckets.

    The window starts on the first day of the oldest month the recent history shows one by one
    (``RECENT_MONTHS``), in both modes: marks are about the current plan's recent days, older
    months have their sessions (or summaries), and a five-year ``all`` feed stays quick to
    build. It ends an interval past ``now``, so that an occurrence done early is marked too.
    """
    zone = plans[-1].routine.schedule.zone
    today = now.astimezone(zone).date()
    month = today.year * 12 + today.month - 1 - (RECENT_MONTHS - 1)
    lo = max(
        datetime.combine(first_day, time(0), tzinfo=zone),
        datetime.combine(date(month // 12, month % 12 + 1, 1), time(0), tzinfo=zone),
    )
    longest = timedelta(days=max(interval_days(p.routine.schedule) for p in plans) + 1)
    hi = now + longest
    found = occurrences_planned(plans, first_day=first_day, start=lo, end=hi)
    # A session can count only for an occurrence of its bucket, at most an interval earlier.
    done = [
        (s.entry, s.started_at)
        for s in sessions
        if s.status in DONE_STATUSES and s.started_at >= lo - longest
    ]
    return match_sessions(plans, found, done, first_day=first_day, now=now)


def _calendar(routine: Routine, opts: ExportOptions, *, zone_needed: bool) -> Calendar:
    name = routine.title if opts.view is not CalendarView.HISTORY else f"{routine.title}: history"
    description = f"wearsync: {routine.title} ({routine.name})"
    # Built property by property rather than with Calendar.new(), which adds a calendar-level
    # UID (vdirsyncer/khal copy calendar properties into every event and then key events by the
    # first UID, so all events but one were lost) and writes NAME and X-WR-CALDESC unescaped.
    cal = Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", PRODID)
    cal.add("CALSCALE", "GREGORIAN")
    # Every TEXT property escaped alike (RFC 5545 section 3.3.11): vText does it.
    for prop, value in (
        ("NAME", name),
        ("X-WR-CALNAME", name),
        ("DESCRIPTION", description),
        ("X-WR-CALDESC", description),
    ):
        cal[prop] = vText(value)
    if opts.url:
        # The page, not the secret feed URL; left out of every fingerprint, so serving on
        # another port moves no SEQUENCE.
        cal["URL"] = vUri(opts.url)
    cal.add("REFRESH-INTERVAL", opts.refresh)
    # RFC 7986 section 5.7 requires the VALUE parameter.
    cal["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"
    if zone_needed:
        cal["X-WR-TIMEZONE"] = routine.schedule.timezone
    # An X- property is TEXT to icalendar; give it the DURATION text Outlook expects (PT1H).
    cal["X-PUBLISHED-TTL"] = vDuration(opts.refresh)
    return cal


def _calendar_fingerprint(fingerprints: dict[str, str], opts: ExportOptions, zone: bytes) -> str:
    # Covers removals too: an event that leaves the calendar changes this digest, so the
    # calendar's LAST-MODIFIED (and the HTTP Last-Modified) still moves forward.
    digest = hashlib.sha256()
    for uid in sorted(fingerprints):
        digest.update(f"{uid}={fingerprints[uid]};".encode())
    digest.update(f"{opts.refresh.total_seconds()};".encode())
    digest.update(zone)
    return digest.hexdigest()


def _utc_property(moment: datetime) -> vDDDTypes:
    return vDDDTypes(whole_seconds(moment))


def _event(planned: PlannedEvent, entry: LedgerEntry) -> Event:
    event = Event.new(
        uid=planned.uid,
        summary=planned.summary,
        description=planned.description,
        start=planned.start,
        end=planned.start + planned.duration,
        stamp=whole_seconds(entry.last_modified),
        last_modified=whole_seconds(entry.last_modified),
        sequence=entry.sequence,
        categories=["Exercise"],
    )
    event.add("RRULE", {"FREQ": "DAILY", "INTERVAL": planned.interval_days})
    if planned.reminder is not None:
        alarm = Alarm.new(description=planned.summary)
        alarm.add("ACTION", "DISPLAY")
        alarm.add("TRIGGER", -planned.reminder)
        event.add_component(alarm)
    return event


def _planned_size(planned: PlannedEvent) -> int:
    # An upper bound is enough: it only decides how much room the history gets.
    return 600 + 2 * len((planned.summary + planned.description).encode())


def _history_event(event: RenderedEvent, entry: LedgerEntry) -> bytes:
    stamp = utc_stamp(entry.last_modified)
    return "".join(
        (
            "BEGIN:VEVENT\r\n",
            event.body,
            f"DTSTAMP:{stamp}\r\nLAST-MODIFIED:{stamp}\r\nSEQUENCE:{entry.sequence}\r\n",
            "END:VEVENT\r\n",
        )
    ).encode()
