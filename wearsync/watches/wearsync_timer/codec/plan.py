"""The plan section of a format-2 program: entries and the schedule (``docs/protocol.md`` §5.8).

A format-2 program is a format-1 program followed by this section. It tells the watch what
else it can start besides the whole routine (an *entry* is one exercise run on its own, e.g.
Toe Presses three times a day) and when each is planned, so that the watch reminds the wearer
itself (§5.9) with no companion nearby.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Final, Self

from wearsync.protocol.wire import Reader, Writer, build, check, check_uint

#: Days since this date number the schedule's first day (§5.8).
EPOCH: Final = date(1970, 1, 1)
MAX_TIMES: Final = 8
MAX_ENTRIES: Final = 15
MAX_SLOTS: Final = 12
MINUTES_PER_DAY: Final = 24 * 60
#: Bit 15 of a slot: the slot is not planned on routine days (the routine does it, §5.8).
SLOT_NOT_ON_ROUTINE_DAYS: Final = 0x8000
_SLOT_MINUTE: Final = 0x07FF


def clock_of(minute: int) -> time:
    """The wall time of a minute of the day."""
    return time(minute // 60, minute % 60)


def _check_minutes(field: str, minutes: tuple[int, ...], limit: int) -> None:
    check(isinstance(minutes, tuple) and 1 <= len(minutes) <= limit, f"{field}: 1..{limit} times")
    for m in minutes:
        check_uint(field, m, MINUTES_PER_DAY - 1)
    check(list(minutes) == sorted(set(minutes)), f"{field}: times must be strictly increasing")


@dataclass(frozen=True)
class WireSlot:
    """One daily time of an entry (§5.8, table 5-6).

    Attributes:
        minute: minute of the local day, 0..1439.
        not_on_routine_days: the slot is dropped on routine days (the routine stands for it).
    """

    minute: int
    not_on_routine_days: bool = False

    def __post_init__(self) -> None:
        check_uint("slot minute", self.minute, MINUTES_PER_DAY - 1)


def _read_entry(r: Reader) -> WireEntry:
    exercise, slot_count = r.u8(), r.u8()
    if not 1 <= slot_count <= MAX_SLOTS:
        raise r.error(f"slot count {slot_count} outside 1..{MAX_SLOTS}")
    slots = tuple(_read_slot(r) for _ in range(slot_count))
    return build(r, lambda: WireEntry(exercise, slots))


def _read_slot(r: Reader) -> WireSlot:
    raw = r.u16()
    if raw & ~(_SLOT_MINUTE | SLOT_NOT_ON_ROUTINE_DAYS):
        raise r.error("reserved slot bits must be 0")
    return build(r, lambda: WireSlot(raw & _SLOT_MINUTE, bool(raw & SLOT_NOT_ON_ROUTINE_DAYS)))


@dataclass(frozen=True)
class WireEntry:
    """An exercise that can be started on its own, and its daily times (§5.8, table 5-5).

    Attributes:
        exercise: index of the exercise record it runs.
        slots: its daily times, minutes strictly increasing, 1..12.
    """

    exercise: int
    slots: tuple[WireSlot, ...]

    def __post_init__(self) -> None:
        check_uint("entry exercise", self.exercise, 254)
        check(
            isinstance(self.slots, tuple) and 1 <= len(self.slots) <= MAX_SLOTS,
            f"an entry has 1..{MAX_SLOTS} slots",
        )
        minutes = [s.minute for s in self.slots]
        check(minutes == sorted(set(minutes)), "entry slots must be strictly increasing")


@dataclass(frozen=True)
class WirePlan:
    """The plan section (§5.8, table 5-4): the routine's recurrence and the entries.

    Attributes:
        every_days: the whole routine is planned every this many days, 1..255.
        first_day: the schedule's first day (a routine day), a local date.
        times: the routine's local times, minutes of the day, strictly increasing, 1..8.
        entries: the entries, exercises strictly increasing, 0..15; entry *n* on the wire
            (START_SESSION, events) is ``entries[n - 1]``, entry 0 the whole routine.
    """

    every_days: int
    first_day: date
    times: tuple[int, ...]
    entries: tuple[WireEntry, ...] = ()

    def __post_init__(self) -> None:
        check_uint("every days", self.every_days, 255, minimum=1)
        check(isinstance(self.first_day, date), "first day must be a date")
        check_uint("first day", (self.first_day - EPOCH).days, 0xFFFF)
        _check_minutes("routine times", self.times, MAX_TIMES)
        check(
            isinstance(self.entries, tuple) and len(self.entries) <= MAX_ENTRIES,
            f"at most {MAX_ENTRIES} entries",
        )
        exercises = [e.exercise for e in self.entries]
        check(exercises == sorted(set(exercises)), "entry exercises must be strictly increasing")

    @classmethod
    def read(cls, r: Reader) -> Self:
        """Read the section from ``r`` (§5.8).

        Raises:
            DecodeError: a truncated field, a reserved bit, a count or order out of range.
        """
        every = r.u8()
        first = EPOCH + timedelta(days=r.u16())
        count = r.u8()
        if not 1 <= count <= MAX_TIMES:
            raise r.error(f"routine time count {count} outside 1..{MAX_TIMES}")
        times = tuple(r.u16() for _ in range(count))
        entry_count = r.u8()
        if entry_count > MAX_ENTRIES:
            raise r.error(f"entry count {entry_count} over {MAX_ENTRIES}")
        entries = tuple(_read_entry(r) for _ in range(entry_count))
        return build(r, lambda: cls(every, first, times, entries))

    def write(self, w: Writer) -> None:
        """Append the section to ``w`` (§5.8)."""
        w.u8(self.every_days).u16((self.first_day - EPOCH).days).u8(len(self.times))
        for minute in self.times:
            w.u16(minute)
        w.u8(len(self.entries))
        for entry in self.entries:
            w.u8(entry.exercise).u8(len(entry.slots))
            for slot in entry.slots:
                w.u16(slot.minute | (SLOT_NOT_ON_ROUTINE_DAYS if slot.not_on_routine_days else 0))

    def entry_of(self, exercise: int) -> int | None:
        """The wire entry number (1..) of the entry that runs ``exercise``, or None."""
        for number, entry in enumerate(self.entries, start=1):
            if entry.exercise == exercise:
                return number
        return None
