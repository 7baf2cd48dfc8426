"""The host-timed driver: the companion keeps the clock and buzzes the watch at every cue.

For watches without a timer service (PineTime with InfiniTime, fitness bands), the program stays
on the computer. While connected, :func:`run_host_timed_session` fires each step's cue at its
planned time through the Alert Notification Service (New Alert with the exercise and the step,
as InfiniTime shows it) or the Immediate Alert Service (Alert Level). Every cue's time is
computed from one monotonic anchor taken when the session starts, so a late write never delays
the cues after it.

Which cue is strong (Alert Level HIGH) and which mild, by the kind of step it starts:

=========================================== ======== =====================================
step                                        level    why
=========================================== ======== =====================================
hold, work (either direction)               HIGH     effort starts: must not be missed
switch side, transition, the session's end  HIGH     the wearer has to change something
prepare, release, rest                      MILD     effort ends; missing it costs little
=========================================== ======== =====================================

A profile with ``alert_level = "mild"`` makes every cue mild. Countdown ticks are **not** sent:
each alert wakes the watch's screen and, on InfiniTime, lands in its notification list, so three
more a second would flood both; the step's own cue still marks its end. On Alert Notification
every cue is a New Alert (InfiniTime vibrates alike for all), its text telling them apart.

A cue is sent late if the write queue fell behind, but never once its step is over: a stale
cue would tell the wearer to do something that is already done.

The companion also records what happened, as a watch would, under a boot id of its own per
session (``session_started``, ``step_started``, ``exercise_completed``,
``session_completed``), storing each event as it happens. When the link drops, the session
stops there: no further cue is fired (not even after a reconnect), no end event is recorded, and
the stored session is *interrupted*.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from wearsync.ble.connection import connect
from wearsync.ble.errors import LinkLostError
from wearsync.profiles import DriverSettings
from wearsync.records import StoredEvent, utc_now
from wearsync.routine.compiler import Step, StepKind, TimerProgram
from wearsync.routine.model import Direction, Routine, Side
from wearsync.routine.occurrences import ROUTINE_ENTRY, Occurrence
from wearsync.store import Store
from wearsync.sync.driver import (
    Capabilities,
    Driver,
    HeldWatch,
    SessionOptions,
    SessionOutcome,
    SyncContext,
    SyncOutcome,
    program_key,
)
from wearsync.sync.live import LiveUpdate
from wearsync.watches.host_timed.client import AlertClient, MissingServiceError
from wearsync.watches.host_timed.codec import AlertCategory, AlertLevel, NewAlert

log = logging.getLogger(__name__)

#: Steps whose cue is strong (see the module docstring); the session's end is strong too.
STRONG_KINDS: Final = frozenset(
    {StepKind.HOLD, StepKind.WORK, StepKind.SWITCH_SIDE, StepKind.TRANSITION}
)
#: How long the session-end cue stays worth sending, in program time.
END_CUE_GRACE_MS: Final = 5000
_BOOT_MAX: Final = 2**32 - 1


@dataclass(frozen=True)
class PlannedCue:
    """One alert of the session, in program time.

    Attributes:
        at_ms: when to fire it, from the session's start.
        until_ms: when it goes stale (its step ends).
        step: the step it starts, or ``None`` for the session's end.
        strong: HIGH rather than MILD on Immediate Alert.
        title: the New Alert title (the exercise, or the routine at the end).
        body: the New Alert body (what to do now).
    """

    at_ms: int
    until_ms: int
    step: Step | None
    strong: bool
    title: str
    body: str


def plan_cues(program: TimerProgram) -> list[PlannedCue]:
    """Every alert the session fires, in order: one per step, then the end."""
    cues = [
        PlannedCue(
            at_ms=step.start_ms,
            until_ms=step.end_ms,
            step=step,
            strong=step.kind in STRONG_KINDS,
            title=program.exercises[step.exercise].name,
            body=_describe(step),
        )
        for step in program.steps
    ]
    cues.append(
        PlannedCue(
            at_ms=program.total_ms,
            until_ms=program.total_ms + END_CUE_GRACE_MS,
            step=None,
            strong=True,
            title=program.title,
            body="Session complete",
        )
    )
    return cues


def _describe(step: Step) -> str:
    seconds = f"{step.duration_ms / 1000:g} s"
    side = "" if step.side is Side.BOTH else f" ({step.side.value})"
    where = f", set {step.set} rep {step.rep}" if step.rep else ""
    if step.kind is StepKind.PREPARE:
        return f"Get ready{side}: {seconds}"
    if step.kind is StepKind.HOLD:
        return f"Hold {seconds}{side}{where}"
    if step.kind is StepKind.RELEASE:
        return f"Release{where}"
    if step.kind is StepKind.WORK:
        turn = "" if step.direction is Direction.NONE else f" {step.direction.value}"
        return f"Go{turn} {seconds}{side}{where}"
    if step.kind is StepKind.REST:
        return f"Rest {seconds}"
    if step.kind is StepKind.SWITCH_SIDE:
        return f"Switch to the {step.side.value} side"
    return f"Next exercise in {seconds}"


class _Recorder:
    """Records the session's events as a watch would, storing each one as it happens."""

    def __init__(
        self,
        store: Store,
        address: str,
        program: TimerProgram,
        on_update: Callable[[LiveUpdate], None],
    ) -> None:
        self.store = store
        self.address = address
        self.program = program
        self.key = program_key(program)
        self.on_update = on_update
        self.boot = _session_boot(store, address)
        self._seq = itertools.count(0)
        self.recorded = 0
        self.steps = 0
        self.new = 0

    def record(self, kind: str, step: Step, duration_ms: int) -> None:
        event = StoredEvent(
            device=self.address,
            boot_id=self.boot,
            seq=next(self._seq),
            at=utc_now(),
            kind=kind,
            exercise=step.exercise,
            set=step.set,
            rep=step.rep,
            side=step.side.value,
            direction=step.direction.value,
            step=step.index,
            duration_ms=max(0, duration_ms),
            program_hash=self.key,
        )
        self.new += self.store.add_events([event])
        self.recorded += 1
        self.steps += kind == "step_started"
        self.on_update(LiveUpdate.of(event, self.program))

    def exercise_completed(self, exercise: int) -> None:
        ex = self.program.exercises[exercise]
        last = self.program.steps[ex.first_step + ex.step_count - 1]
        self.record("exercise_completed", last, ex.active_ms)


