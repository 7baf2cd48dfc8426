"""The Event Log characteristic: what happened during sessions, kept until acknowledged (§9).

Events travel in batches (:class:`EventBatch`): a Read returns the oldest unacknowledged ones
that fit, a notification carries a live event or part of a replay. Each record states its
own size in the batch header, so a later minor revision can append fields to a record and
older clients still read the fields they know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntFlag
from typing import Final, Self

from wearsync.protocol.enums import OpenIntEnum
from wearsync.protocol.wire import U16_MAX, U32_MAX, Reader, Writer, build, check, check_uint
from wearsync.routine.model import Direction, Side
from wearsync.watches.wearsync_timer.codec.program import DIRECTION_CODES, SIDE_CODES
from wearsync.watches.wearsync_timer.codec.transfer import MAX_ATTRIBUTE_SIZE

#: Size of a version 1 event record (§9.1).
EVENT_RECORD_SIZE: Final = 28
#: Size of a record with the entry field, from watches with feature ENTRIES (§9.1).
EVENT_RECORD_SIZE_ENTRIES: Final = 29
#: Bytes before the records in a batch: flags, record size (§9.2).
BATCH_HEADER_SIZE: Final = 2
_CLOCK_SET: Final = 0x01
_RECORD_SIZES: Final = (EVENT_RECORD_SIZE, EVENT_RECORD_SIZE_ENTRIES)
_SIDES: Final = {v: k for k, v in SIDE_CODES.items()}
_DIRECTIONS: Final = {v: k for k, v in DIRECTION_CODES.items()}


class EventKind(OpenIntEnum):
    """What an event records (§9.3, table 9-2); unknown kinds are kept, not rejected."""

    SESSION_STARTED = 0x01
    STEP_STARTED = 0x02
    EXERCISE_COMPLETED = 0x03
    EXERCISE_SKIPPED = 0x04
    SESSION_COMPLETED = 0x05
    SESSION_ABORTED = 0x06
    PAUSED = 0x07
    RESUMED = 0x08
    REMINDER = 0x09


@dataclass(frozen=True, order=True)
class EventId:
    """Where an event sits in the log: boots count up, ``seq`` restarts at 0 every boot (§9.4)."""

    boot_id: int
    seq: int


@dataclass(frozen=True)
class EventRecord:
    """One event (§9.1, table 9-1).

    Attributes:
        boot_id: the watch's boot counter when the event happened.
        seq: sequence number within the boot, from 0.
        time_s: Unix seconds UTC if ``clock_set``, else seconds since the boot began.
        time_ms: milliseconds past ``time_s``, 0..999.
        kind: what happened.
        clock_set: whether the watch's clock was set when the event happened (§10.3).
        step: the step the session was at.
        exercise: that step's exercise index.
        set: that step's set (1-based).
        rep: that step's repetition (0 outside a repetition).
        side: that step's side.
        direction: that step's direction.
        duration_ms: the measured duration the kind defines (§9.3), pauses excluded.
        entry: what ran (§7.7): 0 the whole routine, n entry n of the plan; 0 in 28-byte
            records, which predate entries.
    """

    boot_id: int
    seq: int
    time_s: int
    time_ms: int
    kind: EventKind
    clock_set: bool
    step: int
    exercise: int
    set: int
    rep: int
    side: Side
    direction: Direction
    duration_ms: int
    entry: int = 0

    @property
    def kind_name(self) -> str:
        """The name the kind is stored and shown under; an unknown kind keeps its code."""
        kind = self.kind
        return kind.name.lower() if kind.known else f"unknown_{int(kind):#04x}"

    def __post_init__(self) -> None:
        for name in ("boot_id", "seq", "time_s", "duration_ms"):
            check_uint(name, getattr(self, name), U32_MAX)
        check_uint("time_ms", self.time_ms, 999)
        check_uint("kind", int(self.kind), 0xFF)
        check(isinstance(self.clock_set, bool), "clock_set is a bool")
        check_uint("step", self.step, U16_MAX)
        check_uint("exercise", self.exercise, 0xFF)
        check_uint("set", self.set, 0xFF)
        check_uint("rep", self.rep, U16_MAX)
        check(self.side in SIDE_CODES, f"side must be a Side, got {self.side!r}")
        check(
            self.direction in DIRECTION_CODES,
            f"direction must be a Direction, got {self.direction!r}",
        )
        check_uint("entry", self.entry, 0xFF)

    @property
    def id(self) -> EventId:
        """The event's place in the log, what ACK_EVENTS names."""
        return EventId(self.boot_id, self.seq)

    def utc(self, boot_time: datetime | None = None) -> datetime | None:
        """When the event happened, in UTC (§10.3).

        Args:
            boot_time: when the event's boot began (:attr:`TimerInfo.boot_time`), needed
                only for events recorded before the clock was set; pass it only if the
                Timer Info it came from has this event's ``boot_id``.

        Returns:
            An aware UTC datetime, or ``None`` if the event's time cannot be placed.
        """
        offset = timedelta(seconds=self.time_s, milliseconds=self.time_ms)
        if self.clock_set:
            return datetime(1970, 1, 1, tzinfo=UTC) + offset
        return None if boot_time is None else boot_time + offset

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode one record; byte 28 is the entry if present, later bytes are ignored (§9.2).

        Raises:
            DecodeError: shorter than 28 bytes, or a field out of range.
        """
        r = Reader(data, "event record")
        boot_id, seq, time_s, time_ms = r.u32(), r.u32(), r.u32(), r.u16()
        kind, flags = EventKind(r.u8()), r.u8()
        step, exercise, set_no, rep = r.u16(), r.u8(), r.u8(), r.u16()
        side_code, direction_code, duration_ms = r.u8(), r.u8(), r.u32()
        if side_code not in _SIDES or direction_code not in _DIRECTIONS:
            raise r.error(f"unknown side {side_code} or direction {direction_code}")
        entry = r.u8() if r.remaining else 0
        return build(
            r,
            lambda: cls(
                boot_id,
                seq,
                time_s,
                time_ms,
                kind,
                bool(flags & _CLOCK_SET),
                step,
                exercise,
                set_no,
                rep,
                _SIDES[side_code],
                _DIRECTIONS[direction_code],
                duration_ms,
                entry,
            ),
        )

    def __bytes__(self) -> bytes:
        """The record in its shortest form: 28 bytes for entry 0, else 29."""
        return self.encode(EVENT_RECORD_SIZE if self.entry == 0 else EVENT_RECORD_SIZE_ENTRIES)

    def encode(self, size: int) -> bytes:
        """The record as ``size`` bytes (28, or 29 with the entry).

        Raises:
            EncodeError: a 28-byte record cannot carry an entry other than 0.
        """
        check(size in _RECORD_SIZES, f"a record is 28 or 29 bytes, not {size}")
        check(size > EVENT_RECORD_SIZE or self.entry == 0, "a 28-byte record has no entry")
        w = Writer().u32(self.boot_id).u32(self.seq).u32(self.time_s).u16(self.time_ms)
        w.u8(int(self.kind)).u8(_CLOCK_SET if self.clock_set else 0)
        w.u16(self.step).u8(self.exercise).u8(self.set).u16(self.rep)
        w.u8(SIDE_CODES[self.side]).u8(DIRECTION_CODES[self.direction])
        w.u32(self.duration_ms)
        if size > EVENT_RECORD_SIZE:
            w.u8(self.entry)
        return bytes(w)


class BatchFlags(IntFlag):
    """Bits of a batch's flags byte (§9.2, table 9-3)."""

    MORE = 0x01
    REPLAY_END = 0x02
    LIVE = 0x04


