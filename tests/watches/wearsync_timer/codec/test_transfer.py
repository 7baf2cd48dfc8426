"""Program transfer (§6): chunking, the staging rules and atomic commit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wearsync.routine import CompileOptions, compile_routine, load_routine
from wearsync.watches.wearsync_timer.codec import (
    AttError,
    AttErrorCode,
    DecodeError,
    ProgramChunk,
    Staging,
    WireProgram,
    chunk_capacity,
    encode_program,
    program_chunks,
    program_crc,
    program_identity,
)

FOOT = encode_program(compile_routine(load_routine("foot-care")))
ONE = encode_program(
    compile_routine(load_routine("foot-care"), CompileOptions(exercises=("toe-walking",)))
)
MAX = 4096


def stage(chunks: tuple[ProgramChunk, ...] | list[ProgramChunk]) -> Staging:
    staging = Staging()
    for chunk in chunks:
        staging = staging.accept(chunk, max_length=MAX)
    return staging


@pytest.mark.parametrize(("mtu", "capacity"), [(23, 16), (185, 178), (247, 240), (517, 508)])
def test_chunk_capacity(mtu: int, capacity: int) -> None:
    """§6.1: min(ATT_MTU - 3, 512) - 4 program bytes per write."""
    assert chunk_capacity(mtu) == capacity


@given(st.sampled_from([23, 27, 64, 185, 247, 517]))
def test_chunks_restage_the_program_exactly(mtu: int) -> None:
    chunks = program_chunks(FOOT, mtu)
    assert all(len(bytes(c)) <= mtu - 3 for c in chunks)
    assert [c.offset for c in chunks] == list(range(0, len(FOOT), chunk_capacity(mtu)))
    staging = stage(chunks)
    assert staging.complete
    raw, program = staging.commit(program_crc(FOOT))
    assert raw == FOOT and bytes(program) == FOOT


def test_small_mtu_needs_fourteen_writes_for_the_foot_routine() -> None:
    assert len(program_chunks(FOOT, 23)) == -(-len(FOOT) // 16) == 14


def test_cut_transfer_never_commits() -> None:
    """§6.4: stop after any chunk; COMMIT fails and the old program stays the committed one."""
    committed = ONE
    chunks = program_chunks(FOOT, 23)
    for cut in range(len(chunks)):
        staging = stage(chunks[:cut])
        with pytest.raises(AttError) as caught:
            committed, _ = staging.commit(program_crc(FOOT))
        expected = AttErrorCode.NOTHING_STAGED if cut == 0 else AttErrorCode.STAGING_INCOMPLETE
        assert caught.value.code is expected
        assert committed == ONE


def test_offset_zero_restarts_the_staging() -> None:
    first = program_chunks(FOOT, 23)
    staging = stage([*first[:3], *program_chunks(ONE, 247)])
    assert staging.commit(program_crc(ONE))[0] == ONE


@pytest.mark.parametrize(
    ("chunk", "code"),
    [
        (ProgramChunk(len(FOOT), 32, FOOT[32:48]), AttErrorCode.BAD_OFFSET),  # skips 16..31
        (ProgramChunk(len(FOOT), 0 + 8, FOOT[8:24]), AttErrorCode.BAD_OFFSET),  # overlaps
        (ProgramChunk(len(FOOT) + 1, 16, FOOT[16:32]), AttErrorCode.BAD_OFFSET),  # other total
        (ProgramChunk(MAX + 1, 0, b"\x01"), AttErrorCode.PROGRAM_TOO_LARGE),
    ],
)
def test_chunk_errors_leave_the_staging_unchanged(chunk: ProgramChunk, code: int) -> None:
    before = stage(program_chunks(FOOT, 23)[:1])
    with pytest.raises(AttError) as caught:
        before.accept(chunk, max_length=MAX)
    assert caught.value.code == code
    assert before.data == FOOT[:16]


def test_continuing_nothing_is_a_bad_offset() -> None:
    with pytest.raises(AttError) as caught:
        Staging().accept(ProgramChunk(10, 5, b"12345"), max_length=MAX)
    assert caught.value.code is AttErrorCode.BAD_OFFSET


def test_crc_mismatch() -> None:
    with pytest.raises(AttError) as caught:
        stage(program_chunks(FOOT, 247)).commit(program_crc(FOOT) ^ 1)
    assert caught.value.code is AttErrorCode.CRC_MISMATCH


def test_commit_maps_format_and_validity_errors() -> None:
    future = bytes([3]) + FOOT[1:]
    with pytest.raises(AttError) as caught:
        stage(program_chunks(future, 247)).commit(program_crc(future))
    assert caught.value.code is AttErrorCode.PROGRAM_VERSION_UNSUPPORTED
    # a watch without feature ENTRIES runs format 1 only (§3.4)
    planned = bytes([2]) + FOOT[1:]
    with pytest.raises(AttError) as caught:
        stage(program_chunks(planned, 247)).commit(program_crc(planned), formats=(1,))
    assert caught.value.code is AttErrorCode.PROGRAM_VERSION_UNSUPPORTED
    # format 2 without its plan section is invalid where format 2 is spoken
    with pytest.raises(AttError) as caught:
        stage(program_chunks(planned, 247)).commit(program_crc(planned))
    assert caught.value.code is AttErrorCode.PROGRAM_INVALID
    broken = FOOT + b"\x00"
    with pytest.raises(AttError) as caught:
        stage(program_chunks(broken, 247)).commit(program_crc(broken))
    assert caught.value.code is AttErrorCode.PROGRAM_INVALID


def test_identity_matches_the_decoded_program() -> None:
    _, program = stage(program_chunks(FOOT, 247)).commit(program_crc(FOOT))
    assert program.identity == program_identity(FOOT) == WireProgram.from_bytes(FOOT).identity
    assert len(program.identity) == 16


@pytest.mark.parametrize(
    "data",
    [b"", b"\x05\x00\x00", b"\x05\x00\x00\x00", b"\x00\x00\x00\x00\x01", b"\x02\x00\x01\x00ab"],
    ids=["empty", "short", "no data", "zero total", "past total"],
)
def test_malformed_chunks(data: bytes) -> None:
    """§6.1: the watch answers these with 0x81 INVALID_PARAMETER."""
    with pytest.raises(DecodeError):
        ProgramChunk.from_bytes(data)


def test_program_chunks_refuses_what_cannot_be_sent() -> None:
    with pytest.raises(ValueError, match="ATT_MTU"):
        program_chunks(FOOT, 22)
    with pytest.raises(ValueError, match="program"):
        program_chunks(b"", 247)
