"""The adherence page: planned against done per week, for the routine and each daily repeat.

The figures come from :func:`wearsync.sync.history.summarize`, the same report ``wearsync
history`` prints: one call for the last 30 days, and one per week for the chart. One row (and
one chart) per entry the report gives (:func:`entry_counts`), so when the report counts each
daily repeat on its own, the page shows it without change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from wearsync.sync.history import HistoryReport, summarize
from wearsync.web.chart import Bar, bar_chart
from wearsync.web.data import PageData
from wearsync.web.markup import esc, page

WEEKS = 12
"""Weeks in the chart (fewer when the schedule started more recently)."""
WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class EntryCount:
    """Planned and done occurrences of one entry (the routine, or one daily repeat)."""

    name: str
    planned: int
    done: int


@dataclass(frozen=True, slots=True)
class Week:
    """The seven local days ``first``..``last`` and each entry's counts in them."""

    first: date
    last: date
    entries: tuple[EntryCount, ...]


def entry_counts(report: HistoryReport) -> tuple[EntryCount, ...]:
    """One :class:`EntryCount` per entry the report counts."""
    return tuple(EntryCount(e.name, e.planned, e.done) for e in report.entries)


def report_until(data: PageData, now: datetime, days: int) -> HistoryReport:
    """The history report of the ``days`` local days up to ``now``."""
    return summarize(
        list(data.sessions), data.plans, first_day=data.first_day, now=now, window_days=days
    )


def weeks(data: PageData, count: int = WEEKS) -> list[Week]:
    """The last ``count`` weeks (seven days ending today, and the weeks before), oldest first."""
    zone = data.routine.schedule.zone
    today = data.now.astimezone(zone).date()
    since_start = (today - data.first_day).days // 7 + 1
    found = []
    for back in range(max(1, min(count, since_start))):
        last = today - timedelta(days=7 * back)
        # A past week is counted as it stood at its end; the current one as it stands now.
        end = data.now if back == 0 else datetime.combine(last, time.max, tzinfo=zone)
        report = report_until(data, end, 7)
        found.append(Week(last - timedelta(days=6), last, entry_counts(report)))
    return found[::-1]


def render_adherence(data: PageData) -> bytes:
    """The adherence page."""
    report = report_until(data, data.now, WINDOW_DAYS)
    parts = [_last_days(report)]
    history = weeks(data)
    names = [entry.name for entry in history[-1].entries]
    parts.append('<h2 id="weekly">Planned and done per week</h2>')
    parts.append(
        '<ul class="key" aria-hidden="true">'
        '<li><svg width="14" height="14"><rect class="planned" x="1" y="1" width="12" '
        'height="12"/></svg> planned</li>'
        '<li><svg width="14" height="14"><rect class="done" x="1" y="1" width="12" '
        'height="12"/></svg> done</li></ul>'
    )
    for i, name in enumerate(names):
        bars = [
            Bar(
                label=f"{w.first:%d %b}",
                planned=w.entries[i].planned,
                done=w.entries[i].done,
            )
            for w in history
            if i < len(w.entries)
        ]
        ident = f"chart-{i}"
        parts.append(f'<h3 id="{ident}-h">{esc(name.capitalize())}</h3>')
        parts.append(
            bar_chart(
                bars,
                ident=ident,
                title=f"{name}: planned and done per week",
                description=f"Bars for the last {len(bars)} weeks, oldest first; "
                "the table below gives the same figures.",
            )
        )
        parts.append(_week_table(name, history, i))
    return page(
        title="Adherence",
        current="adherence",
        heading="Adherence",
        body="".join(parts),
        site=data.routine.title,
    )


def _last_days(report: HistoryReport) -> str:
    rows = "".join(
        f'<tr><th scope="row">{esc(e.name.capitalize())}</th><td class="n">{e.done}</td>'
        f'<td class="n">{e.planned}</td><td class="n">{_percent(e.done, e.planned)}</td></tr>'
        for e in entry_counts(report)
    )
    return (
        f'<h2 id="last">Last {report.window_days} days</h2>'
        f"<p>{esc(report.since)} to {esc(report.until)} ({esc(report.timezone)}): "
        f"<strong>{report.done} of {report.planned}</strong> planned sessions and daily "
        f"repeats done ({_percent(report.done, report.planned)}); {report.aborted} aborted, "
        f"{report.interrupted} interrupted; {report.exercises_done} exercises done, "
        f"{report.exercises_skipped} skipped.</p>"
        '<div class="table"><table><caption>Planned and done, last '
        f"{report.window_days} days</caption><thead><tr><th scope=col>Entry</th>"
        '<th scope=col class="n">Done</th><th scope=col class="n">Planned</th>'
        f'<th scope=col class="n">Adherence</th></tr></thead><tbody>{rows}</tbody></table></div>'
    )


def _week_table(name: str, history: list[Week], i: int) -> str:
    rows = "".join(
        f'<tr><th scope="row">{esc(f"{w.first:%d %b} to {w.last:%d %b %Y}")}</th>'
        f'<td class="n">{w.entries[i].done}</td><td class="n">{w.entries[i].planned}</td></tr>'
        for w in reversed(history)
        if i < len(w.entries)
    )
    return (
        f"<details><summary>{esc(name.capitalize())}: the figures as a table</summary>"
        f'<div class="table"><table><caption>{esc(name.capitalize())} per week, newest first'
        '</caption><thead><tr><th scope=col>Week</th><th scope=col class="n">Done</th>'
        f'<th scope=col class="n">Planned</th></tr></thead><tbody>{rows}</tbody></table></div>'
        "</details>"
    )


def _percent(done: int, planned: int) -> str:
    return f"{done / planned:.0%}" if planned else "&ndash;"
