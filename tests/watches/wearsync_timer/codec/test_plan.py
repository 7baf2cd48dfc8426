"""The plan section of a format-2 program (§5.8): the foot routine's entries and schedule."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wearsync.routine import compile_routine, load_routine
from wearsync.watches.wearsync_timer.codec import (
    DecodeError,
    WireProgram,
    decode_program,
    encode_program,
    program_chunks,
)
from wearsync.watches.wearsync_timer.codec.encode import wire_plan
from wearsync.watches.wearsync_timer.codec.expand import entry_steps, expand
from wearsync.watches.wearsync_timer.codec.plan import WireEntry, WirePlan, WireSlot

ROUTINE = load_routine("foot-care")
PROGRAM = compile_routine(ROUTINE)
FIRST = date(2026, 3, 2)
PLAN: WirePlan = wire_plan(ROUTINE, PROGRAM, FIRST)
BYTES = encode_program(PROGRAM, PLAN)


def test_foot_care_plan_says_what_the_schedule_says() -> None:
    """Every 2-3 days (the 2), at 18:00; presses 3 a day, walking 2 a day, no double at 18:00."""
    assert (
        WirePlan(
            every_days=2,
            first_day=FIRST,
            times=(18 * 60,),
            entries=(
                WireEntry(0, (WireSlot(8 * 60), WireSlot(13 * 60), WireSlot(18 * 60, True))),
                WireEntry(1, (WireSlot(8 * 60), WireSlot(13 * 60, True))),
            ),
        )
        == PLAN
    )


def test_foot_care_with_plan_fits_one_write_at_mtu_247() -> None:
    """One ATT write: the chunk (4-byte header + program) is at most ATT_MTU - 3 = 244 bytes."""
    chunks = program_chunks(BYTES, 247)
    assert len(chunks) == 1
    assert len(bytes(chunks[0])) <= 244
    assert len(BYTES) == 236


def test_format_1_is_unchanged_without_a_plan() -> None:
    plain = encode_program(PROGRAM)
    assert plain[0] == 1 and BYTES[0] == 2
    assert decode_program(plain).plan is None
    # same records, plus the reminder cue and the plan
    assert decode_program(BYTES).exercises == decode_program(plain).exercises


def test_round_trip() -> None:
    program = decode_program(BYTES)
    assert program.plan == PLAN
    assert bytes(program) == BYTES


def _plan_offset() -> int:
    return len(BYTES) - len(_plan_bytes())


def _plan_bytes() -> bytes:
    return bytes.fromhex("02 22 50 01 38 04 02 00 03 e0 01 0c 03 38 84 01 02 e0 01 0c 83")


def test_plan_bytes_are_the_tail() -> None:
    assert BYTES.endswith(_plan_bytes())


@pytest.mark.parametrize(
    ("patch", "problem"),
    [
        ({0: 0x00}, "every days"),  # every_days 0
        ({3: 0x00}, "routine time count"),  # no routine time
        ({4: 0xA0, 5: 0x05}, "routine times"),  # minute 1440
        ({6: 0x10}, "entry count"),  # 16 entries
        ({15: 0x05}, "entry exercise out of range"),  # exercise 5 of 5
        ({8: 0x00}, "slot count"),  # no slot
        ({10: 0x41}, "reserved slot bits"),  # bit 14
        ({11: 0xE0, 12: 0x01}, "strictly increasing"),  # 08:00 twice
        ({15: 0x00}, "strictly increasing"),  # entries 0 then 0
    ],
)
def test_invalid_plans_are_decode_errors(patch: dict[int, int], problem: str) -> None:
    data = bytearray(BYTES)
    for where, value in patch.items():
        data[_plan_offset() + where] = value
    with pytest.raises(DecodeError, match=problem):
        WireProgram.from_bytes(bytes(data))


def test_truncated_or_trailing_plan() -> None:
    with pytest.raises(DecodeError):
        WireProgram.from_bytes(BYTES[:-1])
    with pytest.raises(DecodeError, match="trailing"):
        WireProgram.from_bytes(BYTES + b"\x00")


def test_a_plan_needs_the_reminder_cue() -> None:
    program = decode_program(BYTES)
    cues = tuple(c for c in program.cues if c.name != "reminder")
    without = bytes(WireProgram(program.title, cues, program.exercises, program.end_cue))
    with pytest.raises(DecodeError, match="reminder"):
        WireProgram.from_bytes(b"\x02" + without[1:] + _plan_bytes())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_plan_tail_decodes_canonically_or_is_a_decode_error(tail: bytes) -> None:
    """§5.5, §5.8: whatever follows the exercise records, the program either decodes and
    re-encodes to exactly its bytes, or is refused with DecodeError (nothing else escapes)."""
    data = BYTES[: _plan_offset()] + tail
    try:
        program = WireProgram.from_bytes(data)
    except DecodeError:
        return
    assert bytes(program) == data


def test_entry_steps_are_the_exercise_steps_of_the_whole_expansion() -> None:
    """§5.8: entry n runs its exercise's steps, numbered as in the whole program."""
    program = decode_program(BYTES)
    steps = expand(program)
    assert entry_steps(program, 0) == range(len(steps))
    for number, entry in enumerate(PLAN.entries, start=1):
        mine = [s.index for s in steps if s.exercise == entry.exercise]
        assert list(entry_steps(program, number)) == mine
    with pytest.raises(ValueError):
        entry_steps(program, 3)
    with pytest.raises(ValueError):
        entry_steps(decode_program(encode_program(PROGRAM)), 1)
