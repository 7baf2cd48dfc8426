"""§6 and §12.1: staging, commit and atomicity, over GATT."""

from __future__ import annotations

import pytest
from bleak import BleakClient
from bleak.exc import BleakGATTProtocolError

from tests.watches.wearsync_timer.sim.helpers import (
    CONTROL_POINT,
    DEMO,
    FOOT_CARE,
    PROGRAM,
    connected,
    control,
    push,
    read_info,
)
from wearsync.watches.wearsync_timer.codec import (
    AbortStaged,
    Commit,
    InfoFlags,
    ProgramChunk,
    SessionState,
    StartSession,
    program_chunks,
    program_crc,
    program_identity,
)
from wearsync.watches.wearsync_timer.sim.watch import SimWatch


async def refused(client: BleakClient, uuid: str, value: bytes) -> int:
    """Write ``value`` expecting an Error Response; return its code."""
    with pytest.raises(BleakGATTProtocolError) as caught:
        await client.write_gatt_char(uuid, value, response=True)
    return int(caught.value.code)


def chunk(program: bytes, offset: int, size: int, total: int | None = None) -> bytes:
    data = program[offset : offset + size]
    return bytes(ProgramChunk(total or len(program), offset, data))


async def test_foot_care_stages_in_one_write_and_commits_in_one_more(watch: SimWatch) -> None:
    tap = watch.tap
    async with connected(watch) as client:
        mark = tap.current.mark()
        await push(client, FOOT_CARE)
        spent = tap.current.since(mark)
        info = await read_info(client)
    assert spent.round_trips == 2
    assert spent.by_opcode() == {"ATT_WRITE_REQUEST": 2, "ATT_WRITE_RESPONSE": 2}
    assert info.program_identity == program_identity(FOOT_CARE)
    assert info.program_length == len(FOOT_CARE) == 210
    assert not info.flags & InfoFlags.STAGING
    assert watch.committed_program == FOOT_CARE
    assert watch.committed_identity == program_identity(FOOT_CARE)


async def test_chunks_sent_without_response_stage_too(watch: SimWatch) -> None:
    async with connected(watch, mtu=23) as client:
        chunks = program_chunks(FOOT_CARE, client.mtu_size)
        for c in chunks[:-1]:
            await client.write_gatt_char(PROGRAM, bytes(c), response=False)
        await client.write_gatt_char(PROGRAM, bytes(chunks[-1]), response=True)
        await control(client, Commit(program_crc(FOOT_CARE)))
        assert (await read_info(client)).program_identity == program_identity(FOOT_CARE)


async def test_staging_shows_in_timer_info_until_aborted(watch: SimWatch) -> None:
    async with connected(watch) as client:
        await client.write_gatt_char(PROGRAM, chunk(DEMO, 0, 20), response=True)
        assert (await read_info(client)).flags & InfoFlags.STAGING
        await control(client, AbortStaged())
        assert not (await read_info(client)).flags & InfoFlags.STAGING
        assert await refused(client, PROGRAM, chunk(DEMO, 20, 38)) == 0x83


async def test_committing_the_committed_program_again_succeeds(watch: SimWatch) -> None:
    async with connected(watch) as client:
        await push(client, DEMO)
        await push(client, DEMO)
        assert (await read_info(client)).program_identity == program_identity(DEMO)


async def test_crc_mismatch_discards_the_staging_and_keeps_the_old_program(
    watch: SimWatch,
) -> None:
    async with connected(watch) as client:
        await push(client, DEMO)
        await client.write_gatt_char(PROGRAM, chunk(FOOT_CARE, 0, 240), response=True)
        bad = bytes(Commit(program_crc(FOOT_CARE) ^ 1))
        assert await refused(client, CONTROL_POINT, bad) == 0x86
        info = await read_info(client)
        assert info.program_identity == program_identity(DEMO)
        assert not info.flags & InfoFlags.STAGING
        # The failed COMMIT discarded the staging (§6.2)...
        good = bytes(Commit(program_crc(FOOT_CARE)))
        assert await refused(client, CONTROL_POINT, good) == 0x84
        # ...and the old program still runs.
        await control(client, StartSession(program_identity(DEMO)))
    assert watch.state is SessionState.RUNNING


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (b"\x3a\x00\x00\x00", 0x81),  # shorter than 5 bytes
        (b"\x00\x00\x00\x00\x01", 0x81),  # total length 0
        (b"\x02\x00\x01\x00\x01\x02", 0x81),  # data past the total length
        (bytes(ProgramChunk(5000, 0, b"\x01")), 0x82),  # over max_program_length
        (chunk(DEMO, 20, 10), 0x83),  # continues a staging that does not exist
    ],
)
async def test_bad_chunks_are_refused_and_stage_nothing(
    watch: SimWatch, value: bytes, code: int
) -> None:
    async with connected(watch) as client:
        assert await refused(client, PROGRAM, value) == code
        assert not (await read_info(client)).flags & InfoFlags.STAGING


async def test_a_chunk_at_the_wrong_offset_leaves_the_staging_as_it_was(
    watch: SimWatch,
) -> None:
    async with connected(watch) as client:
        await client.write_gatt_char(PROGRAM, chunk(DEMO, 0, 20), response=True)
        assert await refused(client, PROGRAM, chunk(DEMO, 21, 10)) == 0x83
        assert await refused(client, PROGRAM, chunk(DEMO, 20, 10, total=59)) == 0x83
        await client.write_gatt_char(PROGRAM, chunk(DEMO, 20, 38), response=True)
        await control(client, Commit(program_crc(DEMO)))
        assert (await read_info(client)).program_identity == program_identity(DEMO)


@pytest.mark.parametrize(
    ("staged", "code"),
    [
        (DEMO[:30], 0x85),  # incomplete
        (DEMO + b"\x00", 0x87),  # trailing byte: not a valid program
        (b"\x02" + DEMO[1:], 0x88),  # program format 2
    ],
)
async def test_commit_checks_the_staged_bytes(watch: SimWatch, staged: bytes, code: int) -> None:
    async with connected(watch) as client:
        await push(client, FOOT_CARE)
        total = len(DEMO) if code == 0x85 else len(staged)
        await client.write_gatt_char(PROGRAM, bytes(ProgramChunk(total, 0, staged)), response=True)
        commit = bytes(Commit(program_crc(staged)))
        assert await refused(client, CONTROL_POINT, commit) == code
        assert (await read_info(client)).program_identity == program_identity(FOOT_CARE)


@pytest.mark.parametrize(
    ("value", "code"),
    [(b"", 0x81), (b"\x01\x00", 0x81), (b"\x02\x00", 0x81), (b"\x09", 0x80), (b"\xff", 0x80)],
)
async def test_malformed_control_requests(watch: SimWatch, value: bytes, code: int) -> None:
    async with connected(watch) as client:
        assert await refused(client, CONTROL_POINT, value) == code


async def test_staging_is_discarded_on_disconnection(watch: SimWatch) -> None:
    async with connected(watch) as client:
        await client.write_gatt_char(PROGRAM, chunk(DEMO, 0, 20), response=True)
    async with connected(watch) as client:
        assert not (await read_info(client)).flags & InfoFlags.STAGING
        assert await refused(client, PROGRAM, chunk(DEMO, 20, 38)) == 0x83
