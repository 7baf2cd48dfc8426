"""The routine page: each exercise with its instructions, equipment, structure and time, the
total, and the schedule with its next occurrences."""

from __future__ import annotations

from datetime import datetime, timedelta

from wearsync.routine.describe import describe_exercise, describe_schedule
from wearsync.routine.model import Exercise, Side
from wearsync.routine.occurrences import ROUTINE_ENTRY, occurrences
from wearsync.web.data import PageData
from wearsync.web.markup import duration_text, esc, page

NEXT_DAYS = 4
"""How many days ahead the next occurrences are listed."""


def render_routine(data: PageData) -> bytes:
    """The routine page."""
    routine, program = data.routine, data.program
    parts = []
    if routine.description:
        parts.append(f"<p>{esc(routine.description)}</p>")
    parts.append(
        '<dl class="facts">'
        f"<dt>Exercises</dt><dd>{len(routine.exercises)}</dd>"
        f"<dt>Total time</dt><dd>{esc(duration_text(program.total_ms))}"
        " (with preparation, transitions and rests)</dd>"
        f"<dt>Schedule</dt><dd>{esc(describe_schedule(routine))}</dd>"
    )
    if routine.schedule.session_minutes:
        parts.append(f"<dt>Session budget</dt><dd>{routine.schedule.session_minutes:g} min</dd>")
    parts.append("</dl>")
    if routine.source:
        parts.append(f'<p class="muted">Source: {esc(routine.source)}</p>')
    parts.append('<h2 id="exercises">Exercises</h2>')
    for number, (ex, pex) in enumerate(zip(routine.exercises, program.exercises, strict=True), 1):
        parts.append(_exercise(number, ex, pex.active_ms))
    parts.append(_next_occurrences(data))
    return page(
        title="Routine",
        current="./",
        heading=routine.title,
        body="".join(parts),
        site=routine.title,
    )


def _exercise(number: int, ex: Exercise, active_ms: int) -> str:
    facts = [
        ("Structure", describe_exercise(ex)),
        ("Time", duration_text(active_ms)),
        ("Equipment", ", ".join(ex.equipment) if ex.equipment else "none"),
    ]
    if ex.sides != (Side.BOTH,):
        facts.append(("Sides", ", ".join(s.value for s in ex.sides)))
    if ex.times_per_day > 1:
        facts.append(("Daily", f"{ex.times_per_day} times a day, every day"))
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    instructions = f"<p>{esc(ex.instructions)}</p>" if ex.instructions else ""
    return (
        f'<section class="card" aria-labelledby="ex-{esc(ex.id)}">'
        f'<h3 id="ex-{esc(ex.id)}">{number}. {esc(ex.name)}</h3>'
        f'{instructions}<dl class="facts">{rows}</dl></section>'
    )


def next_occurrences(data: PageData, days: int = NEXT_DAYS) -> list[tuple[datetime, str]]:
    """The schedule's occurrences from ``data.now`` to ``days`` ahead: (local start, what).

    They come from :mod:`wearsync.routine.occurrences`, the generator adherence counts with.
    """
    routine = data.routine
    found = []
    end = data.now + timedelta(days=days)
    for o in occurrences(routine, first_day=data.start, start=data.now, end=end):
        what = "the whole routine" if o.entry == ROUTINE_ENTRY else routine.exercise(o.entry).name
        found.append((o.local, what))
    return found


def _next_occurrences(data: PageData) -> str:
    upcoming = next_occurrences(data)
    head = f'<h2 id="next">Next {NEXT_DAYS} days</h2>'
    if not upcoming:
        return head + "<p>Nothing is planned in the next days.</p>"
    at_once: dict[datetime, list[str]] = {}
    for at, what in upcoming:
        at_once.setdefault(at, []).append(what)
    rows = "".join(
        f'<tr><td><time datetime="{esc(at.isoformat())}">{esc(at.strftime("%a %d %b %H:%M"))}'
        f"</time></td><td>{esc(', '.join(whats))}</td></tr>"
        for at, whats in at_once.items()
    )
    zone = esc(data.routine.schedule.timezone)
    return (
        head + '<div class="table"><table><caption>Planned sessions, times in '
        f"{zone}</caption><thead><tr><th scope=col>When</th><th scope=col>What</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></div>"
    )