_NO_FLAGS: Final = BatchFlags(0)
# Receivers drop flag bits they do not know (§3.3).
_KNOWN_BATCH_FLAGS: Final = int(BatchFlags.MORE | BatchFlags.REPLAY_END | BatchFlags.LIVE)


@dataclass(frozen=True)
class EventBatch:
    """An Event Log read or notification: a header and whole records (§9.2).

    Attributes:
        flags: :class:`BatchFlags`; unknown bits are dropped.
        events: the records, oldest first.
        record_size: bytes per record, 28 or 29 (with the entry, feature ENTRIES).
    """

    flags: BatchFlags = _NO_FLAGS
    events: tuple[EventRecord, ...] = ()
    record_size: int = EVENT_RECORD_SIZE

    def __post_init__(self) -> None:
        check(isinstance(self.flags, BatchFlags), "flags are BatchFlags")
        check(isinstance(self.events, tuple), "events are a tuple")
        check(self.record_size in _RECORD_SIZES, "records are 28 or 29 bytes")
        check(
            self.record_size > EVENT_RECORD_SIZE or all(e.entry == 0 for e in self.events),
            "28-byte records carry no entry",
        )
        size = BATCH_HEADER_SIZE + self.record_size * len(self.events)
        check(size <= MAX_ATTRIBUTE_SIZE, f"a batch of {size} bytes exceeds an attribute value")

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a batch (§9.2).

        Raises:
            DecodeError: no header, a record size under 28, or a partial record.
        """
        r = Reader(data, "event batch")
        flags = BatchFlags(r.u8() & _KNOWN_BATCH_FLAGS)
        record_size = r.u8()
        if record_size < EVENT_RECORD_SIZE:
            raise r.error(f"record size {record_size} is under {EVENT_RECORD_SIZE}")
        if r.remaining % record_size:
            raise r.error(f"{r.remaining} bytes are not whole {record_size}-byte records")
        events = tuple(
            EventRecord.from_bytes(r.take(record_size)) for _ in range(r.remaining // record_size)
        )
        kept = min(record_size, EVENT_RECORD_SIZE_ENTRIES)  # later appended fields are dropped
        return build(r, lambda: cls(flags, events, kept))

    def __bytes__(self) -> bytes:
        w = Writer().u8(int(self.flags)).u8(self.record_size)
        for event in self.events:
            w.raw(event.encode(self.record_size))
        return bytes(w)


def events_per_batch(value_size: int, record_size: int = EVENT_RECORD_SIZE) -> int:
    """How many records of ``record_size`` fit a batch of at most ``value_size`` bytes (§9.5).

    A Read carries ``ATT_MTU - 1`` bytes, a notification ``ATT_MTU - 3``; both at most 512.
    """
    usable = min(value_size, MAX_ATTRIBUTE_SIZE) - BATCH_HEADER_SIZE
    return max(0, usable // record_size)
