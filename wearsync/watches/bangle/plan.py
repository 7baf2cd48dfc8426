"""The schedule and entries a Bangle.js carries with its program, to remind on the wrist.

Pure: a routine, its compiled program and the schedule's first day in, a :class:`BanglePlan`
out, planned exactly as :mod:`wearsync.routine.occurrences` plans them (docs/bangle.md,
"Entries and reminders"; the same rules as docs/protocol.md §5.8/§5.9). The runtime on the
watch reads it as part of the program data (:func:`~wearsync.watches.bangle.codec.program_data`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from wearsync.routine.compiler import TimerProgram
from wearsync.routine.cues import Cue
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import (
    ROUTINE_ENTRY,
    daily_slots,
    entry_ids,
    interval_days,
    minute_of,
)

#: The cue a reminder plays (a routine may override it, as any cue).
REMINDER_CUE: Final = "reminder"
#: Days since this date number the schedule's first day on the watch.
EPOCH: Final = date(1970, 1, 1)
#: Added to a slot's minute when the slot is not planned on routine days.
NOT_ON_ROUTINE_DAYS: Final = 2048


@dataclass(frozen=True)
class BangleEntry:
    """An exercise done several times a day, which the wearer can start on its own.

    Attributes:
        id: the entry id (the exercise's id, as :func:`~wearsync.routine.occurrences.entry_ids`).
        exercise: the exercise's index in the program.
        steps: the step indices the entry runs, as numbered in the whole program (its
            lead-in included).
        slots: its daily times as ``(minute of the day, not on routine days)``, in order.
    """

    id: str
    exercise: int
    steps: range
    slots: tuple[tuple[int, bool], ...]


@dataclass(frozen=True)
class BanglePlan:
    """When the watch reminds the wearer, and what else it can start besides the routine.

    Attributes:
        every_days: the routine is planned every this many days from ``first_day``.
        first_day: the schedule's first day (a routine day), local.
        times: the routine's local times, minutes of the day, increasing.
        entries: entry *n* (1..) is ``entries[n - 1]``; entry 0 is the whole routine.
        reminder: the cue a reminder plays.
    """

    every_days: int
    first_day: date
    times: tuple[int, ...]
    entries: tuple[BangleEntry, ...]
    reminder: Cue

    def number_of(self, entry: str | None) -> int | None:
        """The watch's number of entry ``entry`` (None or ``routine``: 0), None if unknown."""
        if entry is None or entry == ROUTINE_ENTRY:
            return 0
        for number, item in enumerate(self.entries, start=1):
            if item.id == entry:
                return number
        return None


def entry_steps(program: TimerProgram, exercise: int) -> range:
    """The steps an entry of exercise number ``exercise`` runs: every step of that exercise
    (its lead-in first), with the indices they have in the whole program.

    Raises:
        ValueError: the program has no such exercise.
    """
    if not 0 <= exercise < len(program.exercises):
        raise ValueError(f"the program has no exercise {exercise}")
    ex = program.exercises[exercise]
    first = ex.first_step
    while first > 0 and program.steps[first - 1].exercise == exercise:
        first -= 1
    return range(first, ex.first_step + ex.step_count)


def bangle_plan(routine: Routine, program: TimerProgram, first_day: date) -> BanglePlan:
    """The plan of ``routine`` compiled as ``program``, from ``first_day``.

    The routine every ``every_days.min`` days at its times; each exercise done several times
    a day (and in the program) is an entry planned at its first ``times_per_day`` daily times,
    the slot nearest each routine time marked not on routine days (no double reminder).
    """
    schedule = routine.schedule
    index = {ex.id: number for number, ex in enumerate(program.exercises)}
    entries = []
    for ident in entry_ids(routine)[1:]:
        if ident not in index:
            continue
        slots: dict[int, bool] = {}
        for at, off in daily_slots(routine, routine.exercise(ident).times_per_day):
            slots[minute_of(at)] = off  # as the timer service: one slot a minute
        entries.append(
            BangleEntry(
                ident,
                index[ident],
                entry_steps(program, index[ident]),
                tuple(sorted(slots.items())),
            )
        )
    return BanglePlan(
        every_days=interval_days(schedule),
        first_day=first_day,
        times=tuple(sorted({minute_of(t) for t in schedule.times})),
        entries=tuple(entries),
        reminder=routine.cue(REMINDER_CUE),
    )
