"""Current Time Service values (§10.1) and the clock they state (§10.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wearsync.protocol import (
    CurrentTime,
    DecodeError,
    DstOffset,
    EncodeError,
    LocalTimeInformation,
    clock_values,
    cts_to_utc,
)

ZONES = [
    "Europe/London",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "UTC",
]


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(ZONES),
)
def test_clock_values_state_the_same_instant(naive: datetime, zone: str) -> None:
    """Writing (Local Time Information, Current Time) lets the watch recover UTC to 1/256 s."""
    now = naive.replace(tzinfo=ZoneInfo(zone))
    local, current = clock_values(now)
    utc = cts_to_utc(
        CurrentTime.from_bytes(bytes(current)), LocalTimeInformation.from_bytes(bytes(local))
    )
    assert utc is not None
    assert 0 <= (now - utc).total_seconds() < 1 / 256


def test_lord_howe_summer_uses_the_half_hour_dst_code() -> None:
    local = LocalTimeInformation.from_datetime(
        datetime(2026, 1, 15, 12, tzinfo=ZoneInfo("Australia/Lord_Howe"))
    )
    assert local == LocalTimeInformation(42, DstOffset.HALF_HOUR)  # +10:30 standard, +0:30 DST
    assert local.utc_offset == timedelta(hours=11)


def test_offsets_the_characteristic_cannot_state() -> None:
    with pytest.raises(EncodeError, match="quarter"):
        LocalTimeInformation.from_datetime(
            datetime(2026, 1, 1, tzinfo=timezone(timedelta(minutes=7)))
        )
    with pytest.raises(EncodeError, match="aware"):
        LocalTimeInformation.from_datetime(datetime(2026, 1, 1))
    with pytest.raises(EncodeError):
        LocalTimeInformation(57)


def test_unknown_values_give_no_instant() -> None:
    current = CurrentTime(0, 0, 0, 12, 0, 0)
    assert current.to_datetime() is None
    known = CurrentTime(2026, 2, 28, 12, 0, 0)
    assert cts_to_utc(known, LocalTimeInformation(-128)) is None
    assert cts_to_utc(known, LocalTimeInformation(0, DstOffset.UNKNOWN)) is None
    assert cts_to_utc(known, LocalTimeInformation(4)) == datetime(2026, 2, 28, 11, tzinfo=UTC)
    assert CurrentTime(2026, 2, 30, 0, 0, 0).to_datetime() is None


@pytest.mark.parametrize(
    "data",
    [
        bytes(9),
        bytes(11),
        bytes.fromhex("ea07 0d 01 00 00 00 00 00 00"),
        bytes.fromhex("0100 01 01 00 00 00 00 00 00"),
    ],
    ids=["short", "long", "month 13", "year 1"],
)
def test_malformed_current_time(data: bytes) -> None:
    with pytest.raises(DecodeError):
        CurrentTime.from_bytes(data)


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x00\x00", b"\x39\x00", b"\xcf\x00"])
def test_malformed_local_time_information(data: bytes) -> None:
    """Time zone must be -48..56 or -128 (0x39 = 57, 0xcf = -49)."""
    with pytest.raises(DecodeError):
        LocalTimeInformation.from_bytes(data)
