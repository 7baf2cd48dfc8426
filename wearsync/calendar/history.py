"""Stored sessions as past events, windowed so that the feed stays small.

Each :class:`~wearsync.records.SessionRecord` becomes a VEVENT at its real start and end (UTC)
with its status in SUMMARY and DESCRIPTION. The text is written directly
(:mod:`wearsync.calendar.icstext`) and cached per record by :class:`HistoryRenderer`, so a feed
with years of sessions is rebuilt in milliseconds when one session arrives.

:func:`select_history` decides what is shown (the done and missed marks of
:mod:`wearsync.calendar.marks` go with their month, as the sessions do):

- ``all``: every session;
- ``recent`` (the default): the sessions of the current month and the eleven before, newest
  month first, as long as they fit the byte budget; every older month (or recent month that did
  not fit) becomes one all-day summary event on its first day, and months more than ten years
  back one summary per year. Whole months move at once, so a month is never half shown;
- ``none``: no history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from wearsync.calendar.icstext import date_value, fold, text_line, utc_stamp
from wearsync.calendar.schedule import EventKind
from wearsync.calendar.uids import session_uid, summary_uid
from wearsync.records import ExerciseStatus, SessionRecord, SessionStatus

RECENT_MONTHS = 12
"""Months (the current one included) whose sessions are shown one by one."""

MONTHLY_SUMMARIES = 120
"""Months summarised one by one before older history is summarised per year."""

EVENT_OVERHEAD = 100
"""Bytes each event adds beyond its body: BEGIN/END, DTSTAMP, LAST-MODIFIED and SEQUENCE."""

_MIN_LENGTH = timedelta(minutes=1)

_STATUS_WORDS = {
    SessionStatus.COMPLETED: "completed",
    SessionStatus.PARTIAL: "partial",
    SessionStatus.ABORTED: "aborted",
    SessionStatus.INTERRUPTED: "interrupted",
    SessionStatus.IN_PROGRESS: "in progress",
}
_EXERCISE_WORDS = {
    ExerciseStatus.DONE: "done",
    ExerciseStatus.SKIPPED: "skipped",
    ExerciseStatus.NOT_REACHED: "not reached",
}
_FULL_HISTORY_HINT = (
    "Older months are summarised to keep the feed small; for every session add ?history=all "
    "to the feed URL, or run: wearsync export ics --history all"
)


class HistoryMode(StrEnum):
    """Which sessions a calendar shows."""

    RECENT = "recent"
    ALL = "all"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class RenderedEvent:
    """A VEVENT's content lines, without BEGIN/END and the revision lines (DTSTAMP, SEQUENCE,
    LAST-MODIFIED), which come from the ledger.

    Attributes:
        uid: the UID (also the first line of ``body``); for a mark, its ledger key
            (``<UID>;RECURRENCE-ID=<start>``, :mod:`wearsync.calendar.marks`).
        kind: session, summary or mark (a done or missed occurrence).
        body: folded content lines, each ending in CRLF.
        size: ``body`` in bytes.
        fingerprint: SHA-256 of ``body``.
        start: when the event starts, for ordering.
    """

    uid: str
    kind: EventKind
    body: str
    size: int
    fingerprint: str
    start: datetime


def _rendered(uid: str, kind: EventKind, lines: Iterable[str], start: datetime) -> RenderedEvent:
    body = "".join(lines)
    raw = body.encode()
    return RenderedEvent(uid, kind, body, len(raw), hashlib.sha256(raw).hexdigest(), start)


def _clock(seconds: float) -> str:
    whole = int(seconds + 0.5) if seconds > 0 else 0
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _end(record: SessionRecord) -> datetime:
    if record.ended_at is not None and record.ended_at > record.started_at:
        return record.ended_at
    worked = timedelta(milliseconds=sum(e.duration_ms for e in record.exercises))
    return record.started_at + max(worked, _MIN_LENGTH)


def _floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _ceil_minute(moment: datetime) -> datetime:
    # Minute-based clients (calcurse) reject seconds; the event still covers the whole session.
    floor = _floor_minute(moment)
    return floor if floor == moment else floor + timedelta(minutes=1)


class HistoryRenderer:
    """Renders sessions as VEVENT text, remembering each record's text.

    A renderer lives as long as the feed server; the cache is keyed by the (frozen, hashable)
    record itself, so an updated record is rendered again, and is cleared when the routine's
    title or the feed page changes.
    """

    def __init__(self, max_cached: int = 50_000) -> None:
        self._cache: dict[SessionRecord, RenderedEvent] = {}
        self._context = ""
        self._max = max_cached
        self.marks: dict[Hashable, RenderedEvent] = {}
        """The done and missed marks' text (:mod:`wearsync.calendar.marks`), by what they show."""

    def session(self, record: SessionRecord, title: str) -> RenderedEvent:
        """The event for one session."""
        if self._context != title:
            self._cache.clear()
            self._context = title
        hit = self._cache.get(record)
        if hit is not None:
            return hit
        if len(self._cache) >= self._max:
            self._cache.clear()
        event = self._render(record, title)
        self._cache[record] = event
        return event

    @staticmethod
    def _render(record: SessionRecord, title: str) -> RenderedEvent:
        # The hot path of a full-history build (thousands of calls): plain loops, no helpers
        # that allocate per exercise beyond the line itself.
        uid = session_uid(record.key)
        done = skipped = 0
        rows = []
        for ex in record.exercises:
            status = ex.status
            if status is ExerciseStatus.DONE:
                done += 1
            elif status is ExerciseStatus.SKIPPED:
                skipped += 1
            word = _EXERCISE_WORDS.get(status) or str(status)
            rows.append(
                f"{ex.name}: {word} ({_clock(ex.duration_ms / 1000)})"
                if ex.duration_ms
                else f"{ex.name}: {word}"
            )
        words = _STATUS_WORDS.get(record.status) or str(record.status)
        status_words = f"{words}, {skipped} skipped" if skipped else words
        head = f"{status_words.capitalize()}: {done} of {len(record.exercises)} exercises done"
        if record.ended_at is not None:
            head += f" in {_clock((record.ended_at - record.started_at).total_seconds())}"
        rows.insert(0, f"{head} (watch {record.device}).")
        lines = [
            fold(f"UID:{uid}"),
            f"DTSTART:{utc_stamp(_floor_minute(record.started_at))}\r\n",
            f"DTEND:{utc_stamp(_ceil_minute(_end(record)))}\r\n",
            text_line("SUMMARY", f"{title}: {status_words}"),
            text_line("DESCRIPTION", "\n".join(rows)),
            "TRANSP:TRANSPARENT\r\n",
        ]
        return _rendered(uid, EventKind.SESSION, lines, record.started_at)


