"""Round trips: ``from_bytes(bytes(x)) == x`` for every value of every codec."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol, Self

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.watches.wearsync_timer.codec.strategies import (
    control_requests,
    current_times,
    event_batches,
    event_records,
    local_time_infos,
    program_chunks,
    session_statuses,
    timer_infos,
    wire_programs,
)
from wearsync.routine import StepKind
from wearsync.watches.wearsync_timer.codec import (
    CurrentTime,
    EventBatch,
    EventKind,
    EventRecord,
    LocalTimeInformation,
    ProgramChunk,
    SessionState,
    SessionStatusValue,
    Timed,
    TimerInfo,
    UnsupportedVersionError,
    WireCue,
    WireExercise,
    WireProgram,
    expand,
    parse_control,
)
from wearsync.watches.wearsync_timer.codec.control import ControlRequest
from wearsync.watches.wearsync_timer.codec.events import (
    EVENT_RECORD_SIZE,
    EVENT_RECORD_SIZE_ENTRIES,
    BatchFlags,
)
from wearsync.watches.wearsync_timer.codec.info import TIMER_INFO_SIZE
from wearsync.watches.wearsync_timer.codec.program import MAX_DURATION_MS
from wearsync.watches.wearsync_timer.codec.status import SESSION_STATUS_SIZE


class Codec(Protocol):
    @classmethod
    def from_bytes(cls, data: bytes) -> Self: ...

    def __bytes__(self) -> bytes: ...


CASES: list[tuple[type[Codec], st.SearchStrategy[Codec]]] = [
    (WireProgram, wire_programs()),
    (ProgramChunk, program_chunks),
    (TimerInfo, timer_infos()),
    (SessionStatusValue, session_statuses),
    (EventRecord, event_records),
    (EventBatch, event_batches),
    (CurrentTime, current_times),
    (LocalTimeInformation, local_time_infos),
]


@pytest.mark.parametrize(("cls", "values"), CASES, ids=[c.__name__ for c, _ in CASES])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_round_trip(
    cls: type[Codec], values: st.SearchStrategy[Codec], data: st.DataObject
) -> None:
    value = data.draw(values)
    encoded = bytes(value)
    assert cls.from_bytes(encoded) == value
    assert bytes(cls.from_bytes(encoded)) == encoded


@given(control_requests)
def test_control_requests_round_trip(request_value: ControlRequest) -> None:
    encoded = bytes(request_value)
    assert parse_control(encoded) == request_value
    assert type(request_value).from_bytes(encoded) == request_value


@given(timer_infos(), st.binary(max_size=20))
def test_timer_info_ignores_appended_fields(info: TimerInfo, extra: bytes) -> None:
    """§3.3: a later minor revision may append fields; version 1 readers skip them."""
    assert len(bytes(info)) == TIMER_INFO_SIZE
    assert TimerInfo.from_bytes(bytes(info) + extra) == info


@given(session_statuses, st.binary(max_size=8))
def test_session_status_ignores_appended_fields(status: SessionStatusValue, extra: bytes) -> None:
    assert len(bytes(status)) == SESSION_STATUS_SIZE
    assert SessionStatusValue.from_bytes(bytes(status) + extra) == status


@given(st.lists(event_records, min_size=1, max_size=5), st.integers(1, 8))
def test_batches_with_longer_records_keep_the_known_fields(
    events: list[EventRecord], extra: int
) -> None:
    """§9.2: record_size may exceed 29; readers use the fields they know (entry at 28)."""
    size = EVENT_RECORD_SIZE_ENTRIES + extra
    data = bytes([0, size]) + b"".join(e.encode(29) + b"\xee" * extra for e in events)
    assert EventBatch.from_bytes(data).events == tuple(events)


@given(st.lists(event_records, min_size=1, max_size=5), st.integers(0, 255))
def test_entry_field_round_trips(events: list[EventRecord], entry: int) -> None:
    """§9.1: a 29-byte record carries the entry; a 28-byte one is entry 0."""
    with_entry = tuple(replace(e, entry=entry) for e in events)
    batch = EventBatch(BatchFlags.LIVE, with_entry, record_size=EVENT_RECORD_SIZE_ENTRIES)
    assert EventBatch.from_bytes(bytes(batch)) == batch
    old = EventBatch(BatchFlags.LIVE, tuple(events))
    assert bytes(old)[1] == EVENT_RECORD_SIZE
    assert EventBatch.from_bytes(bytes(old)).events == tuple(events)


def test_unknown_enum_values_are_kept() -> None:
    kind = EventKind(0x42)
    assert not kind.known and int(kind) == 0x42 and EventKind(0x42) is kind
    assert EventKind.PAUSED.known
    state = SessionStatusValue.from_bytes(bytes([9, 0, 0, 0, 0, 0, 0])).state
    assert state == 9 and not state.known and state != SessionState.IDLE


def test_longest_duration_round_trips() -> None:
    for ms in (MAX_DURATION_MS, MAX_DURATION_MS - 1 - MAX_DURATION_MS % 1000, 1):
        ex = WireExercise(name="", effort=Timed(StepKind.WORK, ms))
        program = WireProgram("", (WireCue("work_start", (100,)),), (ex,))
        assert expand(WireProgram.from_bytes(bytes(program)))[0].duration_ms == ms


@given(timer_infos(), st.integers(2, 255))
def test_timer_info_of_another_protocol_version_is_refused(info: TimerInfo, version: int) -> None:
    """§3.1: a client must not use a watch whose protocol version it does not speak."""
    with pytest.raises(UnsupportedVersionError) as caught:
        TimerInfo.from_bytes(bytes([version]) + bytes(info)[1:])
    assert caught.value.version == version and caught.value.supported == (1,)