def _session_boot(store: Store, address: str) -> int:
    """A boot id for a new host-timed session: newer than any stored for the device.

    Seconds since the epoch keep ids in time order across databases; bumping past the
    newest stored one keeps two sessions in one second apart.
    """
    newest = max((e.boot_id for e in store.events(address)), default=-1)
    return min(_BOOT_MAX, max(int(time.time()), newest + 1))


async def _sleep_until(deadline: float, lost: asyncio.Event) -> bool:
    """Sleep until loop time ``deadline``; ``True`` if the link was lost first."""
    if lost.is_set():
        return True
    try:
        async with asyncio.timeout_at(deadline):
            await lost.wait()
    except TimeoutError:
        return False
    return True


def uses_new_alert(alerts: AlertClient, driver: HostTimedSettings) -> bool:
    """Whether cues go out as New Alert (else Alert Level), by profile and by what the watch has.

    A profile asking for Alert Notification falls back to Immediate Alert on a watch that only
    has that.

    Raises:
        MissingServiceError: the watch has neither service the profile allows.
    """
    if driver.alert == "alert-notification":
        if alerts.has_new_alert:
            return True
        if alerts.has_immediate_alert:
            log.info("%s has no New Alert; falling back to Alert Level", alerts.address)
            return False
        raise MissingServiceError("Alert Notification Service", address=alerts.address)
    if not alerts.has_immediate_alert:
        raise MissingServiceError("Immediate Alert Service", address=alerts.address)
    return False


