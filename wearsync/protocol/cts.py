"""Codecs of the standard Current Time Service values the watch's clock is set with (§10).

Current Time (0x2A2B) is the *local* wall-clock time; Local Time Information (0x2A0F) gives the
standard offset from UTC in 15-minute steps and the daylight saving offset. The watch keeps
UTC as ``local - time zone - DST`` (§10.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntFlag
from typing import Final, Self

from wearsync.protocol.enums import OpenIntEnum
from wearsync.protocol.errors import EncodeError
from wearsync.protocol.wire import Reader, Writer, build, check, check_uint

#: Length of the Current Time value (Exact Time 256 plus Adjust Reason).
CURRENT_TIME_SIZE: Final = 10
#: Time zone value that means "not known".
TIME_ZONE_UNKNOWN: Final = -128
_QUARTER_HOUR: Final = timedelta(minutes=15)


class AdjustReason(IntFlag):
    """Why the time was adjusted (Current Time, last byte)."""

    MANUAL_UPDATE = 0x01
    EXTERNAL_REFERENCE = 0x02
    TIME_ZONE_CHANGE = 0x04
    DST_CHANGE = 0x08


_NO_REASON: Final = AdjustReason(0)


class DstOffset(OpenIntEnum):
    """The daylight saving offset of Local Time Information; reserved values are kept."""

    STANDARD = 0
    HALF_HOUR = 2
    DAYLIGHT = 4
    DOUBLE_DAYLIGHT = 8
    UNKNOWN = 255


_DST_DELTAS: Final = {
    DstOffset.STANDARD: timedelta(0),
    DstOffset.HALF_HOUR: timedelta(minutes=30),
    DstOffset.DAYLIGHT: timedelta(hours=1),
    DstOffset.DOUBLE_DAYLIGHT: timedelta(hours=2),
}


@dataclass(frozen=True)
class CurrentTime:
    """The Current Time characteristic value, 10 bytes (§10.1, table 10-1).

    Zero in ``year``, ``month``, ``day`` or ``day_of_week`` means "not known", as in the SIG
    specification; ``day_of_week`` 1 is Monday.
    """

    year: int
    month: int
    day: int
    hours: int
    minutes: int
    seconds: int
    day_of_week: int = 0
    fractions256: int = 0
    adjust_reason: AdjustReason = _NO_REASON

    def __post_init__(self) -> None:
        check(
            self.year == 0 or (isinstance(self.year, int) and 1582 <= self.year <= 9999),
            f"year must be 0 or 1582..9999, got {self.year!r}",
        )
        check_uint("month", self.month, 12)
        check_uint("day", self.day, 31)
        check_uint("hours", self.hours, 23)
        check_uint("minutes", self.minutes, 59)
        check_uint("seconds", self.seconds, 59)
        check_uint("day of week", self.day_of_week, 7)
        check_uint("fractions256", self.fractions256, 255)
        check_uint("adjust reason", int(self.adjust_reason), 0xFF)

    @classmethod
    def from_datetime(
        cls, local: datetime, reason: AdjustReason = AdjustReason.EXTERNAL_REFERENCE
    ) -> Self:
        """The Current Time that states ``local``'s wall-clock fields."""
        return cls(
            year=local.year,
            month=local.month,
            day=local.day,
            hours=local.hour,
            minutes=local.minute,
            seconds=local.second,
            day_of_week=local.isoweekday(),
            fractions256=local.microsecond * 256 // 1_000_000,
            adjust_reason=reason,
        )

    def to_datetime(self) -> datetime | None:
        """The naive local datetime stated, or ``None`` if the date is unknown or impossible."""
        if not (self.year and self.month and self.day):
            return None
        try:
            return datetime(
                self.year,
                self.month,
                self.day,
                self.hours,
                self.minutes,
                self.seconds,
                self.fractions256 * 1_000_000 // 256,
            )
        except ValueError:
            # February 30th fits every field's range and is still no date.
            return None

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a Current Time read, write or notification.

        Raises:
            DecodeError: not 10 bytes, or a field out of range.
        """
        r = Reader(data, "current time")
        year, month, day, hours, minutes, seconds = r.u16(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8()
        day_of_week, fractions, reason = r.u8(), r.u8(), AdjustReason(r.u8())
        r.end()
        return build(
            r,
            lambda: cls(year, month, day, hours, minutes, seconds, day_of_week, fractions, reason),
        )

    def __bytes__(self) -> bytes:
        w = Writer().u16(self.year).u8(self.month).u8(self.day)
        w.u8(self.hours).u8(self.minutes).u8(self.seconds)
        return bytes(w.u8(self.day_of_week).u8(self.fractions256).u8(int(self.adjust_reason)))


@dataclass(frozen=True)
class LocalTimeInformation:
    """The Local Time Information characteristic value, 2 bytes (§10.1, table 10-2).

    Attributes:
        time_zone: standard offset from UTC in 15-minute steps, -48..56, or -128 for unknown.
        dst_offset: the daylight saving offset in effect.
    """

    time_zone: int
    dst_offset: DstOffset = DstOffset.STANDARD

    def __post_init__(self) -> None:
        check(
            isinstance(self.time_zone, int)
            and (-48 <= self.time_zone <= 56 or self.time_zone == TIME_ZONE_UNKNOWN),
            f"time zone must be -48..56 or -128, got {self.time_zone!r}",
        )
        check_uint("DST offset", int(self.dst_offset), 0xFF)

    @classmethod
    def from_datetime(cls, moment: datetime) -> Self:
        """The Local Time Information in force at aware ``moment``.

        Raises:
            EncodeError: ``moment`` is naive, or its offsets are not whole quarter hours or a
                DST offset the characteristic can state.
        """
        total, dst = moment.utcoffset(), moment.dst()
        if total is None:
            raise EncodeError("local time information needs an aware datetime")
        dst = dst or timedelta(0)
        standard = total - dst
        if standard % _QUARTER_HOUR:
            raise EncodeError(f"UTC offset {standard} is not a whole number of quarter hours")
        code = next((c for c, d in _DST_DELTAS.items() if d == dst), None)
        if code is None:
            raise EncodeError(f"DST offset {dst} cannot be stated in Local Time Information")
        # An offset outside -12..+14 h fails the range check with EncodeError, as it should.
        return cls(standard // _QUARTER_HOUR, code)

    @property
    def utc_offset(self) -> timedelta | None:
        """Local time minus UTC, or ``None`` if the zone or the DST offset is unknown."""
        dst = _DST_DELTAS.get(self.dst_offset)
        if self.time_zone == TIME_ZONE_UNKNOWN or dst is None:
            return None
        return self.time_zone * _QUARTER_HOUR + dst

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a Local Time Information value.

        Raises:
            DecodeError: not 2 bytes, or the time zone is out of range.
        """
        r = Reader(data, "local time information")
        zone, dst = r.s8(), DstOffset(r.u8())
        r.end()
        return build(r, lambda: cls(zone, dst))

    def __bytes__(self) -> bytes:
        return bytes(Writer().s8(self.time_zone).u8(int(self.dst_offset)))


def clock_values(now: datetime) -> tuple[LocalTimeInformation, CurrentTime]:
    """What a client writes to set the watch's clock to aware ``now`` (§12.6), in write order.

    Raises:
        EncodeError: as :meth:`LocalTimeInformation.from_datetime`.
    """
    return LocalTimeInformation.from_datetime(now), CurrentTime.from_datetime(now)


def cts_to_utc(current: CurrentTime, local: LocalTimeInformation) -> datetime | None:
    """The UTC instant the two values state together (§10.2), or ``None`` if unknown."""
    wall, offset = current.to_datetime(), local.utc_offset
    if wall is None or offset is None:
        return None
    return (wall - offset).replace(tzinfo=UTC)
