"""The Timer Info characteristic: version, limits, clock and committed program (§4).

One read of it tells a client everything a sync decides on: whether it speaks the watch's
protocol, whether the committed program is already the wanted one (then nothing is written),
whether events wait to be collected and whether the watch's clock needs setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntFlag
from typing import Final, Self

from wearsync.protocol.errors import UnsupportedVersionError
from wearsync.protocol.wire import U16_MAX, U32_MAX, Reader, Writer, build, check, check_uint
from wearsync.watches.wearsync_timer.codec.program import IDENTITY_SIZE

#: The protocol version this module speaks (§3.1).
PROTOCOL_VERSION: Final = 1
#: Length of a version 1 Timer Info value; later minor revisions may append fields (§3.3).
TIMER_INFO_SIZE: Final = 40


class Feature(IntFlag):
    """Optional capabilities a watch advertises in Timer Info (§3.2, table 3-1).

    Unknown bits are kept, so a newer watch's features survive a round trip.
    """

    SESSION_CONTROL = 0x0001
    PAUSE_RESUME = 0x0002
    EVENT_REPLAY = 0x0004
    CURRENT_TIME_SERVICE = 0x0008
    ENTRIES = 0x0010
    """Program format 2 (entries and schedule, §5.8), START_ENTRY, reminders (§5.9)."""


class InfoFlags(IntFlag):
    """Conditions a watch reports in Timer Info (§4, table 4-2)."""

    CLOCK_SET = 0x01
    EVENTS_LOST = 0x02
    STAGING = 0x04


@dataclass(frozen=True)
class TimerInfo:
    """The Timer Info value (§4, table 4-1).

    Attributes:
        features: optional capabilities (:class:`Feature`).
        flags: conditions (:class:`InfoFlags`).
        max_program_length: largest program the watch stages, in bytes.
        event_capacity: events the log holds before it drops the oldest.
        unacked_events: events in the log the client has not acknowledged.
        boot_id: the watch's boot counter; event ids of this boot carry it.
        uptime_s: seconds since this boot.
        clock_s: the watch's UTC clock in Unix seconds when the value was read (0 if unset).
        program_length: length of the committed program, 0 if there is none.
        program_identity: its identity (§5.7), all zeros if there is none.
    """

    features: Feature
    flags: InfoFlags
    max_program_length: int
    event_capacity: int
    unacked_events: int
    boot_id: int
    uptime_s: int
    clock_s: int
    program_length: int
    program_identity: bytes = bytes(IDENTITY_SIZE)

    def __post_init__(self) -> None:
        check_uint("features", int(self.features), U16_MAX)
        check_uint("flags", int(self.flags), 0xFF)
        for name in ("max_program_length", "event_capacity", "unacked_events", "program_length"):
            check_uint(name, getattr(self, name), U16_MAX)
        for name in ("boot_id", "uptime_s", "clock_s"):
            check_uint(name, getattr(self, name), U32_MAX)
        check(
            isinstance(self.program_identity, bytes)
            and len(self.program_identity) == IDENTITY_SIZE,
            f"program identity is {IDENTITY_SIZE} bytes",
        )
        check(
            self.program_length > 0 or self.program_identity == bytes(IDENTITY_SIZE),
            "with no program the identity is all zeros",
        )

    @property
    def has_program(self) -> bool:
        """Whether the watch has a committed program."""
        return self.program_length > 0

    @property
    def boot_time(self) -> datetime | None:
        """When this boot started in UTC, if the watch's clock is set (§10.3)."""
        if not self.flags & InfoFlags.CLOCK_SET:
            return None
        return datetime.fromtimestamp(self.clock_s, UTC) - timedelta(seconds=self.uptime_s)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a Timer Info read (§4).

        Bytes after the 40 of version 1 are ignored: later minor revisions append fields.

        Raises:
            UnsupportedVersionError: the protocol version byte is not 1 (§3.1).
            DecodeError: the value is shorter than 40 bytes or inconsistent.
        """
        r = Reader(data, "timer info")
        version = r.u8()
        if version != PROTOCOL_VERSION:
            raise UnsupportedVersionError("timer info", version, (PROTOCOL_VERSION,))
        features = Feature(r.u16())
        flags = InfoFlags(r.u8())
        max_length, capacity, unacked = r.u16(), r.u16(), r.u16()
        boot_id, uptime_s, clock_s = r.u32(), r.u32(), r.u32()
        length = r.u16()
        identity = r.take(IDENTITY_SIZE)
        return build(
            r,
            lambda: cls(
                features,
                flags,
                max_length,
                capacity,
                unacked,
                boot_id,
                uptime_s,
                clock_s,
                length,
                identity,
            ),
        )

    def __bytes__(self) -> bytes:
        w = Writer().u8(PROTOCOL_VERSION).u16(int(self.features)).u8(int(self.flags))
        w.u16(self.max_program_length).u16(self.event_capacity).u16(self.unacked_events)
        w.u32(self.boot_id).u32(self.uptime_s).u32(self.clock_s)
        return bytes(w.u16(self.program_length).raw(self.program_identity))
