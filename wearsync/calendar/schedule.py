"""The routine's schedule as recurring, timed events (pure: a routine in, event plans out).

The events expand to exactly the occurrences of :mod:`wearsync.routine.occurrences`, the one
schedule adherence and the watch's reminders use, fed with the *effective* routine
(:func:`effective_routine`: the routine with the options' interval, times and daily times,
built once by the export). Three kinds of event come out of it:

- the whole routine every N days (``RRULE:FREQ=DAILY;INTERVAL=N``), one event per time of day in
  ``schedule.times``; N is ``schedule.every_days`` picked with :class:`ScheduleOptions.every_pick`
  (the range's minimum unless the routine sets ``use``), or :attr:`ScheduleOptions.every_days`;
- each exercise done several times a day (``times_per_day`` > 1) daily at each of the first
  ``times_per_day`` of ``schedule.daily_times`` that it keeps on routine days, one event per slot;
- each slot the routine stands for on routine days (the generator's ``daily_slots`` marks it:
  no double booking, e.g. the third toe presses at 18:00 beside the 18:00 routine) as N - 1
  events ``FREQ=DAILY;INTERVAL=N`` starting on the days after the first day (k = 1 .. N - 1),
  and none when the routine is every day. One RRULE per event and no EXDATE or EXRULE, which
  clients treat alike. The first of them keeps the UID the slot's daily event had (an edit, not
  a new event); the others are ``exercise_uid(..., day=k)``.

Events start on a fixed first day (:func:`wearsync.calendar.tokens.schedule_start`) at local
wall-clock times with the schedule's TZID, so they stay at 18:00 across daylight-saving changes.
Durations come from the compiled timer program. UIDs name the routine, the kind, the exercise
and the slot, never the time, so moving the routine from 18:00 to 19:00 is an edit of the same
event (SEQUENCE goes up) rather than a new event. Given a plan's start (``since``), each event
starts at its first occurrence from then on, so earlier days keep the plan in force then.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from wearsync.calendar.uids import exercise_uid, routine_uid
from wearsync.errors import InputError
from wearsync.routine.compiler import CompileOptions, TimerProgram, compile_routine
from wearsync.routine.describe import describe_exercise
from wearsync.routine.model import Range, RangePick, Routine
from wearsync.routine.occurrences import (
    ROUTINE_ENTRY,
    Occurrence,
    daily_slots,
    interval_days,
    wall_time,
)


class EventKind(StrEnum):
    """What an event in the calendar stands for."""

    ROUTINE = "routine"
    EXERCISE = "exercise"
    SESSION = "session"
    SUMMARY = "summary"
    MARK = "mark"
    """A done or missed occurrence (:mod:`wearsync.calendar.marks`)."""


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
        entry: the occurrence generator's entry (``routine`` or the exercise id).
        slot: the generator's slot (index into ``times`` or ``daily_times``).
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
    entry: str = ROUTINE_ENTRY
    slot: int = 0

    def holds(self, occurrence: Occurrence) -> bool:
        """Whether ``occurrence`` is one of this event's occurrences."""
        if occurrence.entry != self.entry or occurrence.slot != self.slot:
            return False
        first = self.start.date()
        day = occurrence.day
        if day < first or (day - first).days % self.interval_days:
            return False
        at = self.start.time()
        if occurrence.local.time() == at:  # the usual case; a wall time in a DST gap moved
            return True
        zone = occurrence.local.tzinfo
        assert isinstance(zone, ZoneInfo)
        return wall_time(day, at, zone) == occurrence.local

    def fingerprint(self) -> str:
        """A digest of everything published about the event (not DTSTAMP/SEQUENCE)."""
        data = asdict(self)
        # entry and slot only say which generator series the event is; leaving them out keeps
        # the fingerprints (and so SEQUENCE) of events published before they existed.
        del data["entry"], data["slot"]
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


