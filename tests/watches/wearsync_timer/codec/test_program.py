"""The program format (§5): size, the encode -> decode -> expand round trip, and what the
encoder refuses."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.watches.wearsync_timer.codec.strategies import compile_options, routines, wire_programs
from wearsync.routine import Routine, Step, StepKind, TimerProgram, compile_routine, load_routine
from wearsync.watches.wearsync_timer.codec import (
    CueSlot,
    DecodeError,
    EncodeError,
    Timed,
    UnsupportedVersionError,
    WireCue,
    WireExercise,
    WireProgram,
    decode_program,
    encode_program,
    expand,
    program_chunks,
    wire_program,
)
from wearsync.watches.wearsync_timer.codec.transfer import CHUNK_HEADER_SIZE

FOOT_CARE = compile_routine(load_routine("foot-care"))
FOOT_CARE_BYTES = encode_program(FOOT_CARE)
#: The largest value one Write Request carries at ATT_MTU 247.
WRITE_LIMIT_AT_247 = 247 - 3


def step_fields(step: Step) -> tuple[object, ...]:
    """Everything a step carries, spelled out so a failing comparison names the field."""
    return (
        step.index,
        step.exercise,
        step.set,
        step.rep,
        step.side,
        step.direction,
        step.kind,
        step.start_ms,
        step.duration_ms,
        step.cue,
        step.countdown_cue,
        step.countdown_ms,
    )


def assert_round_trip(program: TimerProgram) -> WireProgram:
    data = encode_program(program)
    wire = decode_program(data)
    got = expand(wire)
    assert [step_fields(s) for s in got] == [step_fields(s) for s in program.steps]
    assert bytes(wire) == data, "decode then encode must give the same bytes (§5.5)"
    for number, ex in enumerate(wire.exercises):
        for slot in ex.used_slots():
            index = wire.cue_index(number, slot)
            assert index is not None
            cue = wire.cues[index]
            assert cue.pattern == program.cues[cue.name].pattern
            assert cue.strength == program.cues[cue.name].strength
    return wire


def test_foot_care_fits_one_write_at_mtu_247() -> None:
    (chunk,) = program_chunks(FOOT_CARE_BYTES, mtu=247)
    size = len(bytes(chunk))
    assert size == CHUNK_HEADER_SIZE + len(FOOT_CARE_BYTES)
    assert size <= WRITE_LIMIT_AT_247, f"foot-care write value is {size} bytes (limit 244)"
    print(f"foot-care: program {len(FOOT_CARE_BYTES)} bytes, write value {size} bytes")


def test_foot_care_round_trips_through_the_wire() -> None:
    wire = assert_round_trip(FOOT_CARE)
    assert len(FOOT_CARE.steps) == 82 == wire.step_count
    assert [ex.name for ex in wire.exercises] == [ex.name for ex in FOOT_CARE.exercises]
    assert wire.cues[wire.end_cue or 0].name == "session_end"
    toe_walking = wire.exercises[1]
    # Rest follows each walk but the last: the after-step rules of §5.6 rule 5.
    assert toe_walking.after is not None and toe_walking.after.kind is StepKind.REST
    assert toe_walking.after_skip_last and not toe_walking.after_each_direction


def test_foot_care_title_is_cut_at_32_bytes() -> None:
    wire = decode_program(FOOT_CARE_BYTES)
    assert FOOT_CARE.title.startswith(wire.title)
    assert len(wire.title.encode()) == 32


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_routines_round_trip(data: st.DataObject) -> None:
    routine: Routine = data.draw(routines())
    options = data.draw(compile_options(routine))
    assert_round_trip(compile_routine(routine, options))


def test_names_are_cut_between_characters() -> None:
    routine = load_routine("foot-care")
    long_name = "Überstreckung " * 4  # 60 characters, 64 UTF-8 bytes
    exercises = (routine.exercises[0].model_copy(update={"name": long_name[:60]}),)
    program = compile_routine(routine.model_copy(update={"exercises": exercises}))
    wire = decode_program(encode_program(program))
    name = wire.exercises[0].name
    assert long_name.startswith(name) and 31 <= len(name.encode()) <= 32


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(wire_programs())
def test_wire_programs_unroll_into_step_count_steps(program: WireProgram) -> None:
    steps = expand(program)
    assert len(steps) == program.step_count
    assert all(step.exercise < len(program.exercises) for step in steps)
    assert decode_program(bytes(program)) == program


def test_a_shuffled_program_is_refused() -> None:
    steps = list(FOOT_CARE.steps)
    steps[3], steps[5] = steps[5], steps[3]  # identical holds: swap a hold with a release
    steps[3], steps[4] = steps[4], steps[3]
    bad = FOOT_CARE.model_copy(update={"steps": tuple(steps)})
    with pytest.raises(EncodeError, match="step 3"):
        encode_program(bad)


def test_a_cue_missing_from_the_table_is_refused() -> None:
    cues = dict(FOOT_CARE.cues)
    del cues["hold_start"]
    with pytest.raises(EncodeError, match="hold_start"):
        encode_program(FOOT_CARE.model_copy(update={"cues": cues}))


def test_more_than_255_exercises_is_refused() -> None:
    """The compiler refuses first (routine/limits.py), and the wire format on its own too."""
    from wearsync.errors import RoutineError

    routine = load_routine("foot-care")
    many = tuple(routine.exercises[1].model_copy(update={"id": f"walk-{i}"}) for i in range(256))
    with pytest.raises(RoutineError, match="256 exercises; a program has at most 255"):
        compile_routine(routine.model_copy(update={"exercises": many}))
    ex = WireExercise(name="x", effort=Timed(StepKind.WORK, 1000))
    with pytest.raises(EncodeError, match=r"1\.\.255 exercises"):
        WireProgram("t", (WireCue("work_start", (100,)),), (ex,) * 256)


def test_too_many_steps_is_refused() -> None:
    ex = WireExercise(
        name="x", effort=Timed(StepKind.WORK, 1000), reps=65535, sets=2, set_rest_ms=1
    )
    cues = (WireCue("work_start", (100,)), WireCue("set_rest", (100,)))
    with pytest.raises(EncodeError, match="steps"):
        WireProgram("t", cues, (ex,))


def test_an_unresolved_slot_is_refused() -> None:
    ex = WireExercise(name="x", effort=Timed(StepKind.HOLD, 1000))
    with pytest.raises(EncodeError, match="hold_start"):
        WireProgram("t", (WireCue("work_start", (100,)),), (ex,))
    # An override can supply it from a custom cue.
    fixed = WireExercise(
        name="x", effort=Timed(StepKind.HOLD, 1000), cue_overrides=((CueSlot.HOLD_START, 0),)
    )
    program = WireProgram("t", (WireCue("tap", (100,)),), (fixed,))
    assert expand(program)[0].cue == "tap"


def test_unknown_format_is_a_version_error() -> None:
    with pytest.raises(UnsupportedVersionError) as caught:
        decode_program(bytes([3]) + FOOT_CARE_BYTES[1:])
    assert caught.value.version == 3 and caught.value.supported == (1, 2)


@pytest.mark.parametrize(
    ("where", "patch", "problem"),
    [
        (1, 0x01, "reserved flags"),
        (len(FOOT_CARE_BYTES), None, "trailing"),
    ],
)
def test_non_canonical_headers_are_refused(where: int, patch: int | None, problem: str) -> None:
    data = bytearray(FOOT_CARE_BYTES)
    if patch is None:
        data.append(0)
    else:
        data[where] = patch
    with pytest.raises(DecodeError, match=problem):
        decode_program(bytes(data))


def test_whole_seconds_in_millisecond_form_are_refused() -> None:
    """§5.1.2: 2 s must be 05, never D = 4000 (a0 1f)."""
    ex = WireExercise(name="", effort=Timed(StepKind.WORK, 2000))
    good = bytes(WireProgram("", (WireCue("work_start", (100,)),), (ex,)))
    assert good.endswith(bytes([0x05, 0x00, 0x00])), "effort 05, no overrides, empty name"
    bad = good[:-3] + bytes([0xA0, 0x1F, 0x00, 0x00])
    with pytest.raises(DecodeError, match="seconds form"):
        decode_program(bad)


def test_a_long_varint_is_refused() -> None:
    ex = WireExercise(name="", effort=Timed(StepKind.WORK, 2000), reps=3)
    good = bytes(WireProgram("", (WireCue("work_start", (100,)),), (ex,)))
    reps_at = good.index(bytes([0x01, 0x03, 0x00, 0x05]))  # sets 1, reps 3, countdown 0, effort
    bad = good[: reps_at + 1] + bytes([0x83, 0x00]) + good[reps_at + 2 :]
    with pytest.raises(DecodeError, match="shortest form"):
        decode_program(bad)


def test_a_wide_pattern_travels_in_milliseconds() -> None:
    cue = WireCue("tap", (1234, 10, 5000))
    ex = WireExercise(
        name="", effort=Timed(StepKind.WORK, 1500), cue_overrides=((CueSlot.WORK_START, 0),)
    )
    program = WireProgram("", (cue,), (ex,))
    data = bytes(program)
    assert bytes([0x83]) + b"tap" + bytes([0x13]) + (1234).to_bytes(2, "little") in data
    assert decode_program(data) == program
    assert expand(program)[0].duration_ms == 1500


def test_wire_program_is_the_structure_encode_sends() -> None:
    assert bytes(wire_program(FOOT_CARE)) == FOOT_CARE_BYTES
