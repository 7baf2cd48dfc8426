"""The watch's timer: runs the committed program step by step on a virtual clock (§5.6, §8).

:class:`SessionRunner` unrolls the program with :func:`~codec.expand` and walks
the steps on a :class:`~wearsync.sim.clock.Clock`: each step's cue at its start, countdown
ticks in its last seconds (§5.6 rule 6), the end cue after the last step. It reports every
state or step change (for Session Status, §8.1) and every event of table 9-2 to a
:class:`SessionHost`, which turns them into records, notifications and flash writes.

Times come in two kinds. *Session time* (``session_ms``) runs only while RUNNING, so it
excludes pauses and equals a step's ``start_ms`` when nothing was skipped; durations in events
are session time. *Clock time* (``at_ms``) is the :class:`Clock` reading, which the host turns
into uptime or UTC. Everything due is processed at its exact due time, even when a real-time
clock wakes the runner a little late, so durations are exact at any speed.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Protocol

from wearsync.routine.compiler import Step
from wearsync.sim.clock import Clock, Timer
from wearsync.sim.motor import Motor
from wearsync.sim.wearer import Pause, Wearer
from wearsync.watches.wearsync_timer.codec import (
    AttError,
    AttErrorCode,
    EventKind,
    SessionState,
    SessionStatusValue,
    WireCue,
    WireProgram,
    expand,
)
from wearsync.watches.wearsync_timer.codec.expand import entry_steps
from wearsync.watches.wearsync_timer.sim.flash import SessionMarker


class SessionHost(Protocol):
    """What the runner reports to: the watch."""

    def on_session_event(self, kind: EventKind, step: Step, duration_ms: int, at_ms: int) -> None:
        """Record an event of ``kind`` at ``step`` that happened at clock time ``at_ms``."""
        ...

    def on_session_status(self, status: SessionStatusValue) -> None:
        """The state or the step changed (notify Session Status)."""
        ...

    def on_session_marker(self, marker: SessionMarker | None) -> None:
        """Where the session is, to persist (``None`` once it has ended)."""
        ...

    def watch_time(self, at_ms: int) -> tuple[int, datetime | None]:
        """Uptime in ms and the UTC ``datetime`` (or ``None``) at clock time ``at_ms``."""
        ...


class _Priority(IntEnum):
    # What happens first when several things are due at the same session time: a step that
    # ends makes way for the next before a tick or the wearer acts.
    STEP_END = 0
    TICK = 1
    WEARER = 2


class _Scope(IntEnum):
    STEP = 0
    EXERCISE = 1


@dataclass(order=True)
class _Due:
    session_ms: int
    priority: _Priority
    order: int
    action: Callable[[int], None] = field(compare=False)
    scope: _Scope = field(compare=False)
    token: int = field(compare=False)


class SessionRunner:
    """Runs one session at a time of a program on a clock.

    Args:
        clock: the virtual clock.
        motor: where cues play.
        host: receives events, status changes and position markers.
        wearer: what the wearer does during sessions.
    """

    def __init__(self, clock: Clock, motor: Motor, host: SessionHost, wearer: Wearer) -> None:
        self.clock = clock
        self.motor = motor
        self.host = host
        self.wearer = wearer
        self.state = SessionState.IDLE
        self.steps: tuple[Step, ...] = ()
        self.entry = 0  # what runs: 0 the whole program, n entry n of the plan (§7.7)
        self._end = 0  # one past the last step the session runs
        self._cues: dict[str, WireCue] = {}
        self._end_cue: WireCue | None = None
        self._index = 0
        self._origin = 0  # clock time at which session time would be 0, given the pauses
        self._step_start = 0
        self._exercise_start = 0
        self._paused_ms = 0  # session time when paused
        self._paused_at = 0  # clock time when paused
        self._tokens = {_Scope.STEP: 0, _Scope.EXERCISE: 0}
        self._agenda: list[_Due] = []
        self._order = itertools.count()
        self._timer: Timer | None = None
        self._resume_timer: Timer | None = None

    # -- what the watch reads -------------------------------------------------------------

    @property
    def step(self) -> Step | None:
        """The current step, or ``None`` when idle."""
        return None if self.state is SessionState.IDLE else self.steps[self._index]

    def session_ms(self) -> int:
        """Session time now (pauses excluded); 0 when idle."""
        if self.state is SessionState.IDLE:
            return 0
        if self.state is SessionState.PAUSED:
            return self._paused_ms
        return self.clock.now_ms() - self._origin

    def status(self) -> SessionStatusValue:
        """The Session Status value now (§8.1)."""
        step = self.step
        if step is None:
            return SessionStatusValue(SessionState.IDLE)
        elapsed = min(max(self.session_ms() - self._step_start, 0), step.duration_ms)
        return SessionStatusValue(self.state, self._index, elapsed)

    # -- what starts and steers a session -------------------------------------------------

    def start(self, program: WireProgram, entry: int = 0) -> None:
        """Start ``program`` from step 0, or one entry of it (START_SESSION, START_ENTRY or
        the watch's menu, §7.4, §7.7): an entry runs its exercise's steps only, with the step
        indices they have in the whole program (§5.8).

        Raises:
            AttError: ``SESSION_ACTIVE`` if a session is running or paused, ``UNKNOWN_ENTRY``
                if the program has no entry ``entry``.
        """
        if self.state is not SessionState.IDLE:
            raise AttError(AttErrorCode.SESSION_ACTIVE)
        try:
            runs = entry_steps(program, entry)
        except ValueError as exc:
            raise AttError(AttErrorCode.UNKNOWN_ENTRY, str(exc)) from exc
        begin, self._end = runs.start, runs.stop
        self.steps, self.entry = expand(program), entry
        self._cues = {cue.name: cue for cue in program.cues}
        self._end_cue = None if program.end_cue is None else program.cues[program.end_cue]
        self._agenda.clear()
        self.motor.begin_session()
        self._origin = self.clock.now_ms()
        self.state = SessionState.RUNNING
        self.host.on_session_status(SessionStatusValue(SessionState.RUNNING, begin, 0))
        self._event(EventKind.SESSION_STARTED, self.steps[begin], 0, self._origin)
        self._enter(begin, 0, first=True)
        self._arm()

    def stop(self) -> None:
        """End a running or paused session (STOP_SESSION, §7.5); nothing when idle."""
        self._catch_up()
        if self.state is not SessionState.IDLE:
            self._abort(self.session_ms())

    def pause(self) -> None:
        """Pause a running session (§7.6).

        Raises:
            AttError: ``NOT_RUNNING`` unless running.
        """
        self._catch_up()
        if self.state is not SessionState.RUNNING:
            raise AttError(AttErrorCode.NOT_RUNNING, "the session is not running")
        self._pause(self.session_ms())

    def resume(self) -> None:
        """Resume a paused session (§7.6).

        Raises:
            AttError: ``NOT_RUNNING`` unless paused.
        """
        if self.state is not SessionState.PAUSED:
            raise AttError(AttErrorCode.NOT_RUNNING, "the session is not paused")
        self._resume(self.clock.now_ms())

    def skip(self) -> None:
        """Skip the rest of the current exercise (the watch's "skip exercise", §8.2).

        Raises:
            AttError: ``NOT_RUNNING`` unless running.
        """
        self._catch_up()
        if self.state is not SessionState.RUNNING:
            raise AttError(AttErrorCode.NOT_RUNNING, "the session is not running")
        self._skip(self.session_ms())
        self._arm()

    def halt(self) -> None:
        """Stop timing without recording anything: the watch is going down (a reboot).

        The position marker stays where the host persisted it, so the next boot can record
        SESSION_ABORTED (§8.2).
        """
        self._cancel_timers()
        self._agenda.clear()
        self.state = SessionState.IDLE

    # -- the steps ------------------------------------------------------------------------

    def _enter(self, index: int, at: int, *, first: bool = False) -> None:
        previous = None if first else self.steps[self._index]
        step = self.steps[index]
        self._index = index
        self._step_start = at
        self._tokens[_Scope.STEP] += 1
        new_exercise = previous is None or previous.exercise != step.exercise
        if new_exercise:
            self._exercise_start = at
            self._tokens[_Scope.EXERCISE] += 1
        if not first:
            self.host.on_session_status(SessionStatusValue(SessionState.RUNNING, index, 0))
        self._event(EventKind.STEP_STARTED, step, at, self._origin + at)
        self._play(step.cue, at, index)
        if step.countdown_cue is not None:
            tick_cue = step.countdown_cue
            for k in range(step.countdown_ms // 1000, 0, -1):
                self._schedule(
                    at + step.duration_ms - 1000 * k,
                    _Priority.TICK,
                    _Scope.STEP,
                    lambda when: self._play(tick_cue, when, index),
                )
        self._schedule(at + step.duration_ms, _Priority.STEP_END, _Scope.STEP, self._step_ended)
        self._mark(at)
        self._script(index, step, at, new_exercise)

    def _script(self, index: int, step: Step, at: int, new_exercise: bool) -> None:
        """Schedule what the scripted wearer does in this step."""
        skip = self.wearer.skip_in(step.exercise) if new_exercise else None
        if skip is not None:
            when = self._exercise_start + skip.after_ms
            self._schedule(when, _Priority.WEARER, _Scope.EXERCISE, self._skip)
        abort = self.wearer.abort
        if abort is not None and abort.step == index:
            self._schedule(at + abort.after_ms, _Priority.WEARER, _Scope.STEP, self._abort)
        for pause in self.wearer.pauses_in(index):
            self._schedule(
                at + pause.after_ms,
                _Priority.WEARER,
                _Scope.STEP,
                functools.partial(self._scripted_pause, pause=pause),
            )

    def _step_ended(self, at: int) -> None:
        index = self._index
        step = self.steps[index]
        last = index + 1 == self._end
        if last or self.steps[index + 1].exercise != step.exercise:
            duration = at - self._exercise_start
            self._event(EventKind.EXERCISE_COMPLETED, step, duration, self._origin + at)
        if last:
            self._complete(at)
        else:
            self._enter(index + 1, at)

    def _skip(self, at: int) -> None:
        step = self.steps[self._index]
        duration = at - self._exercise_start
        self._event(EventKind.EXERCISE_SKIPPED, step, duration, self._origin + at)
        following = next(
            (
                i
                for i in range(self._index + 1, self._end)
                if self.steps[i].exercise > step.exercise
            ),
            None,
        )
        if following is None:
            self._complete(at)
        else:
            self._enter(following, at)

    def _complete(self, at: int) -> None:
        self._event(EventKind.SESSION_COMPLETED, self.steps[self._end - 1], at, self._origin + at)
        if self._end_cue is not None:
            self._play_cue(self._end_cue, at, None)
        self._finish()

    def _abort(self, at: int) -> None:
        paused = self.state is SessionState.PAUSED
        at_clock = self.clock.now_ms() if paused else self._origin + at
        self._event(EventKind.SESSION_ABORTED, self.steps[self._index], at, at_clock)
        self._finish()

    def _finish(self) -> None:
        self._cancel_timers()
        self._agenda.clear()
        self.state = SessionState.IDLE
        self.host.on_session_status(SessionStatusValue(SessionState.IDLE))
        self.host.on_session_marker(None)

    # -- pauses ---------------------------------------------------------------------------

    def _pause(self, at: int) -> None:
        self._cancel_timers()
        self.state = SessionState.PAUSED
        self._paused_ms = at
        self._paused_at = self._origin + at
        step = self.steps[self._index]
        self.host.on_session_status(
            SessionStatusValue(SessionState.PAUSED, self._index, at - self._step_start)
        )
        self._event(EventKind.PAUSED, step, 0, self._paused_at)
        self._mark(at)

    def _scripted_pause(self, at: int, *, pause: Pause) -> None:
        self._pause(at)
        resume_at = self._paused_at + pause.duration_ms
        self._resume_timer = self.clock.call_at(resume_at, lambda: self._scripted_resume(resume_at))

    def _scripted_resume(self, at_clock: int) -> None:
        self._resume_timer = None
        if self.state is SessionState.PAUSED:
            self._resume(at_clock)

    def _resume(self, at_clock: int) -> None:
        if self._resume_timer is not None:
            self._resume_timer.cancel()
            self._resume_timer = None
        self._origin = at_clock - self._paused_ms
        self.state = SessionState.RUNNING
        step = self.steps[self._index]
        elapsed = self._paused_ms - self._step_start
        self.host.on_session_status(SessionStatusValue(SessionState.RUNNING, self._index, elapsed))
        self._event(EventKind.RESUMED, step, at_clock - self._paused_at, at_clock)
        self._arm()

    # -- timing ---------------------------------------------------------------------------

    def _schedule(
        self, at: int, priority: _Priority, scope: _Scope, action: Callable[[int], None]
    ) -> None:
        due = _Due(at, priority, next(self._order), action, scope, self._tokens[scope])
        heapq.heappush(self._agenda, due)

    def _stale(self, due: _Due) -> bool:
        return due.token != self._tokens[due.scope]

    def _catch_up(self) -> None:
        """Process everything due by now (a real-time clock may wake the runner late)."""
        if self.state is SessionState.RUNNING:
            self._run_due()

    def _run_due(self) -> None:
        self._timer = None
        while self.state is SessionState.RUNNING and self._agenda:
            due = self._agenda[0]
            if self._stale(due):
                heapq.heappop(self._agenda)
                continue
            if due.session_ms > self.session_ms():
                break
            heapq.heappop(self._agenda)
            due.action(due.session_ms)
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._agenda and self._stale(self._agenda[0]):
            heapq.heappop(self._agenda)
        if self.state is SessionState.RUNNING and self._agenda:
            self._timer = self.clock.call_at(
                self._origin + self._agenda[0].session_ms, self._run_due
            )

    def _cancel_timers(self) -> None:
        for timer in (self._timer, self._resume_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._resume_timer = None

    # -- outputs --------------------------------------------------------------------------

    def _event(self, kind: EventKind, step: Step, duration_ms: int, at_clock: int) -> None:
        self.host.on_session_event(kind, step, duration_ms, at_clock)

    def _play(self, cue_name: str, at: int, index: int) -> None:
        self._play_cue(self._cues[cue_name], at, index)

    def _play_cue(self, cue: WireCue, at: int, index: int | None) -> None:
        uptime, utc = self.host.watch_time(self._origin + at)
        self.motor.play(cue, session_ms=at, step=index, at_ms=uptime, utc=utc)

    def _mark(self, at: int) -> None:
        step = self.steps[self._index]
        self.host.on_session_marker(
            SessionMarker(
                step.index,
                step.exercise,
                step.set,
                step.rep,
                step.side,
                step.direction,
                at,
                self.entry,
            )
        )
