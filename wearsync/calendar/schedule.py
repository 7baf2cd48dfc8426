"""The routine's schedule as recurring, timed events (pure: a routine in, event plans out).

Two kinds of event come out of one routine:

- the whole routine every N days (``RRULE:FREQ=DAILY;INTERVAL=N``), one event per time of day in
  ``schedule.times``; N is ``schedule.every_days`` picked with :class:`ScheduleOptions.every_pick`
  (the range's minimum unless the routine sets ``use``), or :attr:`ScheduleOptions.every_days`;
- each exercise done several times a day (``times_per_day`` > 1) daily at the first
  ``times_per_day`` of ``schedule.daily_times``, one event per time slot.

Events start on a fixed first day (:func:`wearsync.calendar.tokens.schedule_start`) at local
wall-clock times with the schedule's TZID, so they stay at 18:00 across daylight-saving changes.
Durations come from the compiled timer program. UIDs name the routine, the kind, the exercise
and the slot, never the time, so moving the routine from 18:00 to 19:00 is an edit of the same
event (SEQUENCE goes up) rather than a new event.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from wearsync.calendar.uids import exercise_uid, routine_uid
from wearsync.errors import InputError
from wearsync.routine.compiler import CompileOptions, TimerProgram, compile_routine
from wearsync.routine.describe import describe_exercise
from wearsync.routine.model import RangePick, Routine


class EventKind(StrEnum):
    """What an event in the calendar stands for."""

    ROUTINE = "routine"
    EXERCISE = "exercise"
    SESSION = "session"
    SUMMARY = "summary"


@dataclass(frozen=True, kw_only=True)
class ScheduleOptions:
    """Choices about the published schedule, where the routine leaves them open.

    Attributes:
        every_days: publish the routine every this many days (overrides ``every_pick``).
        every_pick: which end of ``schedule.every_days`` to use; a fractional middle is rounded
            half up (2-3 days, mid -> every 3 days).
        times: times of day for the whole routine (default: ``schedule.times``).
        daily_times: time slots for exercises done several times a day (default:
            ``schedule.daily_times``).
        reminder: how long before each event its alarm fires; None for no alarm.
        compile: the compiler options that give the durations.
    """

    every_days: int | None = None
    every_pick: RangePick = RangePick.MIN
    times: tuple[time, ...] | None = None
    daily_times: tuple[time, ...] | None = None
    reminder: timedelta | None = timedelta(minutes=10)
    compile: CompileOptions = field(default_factory=CompileOptions)


@dataclass(frozen=True, kw_only=True)
class PlannedEvent:
    """One recurring event, before it is an iCalendar component.

    Attributes:
        uid: the stable UID.
        kind: routine or exercise.
        exercise: the exercise id for an exercise event, else None.
        summary: the SUMMARY.
        description: the DESCRIPTION.
        start: the first occurrence (aware, in the schedule's zone).
        duration: how long each occurrence lasts.
        interval_days: the RRULE's INTERVAL (FREQ=DAILY).
        reminder: the alarm's offset before the start, or None.
    """

    uid: str
    kind: EventKind
    exercise: str | None
    summary: str
    description: str
    start: datetime
    duration: timedelta
    interval_days: int
    reminder: timedelta | None

    def fingerprint(self) -> str:
        """A digest of everything published about the event (not DTSTAMP/SEQUENCE)."""
        data = asdict(self)
        data["start"] = f"{self.start.isoformat()}[{self.start.tzinfo}]"
        data["duration"] = self.duration.total_seconds()
        data["reminder"] = None if self.reminder is None else self.reminder.total_seconds()
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def every_days(routine: Routine, options: ScheduleOptions) -> int:
    """How many days apart the whole routine is published."""
    if options.every_days is not None:
        return options.every_days
    return max(1, math.floor(routine.schedule.every_days.pick(options.every_pick) + 0.5))


def plan_schedule(routine: Routine, start: date, options: ScheduleOptions) -> list[PlannedEvent]:
    """The recurring events of ``routine``, first occurring on ``start``.

    Args:
        routine: the routine.
        start: the first day of the schedule (in the schedule's zone).
        options: the choices in :class:`ScheduleOptions`.

    Raises:
        InputError: an exercise is done more times a day than there are daily time slots.
    """
    zone = routine.schedule.zone
    program = compile_routine(routine, options.compile)
    interval = every_days(routine, options)
    times = options.times or routine.schedule.times
    events = [
        PlannedEvent(
            uid=routine_uid(routine.name, slot),
            kind=EventKind.ROUTINE,
            exercise=None,
            summary=routine.title,
            description=_routine_description(routine, interval, times, program),
            start=datetime.combine(start, at, tzinfo=zone),
            duration=_duration(program.total_ms),
            interval_days=interval,
            reminder=options.reminder,
        )
        for slot, at in enumerate(times, 1)
    ]
    daily = options.daily_times or routine.schedule.daily_times
    for ex in routine.exercises:
        if ex.times_per_day < 2:
            continue
        if ex.times_per_day > len(daily):
            raise InputError(
                f"{ex.id} is done {ex.times_per_day} times a day but only {len(daily)} daily "
                "times are set",
                hint="add times to schedule.daily_times in the routine file, or pass more "
                "--daily-at times",
            )
        one = compile_routine(routine, options.compile.model_copy(update={"exercises": (ex.id,)}))
        slots = daily[: ex.times_per_day]
        for slot, at in enumerate(slots, 1):
            events.append(
                PlannedEvent(
                    uid=exercise_uid(routine.name, ex.id, slot),
                    kind=EventKind.EXERCISE,
                    exercise=ex.id,
                    summary=f"{ex.name} ({slot} of {ex.times_per_day} today)",
                    description=_exercise_description(routine, ex.id, slots, one.total_ms),
                    start=datetime.combine(start, at, tzinfo=zone),
                    duration=_duration(one.total_ms),
                    interval_days=1,
                    reminder=options.reminder,
                )
            )
    return events


def _duration(ms: int) -> timedelta:
    # Whole minutes: minute-based clients (calcurse) reject an end at 08:00:55, and rounding
    # up keeps the whole plan inside the event.
    return timedelta(minutes=math.ceil(ms / 60_000))


def _clock(ms: int) -> str:
    minutes, seconds = divmod(math.ceil(ms / 1000), 60)
    return f"{minutes}:{seconds:02d}"


def _hhmm(times: tuple[time, ...]) -> str:
    return ", ".join(t.strftime("%H:%M") for t in times)


def _routine_description(
    routine: Routine, interval: int, times: tuple[time, ...], program: TimerProgram
) -> str:
    lines = []
    if routine.description:
        lines += [routine.description.strip(), ""]
    day_word = "day" if interval == 1 else f"{interval} days"
    lines.append(
        f"Every {day_word} at {_hhmm(times)} ({routine.schedule.timezone}); "
        f"about {_clock(program.total_ms)} with transitions."
    )
    lines.append("")
    for n, (ex, pex) in enumerate(zip(routine.exercises, program.exercises, strict=True), 1):
        line = f"{n}. {ex.name}: {describe_exercise(ex)} ({_clock(pex.active_ms)})"
        if ex.times_per_day > 1:
            line += f"; {ex.times_per_day} times a day"
        lines.append(line)
        if ex.equipment:
            lines.append(f"   Equipment: {', '.join(ex.equipment)}")
    return "\n".join(lines)


def _exercise_description(
    routine: Routine, exercise_id: str, slots: tuple[time, ...], total_ms: int
) -> str:
    ex = routine.exercise(exercise_id)
    lines = [
        f"{ex.name}: {describe_exercise(ex)}; about {_clock(total_ms)}.",
    ]
    if ex.instructions:
        lines.append(ex.instructions.strip())
    if ex.equipment:
        lines.append(f"Equipment: {', '.join(ex.equipment)}")
    lines.append(
        f"{ex.times_per_day} times a day at {_hhmm(slots)} ({routine.schedule.timezone}), "
        f"from {routine.title}."
    )
    return "\n".join(lines)