def effective_routine(routine: Routine, options: ScheduleOptions) -> Routine:
    """``routine`` with the schedule the options publish: their interval, times and daily times.

    The calendar builds it once and feeds it both to :func:`plan_schedule` and to the occurrence
    generator (:mod:`wearsync.routine.occurrences`), so the published events and the marks on
    them come from one schedule.
    """
    schedule = routine.schedule
    n = every_days(routine, options)
    return routine.model_copy(
        update={
            "schedule": schedule.model_copy(
                update={
                    "every_days": Range(min=n, max=n),
                    "times": options.times or schedule.times,
                    "daily_times": options.daily_times or schedule.daily_times,
                }
            )
        }
    )


def plan_schedule(
    routine: Routine, start: date, options: ScheduleOptions, *, since: datetime | None = None
) -> list[PlannedEvent]:
    """The recurring events of ``routine``, whose occurrences are the generator's.

    ``routine`` is the effective routine (:func:`effective_routine`); ``options`` gives the
    alarms and durations. The events expand to exactly
    ``wearsync.routine.occurrences.occurrences(routine, first_day=start, ...)``: the routine
    every N days from ``start``; each repeated exercise daily at the slots it keeps on routine
    days; and each slot the routine stands for on routine days (the generator's
    ``daily_slots``) as N - 1 events ``FREQ=DAILY;INTERVAL=N`` starting on ``start + k``
    (k = 1 .. N - 1), none when N is 1.

    Args:
        routine: the effective routine.
        start: the schedule's first day (a routine day, in the schedule's zone).
        options: the choices in :class:`ScheduleOptions`.
        since: when this plan came into force (None: from ``start``); each event starts at
            its first occurrence at or after it, so earlier days keep the plan then in force.

    Raises:
        InputError: an exercise is done more times a day than there are daily time slots.
    """
    schedule = routine.schedule
    program = compile_routine(routine, options.compile)
    interval = interval_days(schedule)
    times = schedule.times
    zone = schedule.zone
    events = [
        _from(
            PlannedEvent(
                uid=routine_uid(routine.name, slot + 1),
                kind=EventKind.ROUTINE,
                exercise=None,
                summary=routine.title,
                description=_routine_description(routine, interval, times, program),
                start=datetime.combine(start, at, tzinfo=zone),
                duration=_duration(program.total_ms),
                interval_days=interval,
                reminder=options.reminder,
                entry=ROUTINE_ENTRY,
                slot=slot,
            ),
            since,
        )
        for slot, at in enumerate(times)
    ]
    daily = schedule.daily_times
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
        description = _exercise_description(routine, ex.id, slots, one.total_ms)
        # The generator's slots, each with whether the routine stands for it on routine days.
        for slot, (at, dropped) in enumerate(daily_slots(routine, ex.times_per_day)):
            template = PlannedEvent(
                uid="",
                kind=EventKind.EXERCISE,
                exercise=ex.id,
                summary=f"{ex.name} ({slot + 1} of {ex.times_per_day} today)",
                description=description,
                start=datetime.combine(start, at, tzinfo=zone),
                duration=_duration(one.total_ms),
                interval_days=1,
                reminder=options.reminder,
                entry=ex.id,
                slot=slot,
            )
            if not dropped:
                uid = exercise_uid(routine.name, ex.id, slot + 1)
                events.append(_from(replace(template, uid=uid), since))
                continue
            # The routine stands for this slot on routine days: one event per other day of
            # the interval, so no client has to honour an exception rule.
            note = f"Not on routine days: {routine.title} at {_hhmm(times)} stands for this one."
            for k in range(1, interval):
                moved = replace(
                    template,
                    uid=exercise_uid(routine.name, ex.id, slot + 1, day=k),
                    description=f"{description}\n{note}",
                    start=template.start + timedelta(days=k),
                    interval_days=interval,
                )
                events.append(_from(moved, since))
    return events


def _from(event: PlannedEvent, since: datetime | None) -> PlannedEvent:
    """``event`` starting at its first occurrence at or after ``since``."""
    if since is None:
        return event
    zone = event.start.tzinfo
    assert isinstance(zone, ZoneInfo)
    day, at = event.start.date(), event.start.time()
    while wall_time(day, at, zone) < since:
        day += timedelta(days=event.interval_days)
    return replace(event, start=datetime.combine(day, at, tzinfo=zone))


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
