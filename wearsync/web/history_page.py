"""The history page (sessions with status, duration, exercises done and skipped, and the watch)
and its CSV download (every session)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import timedelta

from wearsync.records import ExerciseStatus, SessionRecord
from wearsync.routine.occurrences import ROUTINE_ENTRY
from wearsync.web.data import PageData
from wearsync.web.markup import duration_text, esc, page

PAGE_DAYS = 90
"""Days of sessions listed on the page; the CSV has them all."""

CSV_COLUMNS = (
    "started",
    "entry",
    "ended",
    "status",
    "duration_s",
    "exercises_done",
    "exercises_total",
    "skipped",
    "watch",
    "watch_address",
)


def newest_first(data: PageData) -> list[SessionRecord]:
    """The sessions, newest first."""
    return sorted(data.sessions, key=lambda s: s.started_at, reverse=True)


def render_history(data: PageData) -> bytes:
    """The history page."""
    zone = data.routine.schedule.zone
    cutoff = data.now - timedelta(days=PAGE_DAYS)
    shown = [s for s in newest_first(data) if s.started_at >= cutoff]
    parts = [
        f"<p>Sessions of the last {PAGE_DAYS} days, newest first, times in "
        f"{esc(data.routine.schedule.timezone)}. "
        '<a href="history.csv" download>Download every session as CSV</a>.</p>'
    ]
    if not shown:
        parts.append(
            "<p>No sessions in these days yet. They appear here after the watch syncs.</p>"
        )
    else:
        rows = []
        for s in shown:
            local = s.started_at.astimezone(zone)
            done, skipped = _done_and_skipped(s)
            length = esc(duration_text(int(s.duration_s * 1000))) if s.duration_s else "&ndash;"
            status = s.status.value.replace("_", " ")
            rows.append(
                f'<tr><td data-label="Started"><time datetime="{esc(local.isoformat())}">'
                f"{esc(local.strftime('%a %d %b %Y %H:%M'))}</time></td>"
                f'<td data-label="What">{esc(_entry_name(data, s))}</td>'
                f'<td data-label="Status" class="{esc(s.status.value)}">{esc(status)}</td>'
                f'<td data-label="Duration" class="n">{length}</td>'
                f'<td data-label="Exercises done" class="n">{done} of {len(s.exercises)}</td>'
                f'<td data-label="Skipped">{esc(", ".join(skipped)) or "&ndash;"}</td>'
                f'<td data-label="Watch">{esc(data.watch_name(s.device))}</td></tr>'
            )
        parts.append(
            '<div class="table"><table class="stack"><caption>Sessions</caption><thead><tr>'
            "<th scope=col>Started</th><th scope=col>What</th><th scope=col>Status</th>"
            '<th scope=col class="n">Duration</th><th scope=col class="n">Exercises done</th>'
            "<th scope=col>Skipped</th><th scope=col>Watch</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    return page(
        title="History",
        current="history",
        heading="History",
        body="".join(parts),
        site=data.routine.title,
    )


def render_csv(data: PageData) -> bytes:
    """Every session as CSV (RFC 4180, UTF-8), newest first, times in the schedule's zone."""
    zone = data.routine.schedule.zone
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for s in newest_first(data):
        done, skipped = _done_and_skipped(s)
        writer.writerow(
            _cells(
                (
                    s.started_at.astimezone(zone).isoformat(),
                    s.entry,
                    s.ended_at.astimezone(zone).isoformat() if s.ended_at else "",
                    s.status.value,
                    f"{s.duration_s:.0f}" if s.duration_s is not None else "",
                    str(done),
                    str(len(s.exercises)),
                    "; ".join(skipped),
                    data.watch_name(s.device),
                    s.device,
                )
            )
        )
    return out.getvalue().encode()


def _entry_name(data: PageData, s: SessionRecord) -> str:
    """``Whole routine``, or the name of the exercise started on its own (a daily repeat)."""
    if s.entry == ROUTINE_ENTRY:
        return "Whole routine"
    try:
        return data.routine.exercise(s.entry).name
    except KeyError:  # an exercise the routine no longer has
        return s.entry


def _done_and_skipped(s: SessionRecord) -> tuple[int, list[str]]:
    done = sum(1 for e in s.exercises if e.status is ExerciseStatus.DONE)
    return done, [e.name for e in s.exercises if e.status is ExerciseStatus.SKIPPED]


def _cells(values: Iterable[str]) -> list[str]:
    # A watch advertises its own name: a cell starting with = + - @ would be a formula in a
    # spreadsheet, so such text gets a leading apostrophe (numbers and dates never start so).
    return [f"'{v}" if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v for v in values]
