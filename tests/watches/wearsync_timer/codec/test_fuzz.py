"""Arbitrary bytes only ever raise DecodeError: never IndexError, struct.error, ValueError or
UnicodeDecodeError (the decoders' contract in wearsync.protocol.errors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.watches.wearsync_timer.codec.strategies import wire_programs
from wearsync.routine import compile_routine, load_routine
from wearsync.watches.wearsync_timer.codec import (
    AttError,
    CurrentTime,
    DecodeError,
    EventBatch,
    EventRecord,
    LocalTimeInformation,
    ProgramChunk,
    SessionStatusValue,
    Staging,
    TimerInfo,
    WireProgram,
    decode_program,
    parse_control,
    program_crc,
)
from wearsync.watches.wearsync_timer.codec.control import (
    AbortStaged,
    AckEvents,
    Commit,
    ReplayEvents,
    StartSession,
)
from wearsync.watches.wearsync_timer.codec.encode import encode_program

DECODERS: dict[str, Callable[[bytes], Any]] = {
    "program": decode_program,
    "program chunk": ProgramChunk.from_bytes,
    "control": parse_control,
    "commit": Commit.from_bytes,
    "abort": AbortStaged.from_bytes,
    "start": StartSession.from_bytes,
    "ack": AckEvents.from_bytes,
    "replay": ReplayEvents.from_bytes,
    "timer info": TimerInfo.from_bytes,
    "session status": SessionStatusValue.from_bytes,
    "event record": EventRecord.from_bytes,
    "event batch": EventBatch.from_bytes,
    "current time": CurrentTime.from_bytes,
    "local time information": LocalTimeInformation.from_bytes,
}

FOOT_CARE = encode_program(compile_routine(load_routine("foot-care")))


@pytest.mark.parametrize("name", DECODERS)
@settings(max_examples=300)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_decode_error(name: str, data: bytes) -> None:
    decode = DECODERS[name]
    try:
        value = decode(data)
    except DecodeError:
        return
    # Whatever decodes is a value that encodes and decodes back to itself.
    assert decode(bytes(value)) == value


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a few bytes changed, cut, or inserted: close enough to get past the
    header checks, so the fuzz reaches the cue table and exercise records."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["set", "cut", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at:]
        else:
            data.insert(at, draw(st.integers(0, 255)))
    return bytes(data)


@settings(max_examples=1000)
@given(mutated(FOOT_CARE))
def test_mutated_programs_decode_canonically_or_raise_decode_error(data: bytes) -> None:
    """Whatever decodes re-encodes to the same bytes: the format is canonical (§5.5)."""
    try:
        program = WireProgram.from_bytes(data)
    except DecodeError:
        return
    assert bytes(program) == data


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_generated_programs_too(data: st.DataObject) -> None:
    original = bytes(data.draw(wire_programs()))
    candidate = data.draw(mutated(original))
    try:
        program = WireProgram.from_bytes(candidate)
    except DecodeError:
        return
    assert bytes(program) == candidate


@settings(max_examples=300)
@given(mutated(FOOT_CARE))
def test_commit_of_any_staged_bytes_answers_with_an_att_error(data: bytes) -> None:
    """A watch that stages garbage answers COMMIT with an ATT error, never crashes."""
    if not data:
        return
    staging = Staging(len(data), data)
    try:
        raw, program = staging.commit(program_crc(data))
    except AttError as exc:
        assert 0x84 <= exc.code <= 0x88
    else:
        assert raw == data and bytes(program) == data
