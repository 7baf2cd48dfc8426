"""Events (§9) and their times in UTC (§10.3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from wearsync.routine import Direction, Side
from wearsync.watches.wearsync_timer.codec import (
    BatchFlags,
    DecodeError,
    EncodeError,
    EventBatch,
    EventId,
    EventKind,
    EventRecord,
    Feature,
    InfoFlags,
    TimerInfo,
    events_per_batch,
)
from wearsync.watches.wearsync_timer.codec.events import BATCH_HEADER_SIZE, EVENT_RECORD_SIZE

EVENT = EventRecord(
    boot_id=3,
    seq=0,
    time_s=125,
    time_ms=500,
    kind=EventKind.SESSION_STARTED,
    clock_set=False,
    step=0,
    exercise=0,
    set=1,
    rep=0,
    side=Side.LEFT,
    direction=Direction.CLOCKWISE,
    duration_ms=0,
)


def info(boot_id: int, *, clock_set: bool) -> TimerInfo:
    return TimerInfo(
        features=Feature(0),
        flags=InfoFlags.CLOCK_SET if clock_set else InfoFlags(0),
        max_program_length=4096,
        event_capacity=256,
        unacked_events=1,
        boot_id=boot_id,
        uptime_s=1000,
        clock_s=1_767_225_600,
        program_length=0,
    )


def test_event_ids_order_by_boot_then_seq() -> None:
    """§9.4: ACK_EVENTS(B, N) removes every id <= (B, N)."""
    ids = [EventId(2, 9), EventId(3, 0), EventId(3, 1), EventId(2, 10)]
    assert sorted(ids) == [EventId(2, 9), EventId(2, 10), EventId(3, 0), EventId(3, 1)]
    assert EVENT.id == EventId(3, 0)


def test_boot_relative_time_needs_the_same_boot_with_the_clock_set() -> None:
    """§10.3: boot began at clock_s - uptime_s; the event is time_s + time_ms after it."""
    same = info(3, clock_set=True)
    assert same.boot_time == datetime(2025, 12, 31, 23, 43, 20, tzinfo=UTC)
    assert EVENT.utc(same.boot_time) == datetime(2025, 12, 31, 23, 45, 25, 500_000, tzinfo=UTC)
    assert info(3, clock_set=False).boot_time is None
    assert EVENT.utc() is None


def test_clock_set_time_is_unix_utc() -> None:
    event = replace(EVENT, clock_set=True, time_s=1_767_225_600, time_ms=999)
    assert event.utc(None) == datetime(2026, 1, 1, 0, 0, 0, 999_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mtu", "read", "notify"), [(23, 0, 0), (65, 2, 2), (247, 8, 8), (517, 18, 18)]
)
def test_events_per_batch(mtu: int, read: int, notify: int) -> None:
    """§9.5: a Read carries ATT_MTU - 1 bytes, a notification ATT_MTU - 3, both capped at 512."""
    assert events_per_batch(mtu - 1) == read
    assert events_per_batch(mtu - 3) == notify
    assert BATCH_HEADER_SIZE + EVENT_RECORD_SIZE * events_per_batch(mtu - 3) <= min(mtu - 3, 512)


def test_an_empty_replay_end_batch() -> None:
    """§9.5.2: with nothing to replay the watch sends one REPLAY_END batch with no records."""
    data = bytes([0x02, EVENT_RECORD_SIZE])
    assert EventBatch.from_bytes(data) == EventBatch(BatchFlags.REPLAY_END, ())


def test_unknown_batch_flags_are_dropped() -> None:
    assert EventBatch.from_bytes(bytes([0xF9, 28])).flags == BatchFlags.MORE


def test_unknown_kind_survives_a_batch() -> None:
    future = replace(EVENT, kind=EventKind(0x30))
    batch = EventBatch.from_bytes(bytes(EventBatch(BatchFlags(0), (EVENT, future))))
    assert batch.events[1].kind == 0x30 and not batch.events[1].kind.known


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (bytes([0]), "needs"),
        (bytes([0, 27]) + bytes(27), "record size"),
        (bytes([0, 28]) + bytes(29), "whole"),
        (bytes([0, 28]) + bytes(22) + bytes([3]) + bytes(5), "unknown side"),
        (bytes([0, 28]) + bytes(12) + (1000).to_bytes(2, "little") + bytes(14), "time_ms"),
    ],
)
def test_malformed_batches(data: bytes, problem: str) -> None:
    with pytest.raises(DecodeError, match=problem):
        EventBatch.from_bytes(data)


def test_a_batch_never_exceeds_an_attribute_value() -> None:
    with pytest.raises(EncodeError):
        EventBatch(BatchFlags(0), (EVENT,) * 19)
