"""Both watches' answers, byte for byte, to the requests of §6, §7 and §10 (table 11-1).

One bonded client walks through every error a request can get and the golden writes of §13,
checking each answer and what the watch shows afterwards (Timer Info, Session Status, Current
Time). The watch is the simulator or the NimBLE firmware, each with every feature it offers
(ENTRIES too); no wearsync layer sits between the test and ATT.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime

import pytest
from bleak import BleakClient
from bleak.exc import BleakGATTProtocolError

from tests.watches.wearsync_timer.both.watch import StartTimerWatch, connected
from tests.watches.wearsync_timer.codec.test_golden import (
    CHUNK,
    COMMIT,
    CURRENT_TIME,
    IDENTITY,
    LOCAL_TIME,
    PROGRAM,
    START,
)
from wearsync.watches.wearsync_timer.codec import InfoFlags, SessionStatusValue, TimerInfo
from wearsync.watches.wearsync_timer.codec import uuids as U

CONTROL = str(U.CONTROL_POINT)
PROGRAM_CHR = str(U.PROGRAM)


async def code(request: Awaitable[object]) -> int:
    """0 if ``request`` succeeded, else its ATT error code."""
    try:
        await request
    except BleakGATTProtocolError as exc:
        return int(exc.code)
    return 0


def chunk(total: int, offset: int, data: bytes) -> bytes:
    return total.to_bytes(2, "little") + offset.to_bytes(2, "little") + data


def commit(program: bytes) -> bytes:
    return b"\x01" + zlib.crc32(program).to_bytes(4, "little")


@pytest.fixture
async def client(start_timer_watch: StartTimerWatch) -> AsyncIterator[BleakClient]:
    watch = await start_timer_watch(entries=True)
    async with connected(watch, services=None) as bonded:
        yield bonded


async def write(client: BleakClient, uuid: str, value: bytes) -> int:
    return await code(client.write_gatt_char(uuid, value, response=True))


async def info(client: BleakClient) -> TimerInfo:
    return TimerInfo.from_bytes(bytes(await client.read_gatt_char(str(U.TIMER_INFO))))


async def test_program_writes_and_commit_answer_in_the_order_of_6_3(client: BleakClient) -> None:
    assert await write(client, PROGRAM_CHR, bytes(4)) == 0x81  # shorter than 5 bytes
    assert await write(client, PROGRAM_CHR, chunk(0, 0, b"\x01")) == 0x81  # total_length 0
    assert await write(client, PROGRAM_CHR, chunk(2, 1, b"ab")) == 0x81  # past total_length
    assert await write(client, PROGRAM_CHR, chunk(4097, 0, b"\x01")) == 0x82  # > 4096
    assert await write(client, CONTROL, COMMIT) == 0x84  # nothing staged

    assert await write(client, PROGRAM_CHR, chunk(len(PROGRAM), 0, PROGRAM[:10])) == 0
    assert (await info(client)).flags & InfoFlags.STAGING
    assert await write(client, PROGRAM_CHR, chunk(len(PROGRAM), 11, PROGRAM[11:])) == 0x83
    assert await write(client, PROGRAM_CHR, chunk(len(PROGRAM) + 1, 10, PROGRAM[10:])) == 0x83
    assert await write(client, CONTROL, COMMIT) == 0x85  # incomplete, and now discarded
    assert not (await info(client)).flags & InfoFlags.STAGING
    assert await write(client, CONTROL, COMMIT) == 0x84

    assert await write(client, PROGRAM_CHR, CHUNK) == 0
    assert await write(client, CONTROL, b"\x01" + bytes(4)) == 0x86  # CRC mismatch
    future = b"\x03" + PROGRAM[1:]
    assert await write(client, PROGRAM_CHR, chunk(len(future), 0, future)) == 0
    assert await write(client, CONTROL, commit(future)) == 0x88  # format 3 (§3.4)
    planless = b"\x02" + PROGRAM[1:]
    assert await write(client, PROGRAM_CHR, chunk(len(planless), 0, planless)) == 0
    assert await write(client, CONTROL, commit(planless)) == 0x87  # format 2 without its plan
    broken = PROGRAM + b"\x00"
    assert await write(client, PROGRAM_CHR, chunk(len(broken), 0, broken)) == 0
    assert await write(client, CONTROL, commit(broken)) == 0x87  # trailing byte
    assert (await info(client)).program_length == 0, "failed commits change nothing"

    # The golden writes of §13.2 commit the golden program; Timer Info then shows it (§13.3).
    assert await write(client, PROGRAM_CHR, CHUNK) == 0
    assert await write(client, CONTROL, COMMIT) == 0
    after = await info(client)
    assert (after.program_length, after.program_identity) == (58, IDENTITY)
    assert after.max_program_length == 4096 and after.event_capacity == 256
    # from_bytes accepted protocol version 1; ENTRIES (§5.8) and STATE_BEACON (§14) are on.
    assert after.features == 0x3F
    # Committing the committed program again succeeds and changes nothing.
    assert await write(client, PROGRAM_CHR, CHUNK) == 0
    assert await write(client, CONTROL, COMMIT) == 0


async def test_control_point_requests_get_the_codes_of_table_11_1(client: BleakClient) -> None:
    assert await write(client, CONTROL, b"\x0a") == 0x80  # unknown opcode
    assert await write(client, CONTROL, b"\x09") == 0x81  # START_ENTRY of the wrong length
    assert await write(client, CONTROL, b"\x09" + bytes(16) + b"\x00") == 0x8A  # no program
    assert await write(client, CONTROL, b"\x01\x00") == 0x81  # COMMIT of the wrong length
    assert await write(client, CONTROL, b"\x04\x00") == 0x81
    assert await write(client, CONTROL, START) == 0x8A  # no program yet
    assert await write(client, CONTROL, b"\x05") == 0x8C  # pause while idle
    assert await write(client, CONTROL, b"\x06") == 0x8C  # resume while idle
    assert await write(client, CONTROL, b"\x04") == 0  # stop while idle: a success
    assert await write(client, CONTROL, bytes.fromhex("070100000000000000")) == 0x8D
    assert await write(client, CONTROL, b"\x08") == 0xFD  # replay without notifications
    assert await write(client, CONTROL, b"\x02") == 0  # ABORT_STAGED always succeeds

    assert await write(client, PROGRAM_CHR, CHUNK) == 0
    assert await write(client, CONTROL, COMMIT) == 0
    assert await write(client, CONTROL, b"\x03" + bytes(16)) == 0x8B  # another program
    assert await write(client, CONTROL, b"\x09" + bytes(16) + b"\x00") == 0x8B
    # A format-1 program has only entry 0 (§7.7).
    assert await write(client, CONTROL, b"\x09" + IDENTITY + b"\x01") == 0x8E
    assert await write(client, CONTROL, START) == 0
    assert await write(client, CONTROL, b"\x09" + IDENTITY + b"\x01") == 0x89  # active first
    status = SessionStatusValue.from_bytes(
        bytes(await client.read_gatt_char(str(U.SESSION_STATUS)))
    )
    assert status.state == 1 and status.step == 0
    assert await write(client, CONTROL, START) == 0x89
    assert await write(client, PROGRAM_CHR, CHUNK) == 0
    assert await write(client, CONTROL, COMMIT) == 0x89  # no commit during a session
    assert await write(client, CONTROL, b"\x05") == 0  # pause
    assert await write(client, CONTROL, b"\x05") == 0x8C
    paused = SessionStatusValue.from_bytes(
        bytes(await client.read_gatt_char(str(U.SESSION_STATUS)))
    )
    assert paused.state == 2
    assert await write(client, CONTROL, b"\x06") == 0  # resume
    assert await write(client, CONTROL, b"\x04") == 0  # stop
    assert (await info(client)).unacked_events == 5  # started, step, paused, resumed, aborted
    events = bytes(await client.read_gatt_char(str(U.EVENT_LOG)))
    size = 29  # with ENTRIES: the entry byte appended (§9.1)
    assert events[:2] == bytes([0x00, size]) and len(events) == 2 + 5 * size
    assert [events[2 + size * i + 14] for i in range(5)] == [0x01, 0x02, 0x07, 0x08, 0x06]
    assert [events[2 + size * i + 28] for i in range(5)] == [0] * 5  # entry 0: the routine
    last_seq = int.from_bytes(events[2 + size * 4 + 4 : 2 + size * 4 + 8], "little")
    boot = int.from_bytes(events[2:6], "little")
    ack = b"\x07" + boot.to_bytes(4, "little") + last_seq.to_bytes(4, "little")
    assert await write(client, CONTROL, ack) == 0
    assert await write(client, CONTROL, ack) == 0, "acknowledging again changes nothing"
    assert (await info(client)).unacked_events == 0


async def test_the_clock_is_set_by_the_golden_cts_writes_of_13_6(client: BleakClient) -> None:
    local = str(U.LOCAL_TIME_INFORMATION)
    current = str(U.CURRENT_TIME)
    assert await write(client, local, b"\x00") == 0x0D  # wrong length
    assert await write(client, local, bytes([100, 0])) == 0xFF  # time zone out of range
    assert await write(client, current, bytes(9)) == 0x0D
    assert await write(client, current, CURRENT_TIME[:2] + b"\x0d" + CURRENT_TIME[3:]) == 0xFF
    assert await write(client, current, bytes(10)) == 0x80  # unknown date: clock not set
    assert not (await info(client)).flags & InfoFlags.CLOCK_SET

    await client.write_gatt_char(local, LOCAL_TIME, response=False)  # as a Write Command
    assert await write(client, current, CURRENT_TIME) == 0
    now = await info(client)
    assert now.flags & InfoFlags.CLOCK_SET
    # 19:30:15.5 BST is 18:30:15.5 UTC; the watch has run on for a moment since.
    stated = datetime(2026, 7, 1, 18, 30, 15, tzinfo=UTC).timestamp()
    assert stated <= now.clock_s <= stated + 60
    back = bytes(await client.read_gatt_char(current))
    assert back[:6] == CURRENT_TIME[:6] and back[7] == 3  # the local date, a Wednesday
    assert bytes(await client.read_gatt_char(local)) == LOCAL_TIME


async def test_features_left_out_are_refused_with_0x80(
    start_timer_watch: StartTimerWatch,
) -> None:
    watch = await start_timer_watch(features=0x0000)
    async with connected(watch, services=None) as client:
        assert (await info(client)).features == 0
        assert await write(client, PROGRAM_CHR, CHUNK) == 0
        assert await write(client, CONTROL, COMMIT) == 0
        for request in (START, b"\x04", b"\x05", b"\x06", b"\x08"):
            assert await write(client, CONTROL, request) == 0x80, request.hex()
        services = {str(s.uuid) for s in client.services}
        assert str(U.CURRENT_TIME_SERVICE) not in services


async def test_at_the_default_mtu_timer_info_is_read_whole_and_programs_go_in_chunks(
    start_timer_watch: StartTimerWatch,
) -> None:
    watch = await start_timer_watch(entries=True)  # 29-byte event records (§9.2)
    async with connected(watch, mtu=23) as client:
        # 40 bytes at ATT_MTU 23: a Read Request and Read Blobs of one snapshot (§2.4).
        raw = bytes(await client.read_gatt_char(str(U.TIMER_INFO)))
        assert len(raw) == 40 and TimerInfo.from_bytes(raw).program_length == 0
        # 16 program bytes per chunk (§6.1); all but the last as Write Commands (§6.2).
        pieces = [PROGRAM[i : i + 16] for i in range(0, len(PROGRAM), 16)]
        for number, piece in enumerate(pieces):
            value = chunk(len(PROGRAM), 16 * number, piece)
            last = number == len(pieces) - 1
            await client.write_gatt_char(PROGRAM_CHR, value, response=last)
        assert await write(client, CONTROL, COMMIT) == 0
        after = TimerInfo.from_bytes(bytes(await client.read_gatt_char(str(U.TIMER_INFO))))
        assert after.program_identity == IDENTITY
        # An Event Log batch is whole records only: none fit 22 bytes, so none are sent.
        assert await write(client, CONTROL, START) == 0
        assert bytes(await client.read_gatt_char(str(U.EVENT_LOG))) == bytes([0x01, 29])