class CueRunner:
    """Fires a program's cues on one watch at their planned times.

    Args:
        alerts: the connected watch.
        driver: the profile's host-timed settings.
        speed: how much faster than real time the session runs (1 for a real session).
        lost: set when the link goes down.

    Attributes:
        sent: cues delivered to the watch's stack.
        use_new_alert: whether cues go out as New Alert (else Alert Level).
    """

    def __init__(
        self, alerts: AlertClient, driver: HostTimedSettings, *, speed: float, lost: asyncio.Event
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.alerts = alerts
        self.speed = speed
        self.lost = lost
        self.sent = 0
        self.strong = AlertLevel.HIGH if driver.alert_level == "high" else AlertLevel.MILD
        self.use_new_alert = uses_new_alert(alerts, driver)

    async def fire(self, cue: PlannedCue) -> None:
        """Send one cue now."""
        if self.use_new_alert:
            await self.alerts.new_alert(
                NewAlert.titled(cue.title, cue.body, category=AlertCategory.SCHEDULE)
            )
        else:
            await self.alerts.alert_level(self.strong if cue.strong else AlertLevel.MILD)
        self.sent += 1

    async def run(self, program: TimerProgram, recorder: _Recorder) -> str:
        """Run the session; returns ``session_completed`` or ``link_lost``."""
        loop = asyncio.get_running_loop()
        anchor = loop.time()
        scale = 1 / (1000 * self.speed)
        recorder.record("session_started", program.steps[0], program.total_ms)
        exercise: int | None = None
        for cue in plan_cues(program):
            if await _sleep_until(anchor + cue.at_ms * scale, self.lost):
                return "link_lost"
            if loop.time() < anchor + cue.until_ms * scale:
                try:
                    await self.fire(cue)
                except LinkLostError:
                    return "link_lost"
            else:
                log.warning("cue at %d ms not sent: its step was already over", cue.at_ms)
            step = cue.step
            if exercise is not None and (step is None or step.exercise != exercise):
                recorder.exercise_completed(exercise)
            if step is None:
                recorder.record("session_completed", program.steps[-1], program.total_ms)
                # The end cue may still be queued (Alert Level is written without response):
                # let it reach the watch before the link is closed.
                try:
                    await self.alerts.flush()
                except LinkLostError:
                    log.info("link lost right after the end cue")
                return "session_completed"
            exercise = step.exercise
            recorder.record("step_started", step, step.duration_ms)
        raise AssertionError("plan_cues always ends with the session's end")


async def _set_clock(alerts: AlertClient, routine: Routine, driver: HostTimedSettings) -> bool:
    if not driver.set_clock:
        return False
    if not alerts.has_current_time:
        log.info("%s has no Current Time characteristic; its clock is left alone", alerts.address)
        return False
    await alerts.set_time(utc_now().astimezone(routine.schedule.zone))
    return True


class HostTimedSettings(DriverSettings):
    """The ``[driver]`` table of a ``host-timed`` profile."""

    name: Literal["host-timed"]
    alert: Literal["immediate-alert", "alert-notification"]
    alert_level: Literal["mild", "high"] = "high"
    set_clock: bool = False


class HostTimedDriver(Driver):
    """Watches that only buzz on command: the companion keeps time and fires each cue."""

    name = "host-timed"
    capabilities = Capabilities(
        cues="host",
        start_from_companion=True,
        start_on_watch=False,
        event_readback=False,
        clock=True,
    )

    running_boot_after_error = None  # the companion timed it: nothing runs on

    def __init__(self, settings: HostTimedSettings) -> None:
        self.settings = settings

    async def remind(self, ctx: SyncContext, occurrence: Occurrence) -> bool:
        """Buzz the watch for a planned occurrence: one alert naming what is due.

        A host-timed watch knows no schedule, so ``wearsync serve`` sends this at each
        occurrence while the watch is in range.
        """
        if occurrence.entry == ROUTINE_ENTRY:
            title, body = ctx.routine.title, "time for the whole routine"
        else:
            title, body = ctx.routine.exercise(occurrence.entry).name, "time for this exercise"
        async with connect(ctx.watch, hci=ctx.hci) as client:
            alerts = AlertClient(client, address=ctx.address)
            if uses_new_alert(alerts, self.settings):
                await alerts.new_alert(
                    NewAlert.titled(title, body, category=AlertCategory.SCHEDULE)
                )
            else:
                await alerts.alert_level(AlertLevel.HIGH)
            await alerts.flush()
        log.info("%s: reminded of %s at %s", ctx.address, title, occurrence.local)
        return True

    async def exchange(self, ctx: SyncContext, held: HeldWatch) -> SyncOutcome:
        """Check a host-timed watch and set its clock; nothing is stored on it.

        The watch keeps no program and no events, so this only sets its time (when the
        profile says so and the watch can) and checks that it can be buzzed the way its
        profile says. ``program_pushed`` is always false.

        Raises:
            MissingServiceError: the watch cannot be buzzed the way its profile says.
        """
        async with connect(ctx.watch, hci=ctx.hci, disconnected=held.link_lost) as client:
            alerts = AlertClient(client, address=ctx.address)
            uses_new_alert(alerts, self.settings)  # it can be buzzed as its profile says
            ctx.progress(
                "setting the watch's clock" if self.settings.set_clock else "checking the watch"
            )
            clock_set = await _set_clock(alerts, ctx.routine, self.settings)
        return SyncOutcome(
            program_identity=program_key(ctx.program),
            program_bytes=0,
            program_pushed=False,
            clock_set=clock_set,
            running_boot=None,
        )

    async def mirror(
        self, ctx: SyncContext, options: SessionOptions, held: HeldWatch
    ) -> SessionOutcome:
        """Run a session on a host-timed watch: set its clock, then fire every cue on time.

        ``options.speed`` runs the session that many times faster than real time (tests, the
        demo); the silence timeout does not apply (the companion is the one talking).

        Raises:
            MissingServiceError: the watch cannot be buzzed the way its profile says.
        """
        program = ctx.program
        lost = asyncio.Event()
        held.on_lost(lost.set)
        async with connect(ctx.watch, hci=ctx.hci, disconnected=held.link_lost) as client:
            alerts = AlertClient(client, address=ctx.address)
            runner = CueRunner(alerts, self.settings, speed=options.speed, lost=lost)
            await _set_clock(alerts, ctx.routine, self.settings)
            # The routine's text is kept under the key the events carry, for exercise names.
            ctx.store.record_push(
                ctx.address, program_key(program), ctx.routine.name, ctx.routine_text
            )
            recorder = _Recorder(ctx.store, ctx.address, program, options.on_update)
            ctx.progress("running the session: the cues come from this computer")
            ended = await runner.run(program, recorder)
            if ended == "link_lost":
                log.warning("%s: link lost; the rest of the session is not cued", ctx.address)
        return SessionOutcome(
            program_pushed=False,
            ended=ended,
            steps_seen=recorder.steps,
            events_seen=recorder.recorded,
            events_new=recorder.new,
            # Whatever stopped it, what was recorded is a session (interrupted if unfinished).
            running_boot=None,
        )
