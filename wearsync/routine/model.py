"""Pydantic models of routines and schedules, as a person writes them in a TOML file.

The model keeps what the source says: a hold "for a count of three" stays three *counts*, a rest of
"10-15 seconds" stays a *range*. Turning counts into seconds and picking a value inside a range
is the compiler's job (:mod:`wearsync.routine.compiler`), so that the choice is documented in one
place and can be overridden without editing the routine.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from wearsync.routine.base import Frozen
from wearsync.routine.cues import CUE_SLOTS, DEFAULT_CUES, Cue
from wearsync.routine.limits import (
    MAX_DURATION_MS,
    MAX_DURATION_SECONDS,
    MAX_EVERY_DAYS,
    MAX_EXERCISES,
    MAX_STEPS,
)

#: Default length of one spoken count ("hold for a count of three"): one second per count.
DEFAULT_COUNT_SECONDS = 1.0

_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
_CUE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"

#: A length of time in seconds: positive, finite, and no longer than a watch step can be (§5.1.2).
#: ``inf`` and ``nan`` are valid TOML floats, so finiteness has to be asked for.
Seconds = Annotated[float, Field(gt=0, le=MAX_DURATION_SECONDS, allow_inf_nan=False)]
#: A short pause the routine sets itself (preparation, transition, switching sides).
PauseSeconds = Annotated[float, Field(ge=0, le=600, allow_inf_nan=False)]


class RangePick(StrEnum):
    """Which value the compiler takes from a range when the routine does not say."""

    MIN = "min"
    MID = "mid"
    MAX = "max"


class Range(Frozen):
    """An inclusive range of numbers, e.g. "rest 10-15 seconds" or "every 2-3 days".

    ``use`` is the routine author's choice inside the range; when absent the compiler applies
    its documented default (see :class:`wearsync.routine.compiler.CompileOptions`).
    """

    min: Seconds
    max: Seconds
    use: Seconds | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(
                f"range is reversed: min {self.min:g} is greater than max {self.max:g}"
            )
        if self.use is not None and not self.min <= self.use <= self.max:
            raise ValueError(f"use {self.use:g} lies outside the range {self.min:g}-{self.max:g}")
        return self

    def pick(self, how: RangePick) -> float:
        """Return ``use`` if set, else the value ``how`` selects."""
        if self.use is not None:
            return self.use
        if how is RangePick.MIN:
            return self.min
        if how is RangePick.MAX:
            return self.max
        return (self.min + self.max) / 2


class Span(Frozen):
    """A length of time, written the way the source gives it.

    Exactly one of ``seconds`` (a fixed number), ``counts`` (spoken counts, converted at the
    routine's ``count_seconds``) or ``range`` (seconds, e.g. ``{min = 10, max = 15}``) is set.
    """

    seconds: Seconds | None = None
    counts: Annotated[int, Field(gt=0, le=MAX_DURATION_MS)] | None = None
    range: Range | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [n for n in ("seconds", "counts", "range") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of seconds, counts or range")
        return self

    def longest_ms(self, count_seconds: float) -> float:
        """The longest this span can last, in ms, whichever value of a range is picked."""
        if self.seconds is not None:
            return self.seconds * 1000
        if self.counts is not None:
            return self.counts * count_seconds * 1000
        assert self.range is not None
        return self.range.max * 1000


class Side(StrEnum):
    """Which side of the body a step works."""

    BOTH = "both"
    LEFT = "left"
    RIGHT = "right"


class Direction(StrEnum):
    """The direction of a rotating movement."""

    NONE = "none"
    CLOCKWISE = "clockwise"
    COUNTERCLOCKWISE = "counterclockwise"


class Exercise(Frozen):
    """One exercise of a routine.

    A repetition is either a *hold* (optionally followed by a *release*) or a *work* interval
    (optionally followed by a *rest*); ``directions`` repeat the work or hold once per direction
    (ankle circles: clockwise then counterclockwise). Repetitions make a set, sets are separated
    by ``rest_between_sets``, and the whole is done once per side in ``sides``.
    """

    id: Annotated[str, Field(pattern=_ID_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=60)]
    instructions: str = ""
    equipment: tuple[str, ...] = ()
    hold: Span | None = None
    release: Span | None = None
    work: Span | None = None
    rest: Span | None = None
    reps: Annotated[int, Field(ge=1, le=500)] = 1
    sets: Annotated[int, Field(ge=1, le=50)] = 1
    rest_between_sets: Span | None = None
    sides: tuple[Side, ...] = (Side.BOTH,)
    directions: tuple[Direction, ...] = (Direction.NONE,)
    times_per_day: Annotated[int, Field(ge=1, le=12)] = 1
    cues: dict[str, str] = Field(default_factory=dict)
    """Per-exercise cue overrides: step cue slot (e.g. ``hold_start``) -> cue name."""

    @model_validator(mode="after")
    def _structure(self) -> Self:
        if (self.hold is None) == (self.work is None):
            raise ValueError("give exactly one of hold or work")
        if self.release is not None and self.hold is None:
            raise ValueError("release follows a hold; use rest after work")
        if self.rest is not None and self.work is None:
            raise ValueError("rest follows work; use release after a hold")
        if not self.sides:
            raise ValueError("sides must not be empty")
        if len(set(self.sides)) != len(self.sides):
            raise ValueError("sides must not repeat")
        if Side.BOTH in self.sides and len(self.sides) > 1:
            raise ValueError("'both' cannot be combined with left or right")
        if not self.directions or len(set(self.directions)) != len(self.directions):
            raise ValueError("directions must be non-empty and must not repeat")
        return self

    def step_count(self, *, lead: bool, switch: bool) -> int:
        """How many steps the compiler unrolls this exercise into (docs/protocol.md §5.6).

        Args:
            lead: whether a prepare or transition step comes first.
            switch: whether a switch-side step separates the sides.
        """
        per_rep = len(self.directions) * (2 if self.hold is not None else 1)
        rests_between_reps = self.reps - 1 if self.rest is not None else 0
        per_set = self.reps * per_rep + rests_between_reps
        per_side = self.sets * per_set + self.sets - 1
        switches = len(self.sides) - 1 if switch else 0
        return int(lead) + len(self.sides) * per_side + switches

    def spans(self) -> dict[str, Span]:
        """The exercise's spans by field name, those it has."""
        named = {
            "hold": self.hold,
            "release": self.release,
            "work": self.work,
            "rest": self.rest,
            "rest_between_sets": self.rest_between_sets,
        }
        return {name: span for name, span in named.items() if span is not None}


class Schedule(Frozen):
    """When the routine recurs.

    ``every_days`` is how often the whole routine is done (the foot routine: every 2-3 days),
    at each of ``times`` (local wall-clock times) in ``timezone`` (an IANA name). Exercises with
    ``times_per_day`` above one are also done daily at the first N of ``daily_times``.
    """

    every_days: Range
    times: Annotated[tuple[time, ...], Field(min_length=1)] = (time(18, 0),)
    daily_times: Annotated[tuple[time, ...], Field(min_length=1)] = (
        time(8, 0),
        time(13, 0),
        time(18, 0),
    )
    timezone: str = "UTC"
    session_minutes: Annotated[float, Field(gt=0, le=24 * 60, allow_inf_nan=False)] | None = None
    """The time the source says a session should take (a budget, not a measurement)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        # A name longer than the file system allows raises OSError (ENAMETOOLONG) from the
        # lookup of the zone file, not ZoneInfoNotFoundError.
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f"unknown IANA time zone {v!r}") from exc
        return v

    @field_validator("times", "daily_times")
    @classmethod
    def _distinct_minutes(cls, v: tuple[time, ...]) -> tuple[time, ...]:
        # The watches plan by minute of the day (docs/protocol.md §5.8): a time with seconds,
        # or the same minute twice, would plan what no watch can remind of.
        for t in v:
            if t.second or t.microsecond or t.tzinfo is not None:
                raise ValueError(f"{t.isoformat()}: times are local hours and minutes (HH:MM)")
        seen = [t.hour * 60 + t.minute for t in v]
        if len(set(seen)) != len(seen):
            raise ValueError("the same time is listed twice")
        return v

    @field_validator("every_days")
    @classmethod
    def _whole_days(cls, v: Range) -> Range:
        for n in (v.min, v.max, v.use):
            if n is not None and n != int(n):
                raise ValueError("every_days must be whole days")
        if v.max > MAX_EVERY_DAYS:
            raise ValueError(f"must be at most {MAX_EVERY_DAYS} days (got {v.max:g})")
        return v

    @property
    def zone(self) -> ZoneInfo:
        """The schedule's time zone."""
        return ZoneInfo(self.timezone)


class Routine(Frozen):
    """A home exercise routine: exercises done in order, on a schedule."""

    format: Literal[1] = 1
    name: Annotated[str, Field(pattern=_ID_PATTERN)]
    title: Annotated[str, Field(min_length=1, max_length=120)]
    description: str = ""
    source: str = ""
    count_seconds: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)] = DEFAULT_COUNT_SECONDS
    transition_seconds: PauseSeconds = 15
    prepare_seconds: PauseSeconds = 5
    switch_side_seconds: PauseSeconds = 5
    schedule: Schedule
    cues: dict[Annotated[str, Field(pattern=_CUE_NAME_PATTERN)], Cue] = Field(default_factory=dict)
    """Cue definitions that add to or override the default cues by name."""
    exercises: Annotated[tuple[Exercise, ...], Field(min_length=1, max_length=MAX_EXERCISES)]

    @model_validator(mode="after")
    def _unique_ids_and_known_cues(self) -> Self:
        seen: set[str] = set()
        known = set(DEFAULT_CUES) | set(self.cues)
        for i, ex in enumerate(self.exercises):
            if ex.id in seen:
                raise ValueError(f"exercises[{i}].id: exercise id {ex.id!r} is used twice")
            if ex.id == "routine" and ex.times_per_day > 1:
                # An exercise done several times a day is an entry of its own, named by its id;
                # "routine" names the whole routine (routine/occurrences.py ROUTINE_ENTRY).
                raise ValueError(
                    f"exercises[{i}].id: an exercise done several times a day cannot be called "
                    "'routine' (the whole routine's entry)"
                )
            seen.add(ex.id)
            for slot, cue in ex.cues.items():
                where = f"exercises[{i}].cues.{slot}"
                if slot not in CUE_SLOTS:
                    raise ValueError(f"{where}: unknown cue slot (slots: {', '.join(CUE_SLOTS)})")
                if cue not in known:
                    raise ValueError(
                        f"{where}: unknown cue {cue!r} (known: {', '.join(sorted(known))})"
                    )
        return self

    @model_validator(mode="after")
    def _fits_a_program(self) -> Self:
        # The limits of the program format that no single field can check: a span in counts
        # depends on count_seconds, and the step count on the whole structure.
        total = 0
        for i, ex in enumerate(self.exercises):
            for name, span in ex.spans().items():
                if span.longest_ms(self.count_seconds) > MAX_DURATION_MS:
                    raise ValueError(
                        f"exercises[{i}].{name}.counts: {span.counts} counts of "
                        f"{self.count_seconds:g} s exceed the longest duration "
                        f"({MAX_DURATION_SECONDS} s)"
                    )
            lead = (self.prepare_seconds if i == 0 else self.transition_seconds) > 0
            total += ex.step_count(lead=lead, switch=self.switch_side_seconds > 0)
            if total > MAX_STEPS:
                raise ValueError(
                    f"exercises[{i}]: unrolls into {total} steps; a program has at most {MAX_STEPS}"
                )
        return self

    def cue(self, name: str) -> Cue:
        """Return the cue called ``name``: the routine's own definition, else the default."""
        return self.cues.get(name) or DEFAULT_CUES[name]

    def exercise(self, ident: str) -> Exercise:
        """Return the exercise with id ``ident``.

        Raises:
            KeyError: no exercise has that id.
        """
        for ex in self.exercises:
            if ex.id == ident:
                return ex
        raise KeyError(ident)
