"""Virtual time for the simulated watch: real time sped up, or a clock a test advances by hand.

Everything the watch times (steps, countdown ticks, a scripted wearer's pauses, uptime, the
UTC clock) reads one :class:`Clock` in milliseconds since the clock was made, and schedules
work with :meth:`Clock.call_at`. Two implementations:

* :class:`SimClock` follows the event loop's monotonic time, multiplied by ``speed``: at
  ``speed=60`` a 9-minute session runs in 9 seconds of real time.
* :class:`ManualClock` stands still until a test calls ``await clock.advance(ms)``, which runs
  every callback due in that span in time order, each with the clock set to its due time, so
  a session plays out deterministically and at once.

Example::

    clock = ManualClock()
    watch = await SimWatch.start(link, clock=clock)
    ...
    await clock.advance(60_000)   # one minute of watch time, instantly
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

#: Fastest a simulated watch runs. Faster, a second of real time is days of watch time and
#: integer milliseconds overflow nothing but stop meaning anything; infinity would not convert.
MAX_SPEED: Final = 10_000.0


class Timer(ABC):
    """A scheduled callback; :meth:`cancel` it to stop it from running."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop the callback from running (a no-op if it already ran)."""


class Clock(ABC):
    """Milliseconds of virtual time, and callbacks at given virtual times."""

    @abstractmethod
    def now_ms(self) -> int:
        """Milliseconds of virtual time since the clock was made."""

    @abstractmethod
    def call_at(self, at_ms: int, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` once the clock reaches ``at_ms`` (at once if it already has).

        Callbacks run on the event loop, never inside this call.
        """


class _LoopTimer(Timer):
    def __init__(self, handle: asyncio.TimerHandle) -> None:
        self._handle = handle

    def cancel(self) -> None:
        self._handle.cancel()


class SimClock(Clock):
    """Real (monotonic) time multiplied by ``speed``.

    Args:
        speed: virtual milliseconds per real millisecond; 1 is real time, 60 makes a minute
            pass in a second.

    Raises:
        ValueError: ``speed`` is not a finite number in (0, :data:`MAX_SPEED`].
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not (math.isfinite(speed) and 0 < speed <= MAX_SPEED):
            raise ValueError(f"speed must be in (0, {MAX_SPEED:g}], got {speed}")
        self.speed = speed
        # asyncio's default loop clock is time.monotonic(), so loop timers and now_ms() agree.
        self._epoch = time.monotonic()

    def now_ms(self) -> int:
        return int((time.monotonic() - self._epoch) * 1000 * self.speed)

    def call_at(self, at_ms: int, callback: Callable[[], None]) -> Timer:
        delay_s = max(0.0, (at_ms - self.now_ms()) / 1000 / self.speed)
        return _LoopTimer(asyncio.get_running_loop().call_later(delay_s, callback))


@dataclass(order=True)
class _ManualTimer(Timer):
    at_ms: int
    order: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock(Clock):
    """A clock that only moves when told to: for deterministic tests.

    Args:
        start_ms: the reading before the first :meth:`advance`.
    """

    def __init__(self, start_ms: int = 0) -> None:
        self._now = start_ms
        self._timers: list[_ManualTimer] = []
        self._order = itertools.count()

    def now_ms(self) -> int:
        return self._now

    def call_at(self, at_ms: int, callback: Callable[[], None]) -> Timer:
        timer = _ManualTimer(max(at_ms, self._now), next(self._order), callback)
        heapq.heappush(self._timers, timer)
        if timer.at_ms <= self._now:
            # Due already: run it on the loop, as a real timer with no delay would.
            asyncio.get_running_loop().call_soon(self._run_due)
        return timer

    @property
    def pending(self) -> int:
        """How many callbacks wait for a future time."""
        return sum(1 for t in self._timers if not t.cancelled)

    def next_due_ms(self) -> int | None:
        """When the next callback is due, or ``None`` if nothing is scheduled."""
        live = [t.at_ms for t in self._timers if not t.cancelled]
        return min(live) if live else None

    async def advance(self, ms: int) -> None:
        """Move the clock ``ms`` forward, running each callback due on the way at its time.

        Between callbacks the event loop runs briefly, so what a callback sets off (GATT
        notifications, flash writes) happens before the next one, as it would on a watch.

        Raises:
            ValueError: ``ms`` is negative.
        """
        if ms < 0:
            raise ValueError("a clock does not run backwards")
        await self.advance_to(self._now + ms)

    async def advance_to(self, at_ms: int) -> None:
        """Move the clock to ``at_ms`` (not backwards), running every callback due by then."""
        target = max(at_ms, self._now)
        while self._timers and self._timers[0].at_ms <= target:
            timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._now = timer.at_ms
            timer.callback()
            await asyncio.sleep(0)
        self._now = target
        await asyncio.sleep(0)

    def _run_due(self) -> None:
        while self._timers and self._timers[0].at_ms <= self._now:
            timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.callback()
