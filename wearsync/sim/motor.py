"""The simulated vibration motor: every cue played, every motor-on span, with timestamps.

A cue (§5.3) is a pattern of on, off, on, ... times. :meth:`Motor.play` records one
:class:`Vibration` per cue and one :class:`Pulse` per motor-on span. Times are kept two ways:
``session_ms``/``start_ms`` in session time (pauses excluded, so a step's cue is at exactly the
step's ``start_ms`` from the program's expansion), and ``at_ms``/``utc`` on the
watch's own clocks (uptime and UTC, if set).

A pattern, once started, plays to its end; a new cue replaces one still playing (the motor
driver restarts with the new pattern), so pulses never overlap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

logger = logging.getLogger(__name__)


class CuePattern(Protocol):
    """What the motor needs of a cue: its name, on/off times (ms) and strength (percent)."""

    @property
    def name(self) -> str:
        """The cue's name."""
        ...

    @property
    def pattern(self) -> tuple[int, ...]:
        """On, off, on, ... times in milliseconds."""
        ...

    @property
    def strength(self) -> int:
        """Motor strength in percent."""
        ...


@dataclass(frozen=True)
class Pulse:
    """One span of the motor running.

    Attributes:
        start_ms: when the motor started, in session time (pauses excluded).
        end_ms: when it stopped, in session time.
        strength: motor strength in percent.
        cue: the name of the cue the pulse belongs to.
        session: which session of this motor's life it belongs to, from 1.
        at_ms: when it started, in watch uptime milliseconds.
        utc: when it started on the watch's UTC clock, if the clock is set.
    """

    start_ms: int
    end_ms: int
    strength: int
    cue: str
    session: int = 1
    at_ms: int = 0
    utc: datetime | None = None

    @property
    def duration_ms(self) -> int:
        """How long the motor ran."""
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Vibration:
    """A cue as it starts playing: what a live display prints.

    Attributes:
        cue: the cue's name.
        pattern: its on, off, on, ... times in milliseconds.
        strength: motor strength in percent.
        session_ms: session time (pauses excluded) when it started.
        step: the index of the step playing it, or ``None`` for the end cue.
        at_ms: watch uptime in milliseconds when it started.
        utc: the watch's UTC time when it started, if the clock is set.
    """

    cue: str
    pattern: tuple[int, ...]
    strength: int
    session_ms: int
    step: int | None
    at_ms: int
    utc: datetime | None

    def describe(self) -> str:
        """One line for people, e.g. ``hold_start 600 ms`` or ``hold_end 150/100/150 ms``."""
        where = "end" if self.step is None else f"step {self.step}"
        pattern = "/".join(str(t) for t in self.pattern)
        strength = "" if self.strength == 100 else f" at {self.strength}%"
        return f"{where}: {self.cue} {pattern} ms{strength}"


VibrationListener = Callable[[Vibration], None]


class Motor:
    """Records what the watch's vibration motor does.

    Args:
        on_vibration: called with each cue as it starts (for a live display).

    Attributes:
        pulses: every motor-on span, in order.
        vibrations: every cue played, in order.
        session: the number of the current (or last) session, 0 before the first.
    """

    def __init__(self, on_vibration: VibrationListener | None = None) -> None:
        self.on_vibration = on_vibration
        self.pulses: list[Pulse] = []
        self.vibrations: list[Vibration] = []
        self.session = 0
        # Index of the first pulse of the pattern playing last: only it can be cut short.
        self._pattern_from = 0

    def begin_session(self) -> None:
        """Start numbering a new session (session time starts again at 0)."""
        self.session += 1
        self._pattern_from = len(self.pulses)

    def play(
        self,
        cue: CuePattern,
        *,
        session_ms: int,
        step: int | None,
        at_ms: int,
        utc: datetime | None,
    ) -> None:
        """Start playing ``cue`` now, cutting short any pattern still running."""
        self._cut(session_ms)
        self._pattern_from = len(self.pulses)
        offset = 0
        for n, span in enumerate(cue.pattern):
            if n % 2 == 0:
                shift = offset
                self.pulses.append(
                    Pulse(
                        start_ms=session_ms + shift,
                        end_ms=session_ms + shift + span,
                        strength=cue.strength,
                        cue=cue.name,
                        session=self.session,
                        at_ms=at_ms + shift,
                        utc=None if utc is None else _plus_ms(utc, shift),
                    )
                )
            offset += span
        vibration = Vibration(cue.name, cue.pattern, cue.strength, session_ms, step, at_ms, utc)
        self.vibrations.append(vibration)
        logger.debug("vibrate %s at %d ms", vibration.describe(), session_ms)
        if self.on_vibration is not None:
            self.on_vibration(vibration)

    def clear(self) -> None:
        """Forget what was recorded."""
        self.pulses.clear()
        self.vibrations.clear()
        self._pattern_from = 0

    def _cut(self, now_ms: int) -> None:
        # Pulses of the pattern still playing that have not started are dropped; one running
        # is cut short at now.
        kept: list[Pulse] = []
        for pulse in self.pulses[self._pattern_from :]:
            if pulse.end_ms <= now_ms:
                kept.append(pulse)
            elif pulse.start_ms < now_ms:
                kept.append(replace(pulse, end_ms=now_ms))
        del self.pulses[self._pattern_from :]
        self.pulses.extend(kept)


def _plus_ms(moment: datetime, ms: int) -> datetime:
    return moment + timedelta(milliseconds=ms)
