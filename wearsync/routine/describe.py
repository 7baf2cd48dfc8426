"""Short human descriptions of routines and exercises, shared by the CLI and the calendar export.

Pure functions of the model: ``hold 3 counts, release 2 s x 10 reps``, ``every 2-3 days at 18:00
(Europe/London)``. They describe what the routine file says (counts stay counts, ranges stay
ranges), not what the compiler chose.
"""

from __future__ import annotations

from wearsync.routine.model import Exercise, Routine, Span


def describe_span(word: str, span: Span) -> str:
    """``hold`` + ``Span(counts=3)`` -> ``hold 3 counts``; a range -> ``rest 10-15 s``."""
    if span.counts is not None:
        return f"{word} {span.counts} count{'s' if span.counts != 1 else ''}"
    if span.seconds is not None:
        return f"{word} {span.seconds:g} s"
    assert span.range is not None  # the model guarantees exactly one of the three
    return f"{word} {span.range.min:g}-{span.range.max:g} s"


def describe_exercise(ex: Exercise) -> str:
    """A short description of one exercise: holds or work, releases or rests, reps, sets, sides."""
    parts = []
    effort = ("hold", ex.hold) if ex.hold is not None else ("work", ex.work)
    after = ("release", ex.release) if ex.hold is not None else ("rest", ex.rest)
    for word, span in (effort, after):
        if span is not None:
            parts.append(describe_span(word, span))
    text = ", ".join(parts)
    if len(ex.directions) > 1:
        text += " (" + " then ".join(d.value for d in ex.directions) + ")"
    text += f" x {ex.reps} rep{'s' if ex.reps > 1 else ''}"
    if ex.sets > 1:
        text += f" x {ex.sets} sets"
        if ex.rest_between_sets is not None:
            text += f", {describe_span('rest', ex.rest_between_sets)} between sets"
    if len(ex.sides) > 1:
        text += " per side (" + ", ".join(s.value for s in ex.sides) + ")"
    return text


def describe_structure(routine: Routine, exercise_id: str) -> str:
    """The description of the exercise ``exercise_id`` of ``routine``.

    Raises:
        KeyError: the routine has no such exercise.
    """
    return describe_exercise(routine.exercise(exercise_id))


def describe_schedule(routine: Routine) -> str:
    """``every 2-3 days at 18:00 (Europe/London)``."""
    s = routine.schedule
    days = (
        f"{s.every_days.min:g}"
        if s.every_days.min == s.every_days.max
        else f"{s.every_days.min:g}-{s.every_days.max:g}"
    )
    times = ", ".join(t.strftime("%H:%M") for t in s.times)
    return f"every {days} days at {times} ({s.timezone})"