@dataclass(frozen=True, slots=True)
class _Period:
    key: str  # "2025-03" or "2015"
    label: str  # "March 2025" or "2015"
    first_day: date


def _summary(
    routine: str, title: str, period: _Period, records: Sequence[SessionRecord]
) -> RenderedEvent:
    uid = summary_uid(routine, period.key)
    counts: dict[str, int] = {}
    for r in records:
        word = _STATUS_WORDS.get(r.status) or str(r.status)
        counts[word] = counts.get(word, 0) + 1
    ordered = [f"{counts[w]} {w}" for w in _STATUS_WORDS.values() if w in counts]
    worked = sum((_end(r) - r.started_at for r in records), timedelta())
    n = len(records)
    summary = f"{title}: {period.label}, {n} session{'s' if n != 1 else ''} ({', '.join(ordered)})"
    description = "\n".join(
        [
            f"{n} sessions in {period.label}: {', '.join(ordered)}.",
            f"Time exercising: {_clock(worked.total_seconds())}.",
            _FULL_HISTORY_HINT,
        ]
    )
    lines = [
        fold(f"UID:{uid}"),
        f"DTSTART;VALUE=DATE:{date_value(period.first_day)}\r\n",
        f"DTEND;VALUE=DATE:{date_value(period.first_day + timedelta(days=1))}\r\n",
        text_line("SUMMARY", summary),
        text_line("DESCRIPTION", description),
        "TRANSP:TRANSPARENT\r\n",
    ]
    start = datetime.combine(
        period.first_day, datetime.min.time(), tzinfo=records[0].started_at.tzinfo
    )
    return _rendered(uid, EventKind.SUMMARY, lines, start)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def select_history(
    sessions: Sequence[SessionRecord],
    *,
    mode: HistoryMode,
    routine: str,
    title: str,
    zone: ZoneInfo,
    now: datetime,
    budget: int | None,
    renderer: HistoryRenderer,
    marks: Sequence[RenderedEvent] = (),
) -> list[RenderedEvent]:
    """The history events to publish, oldest first.

    ``marks`` (the done and missed occurrences, :mod:`wearsync.calendar.marks`) go with the
    month of their start: in ``recent`` mode a month is shown with its sessions and its marks,
    or summarised without either; ``all`` shows every mark.

    Args:
        sessions: the sessions to show (any order).
        mode: which sessions (see :class:`HistoryMode`).
        routine: the routine's name (in summary UIDs).
        title: the routine's title (in summaries).
        zone: the zone whose months group sessions.
        now: the current time, which decides what is recent.
        budget: bytes the history may take in ``recent`` mode (None: no limit).
        renderer: renders and caches the session events.
        marks: done and missed marks to show with their months.
    """
    if mode is HistoryMode.NONE or not (sessions or marks):
        return []
    ordered = sorted(sessions, key=lambda s: (s.started_at, s.key))
    if mode is HistoryMode.ALL:
        shown_all = [renderer.session(s, title) for s in ordered]
        if not marks:
            return shown_all  # the order (and so the bytes) of a feed without marks as before
        return sorted(shown_all + list(marks), key=lambda e: (e.start, e.uid))
    this_month = _month_index(now.astimezone(zone).date())
    months: dict[int, list[SessionRecord]] = {}
    for s in ordered:
        months.setdefault(_month_index(s.started_at.astimezone(zone).date()), []).append(s)
    marked: dict[int, list[RenderedEvent]] = {}
    for m in marks:
        marked.setdefault(_month_index(m.start.astimezone(zone).date()), []).append(m)
    summaries = _summaries(routine, title, months, this_month)
    limit = budget if budget is not None else 1 << 62
    older_cost = sum(e.size + EVENT_OVERHEAD for e in summaries.values())
    shown: list[RenderedEvent] = []
    used = 0
    for month in sorted(months.keys() | marked.keys(), reverse=True):
        if month <= this_month - RECENT_MONTHS:
            break
        events = [renderer.session(s, title) for s in months.get(month, ())]
        events += marked.get(month, ())
        cost = sum(e.size + EVENT_OVERHEAD for e in events)
        own_summary = summaries.get(month)
        freed = own_summary.size + EVENT_OVERHEAD if own_summary is not None else 0
        if used + cost + older_cost - freed > limit:
            break
        shown.extend(events)
        used += cost
        older_cost -= freed
        summaries.pop(month, None)
    picked = shown + _rolled_up(routine, title, summaries, months, this_month)
    return sorted(picked, key=lambda e: (e.start, e.uid))


def _summaries(
    routine: str,
    title: str,
    months: dict[int, list[SessionRecord]],
    this_month: int,
) -> dict[int, RenderedEvent]:
    """A summary for every month within the monthly span (later dropped for shown months)."""
    out: dict[int, RenderedEvent] = {}
    for month, records in months.items():
        if month <= this_month - MONTHLY_SUMMARIES:
            continue
        first = date(month // 12, month % 12 + 1, 1)
        period = _Period(f"{first:%Y-%m}", f"{first:%B %Y}", first)
        out[month] = _summary(routine, title, period, records)
    return out


def _rolled_up(
    routine: str,
    title: str,
    monthly: dict[int, RenderedEvent],
    months: dict[int, list[SessionRecord]],
    this_month: int,
) -> list[RenderedEvent]:
    """The remaining monthly summaries, plus one summary per year beyond the monthly span."""
    years: dict[int, list[SessionRecord]] = {}
    for month, records in months.items():
        if month <= this_month - MONTHLY_SUMMARIES:
            years.setdefault(month // 12, []).extend(records)
    yearly = [
        _summary(routine, title, _Period(str(y), str(y), date(y, 1, 1)), records)
        for y, records in years.items()
    ]
    return list(monthly.values()) + yearly
