"""Default vibration cues and the slots of a timer step that play them.

A *slot* is the moment a cue plays (the start of a hold, the tick of a countdown); a *cue* is a
named pattern. By default each slot plays the cue of the same name; a routine can redefine a cue
(``[cues.hold_start]``) or point an exercise's slot at another cue (``cues = {hold_start =
"strong"}``).
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field, field_validator

from wearsync.routine.base import Frozen


class Cue(Frozen):
    """A named vibration pattern: alternating motor-on and motor-off times in milliseconds.

    ``pattern`` starts with an on time; ``[300, 100, 300]`` is two pulses with a gap.
    """

    pattern: Annotated[tuple[Annotated[int, Field(ge=10, le=5000)], ...], Field(min_length=1)]
    strength: Annotated[int, Field(ge=1, le=100)] = 100

    @field_validator("pattern")
    @classmethod
    def _odd_length(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(v) % 2 == 0:
            raise ValueError("pattern must start and end with a motor-on time (odd length)")
        if len(v) > 15:
            raise ValueError("pattern has more than 15 on/off times")
        return v


#: Every slot a step can play a cue in.
CUE_SLOTS: Final = (
    "prepare",
    "hold_start",
    "hold_end",
    "work_start",
    "rest_start",
    "set_rest",
    "switch_side",
    "direction_change",
    "transition",
    "countdown",
    "session_end",
)

#: The default cues, chosen to be told apart by feel: one long pulse starts effort, a double
#: pulse ends it, a triple pulse announces a change of side, short ticks count down.
DEFAULT_CUES: Final[dict[str, Cue]] = {
    "prepare": Cue(pattern=(100, 150, 100, 150, 100)),
    "hold_start": Cue(pattern=(600,)),
    "hold_end": Cue(pattern=(150, 100, 150)),
    "work_start": Cue(pattern=(600,)),
    "rest_start": Cue(pattern=(150, 100, 150)),
    "set_rest": Cue(pattern=(150, 100, 150, 100, 150)),
    "switch_side": Cue(pattern=(300, 150, 300, 150, 300)),
    "direction_change": Cue(pattern=(200, 100, 200)),
    "transition": Cue(pattern=(900,)),
    "countdown": Cue(pattern=(60,), strength=60),
    "session_end": Cue(pattern=(1000, 200, 1000)),
    # not a step's cue: what a watch that knows the schedule buzzes at a planned time
    "reminder": Cue(pattern=(500, 250, 500)),
}

#: How many seconds before the end of a hold the countdown ticks start (one tick a second).
DEFAULT_COUNTDOWN_SECONDS: Final = 3
