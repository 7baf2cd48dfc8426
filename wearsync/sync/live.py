"""What a live session view is told: one :class:`LiveUpdate` per stored event, in order.

Every driver turns what its watch sends into :class:`~wearsync.records.StoredEvent` records
once; the live view reads those, placed in the program they belong to (which step, which
exercise, the cue the watch played), and never a wire value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from wearsync.records import StoredEvent
from wearsync.routine.compiler import Step, TimerProgram

#: Give up when the watch has said nothing for this long (seconds of wall time).
SILENCE_TIMEOUT_S: Final = 120.0


@dataclass(frozen=True)
class LiveUpdate:
    """One thing that happened on the watch, with the program's view of it.

    Attributes:
        kind: the event's kind name (``step_started``, ``paused``, ...).
        step: the program step the watch is at, if known.
        exercise: that step's exercise name, if known.
        cue: the cue the watch played when the step started (only for ``step_started``).
        event: the stored event.
    """

    kind: str
    step: Step | None
    exercise: str | None
    cue: str | None
    event: StoredEvent

    @classmethod
    def of(cls, event: StoredEvent, program: TimerProgram | None) -> LiveUpdate:
        """``event`` placed in ``program`` (either may name a step or exercise it lacks)."""
        step = (
            program.steps[event.step]
            if program is not None and event.step < len(program.steps)
            else None
        )
        name = (
            program.exercises[event.exercise].name
            if program is not None and event.exercise < len(program.exercises)
            else None
        )
        cue = step.cue if step is not None and event.kind == "step_started" else None
        return cls(event.kind, step, name, cue, event)


#: Receives every update of a live session.
UpdateListener = Callable[[LiveUpdate], None]
