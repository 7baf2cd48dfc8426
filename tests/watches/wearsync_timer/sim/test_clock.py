"""§10: the watch's clock through the Current Time Service, and the virtual clocks."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bleak.exc import BleakGATTProtocolError

from tests.watches.wearsync_timer.sim.conftest import StartWatch
from tests.watches.wearsync_timer.sim.helpers import (
    CURRENT_TIME,
    DEMO,
    LOCAL_TIME,
    connected,
    control,
    push,
    read_info,
)
from wearsync.sim.clock import ManualClock, SimClock
from wearsync.watches.wearsync_timer.codec import (
    CurrentTime,
    InfoFlags,
    LocalTimeInformation,
    StartSession,
    clock_values,
    program_identity,
)
from wearsync.watches.wearsync_timer.sim.watch import SimWatch

LONDON = ZoneInfo("Europe/London")
#: §13.6: 2026-07-01 19:30:15.5 BST is 18:30:15.5 UTC.
SUMMER = datetime(2026, 7, 1, 19, 30, 15, 500_000, tzinfo=LONDON)


async def test_cts_writes_set_the_utc_clock(watch: SimWatch, clock: ManualClock) -> None:
    await clock.advance(3_000)
    async with connected(watch) as client:
        assert not (await read_info(client)).flags & InfoFlags.CLOCK_SET
        assert CurrentTime.from_bytes(bytes(await client.read_gatt_char(CURRENT_TIME))).year == 0
        local, current = clock_values(SUMMER)
        assert bytes(local) == bytes.fromhex("0004")
        await client.write_gatt_char(LOCAL_TIME, bytes(local), response=True)
        await client.write_gatt_char(CURRENT_TIME, bytes(current), response=True)
        await clock.advance(10_000)
        info = await read_info(client)
        assert info.flags & InfoFlags.CLOCK_SET
        expected = SUMMER.astimezone(UTC) + timedelta(seconds=10)
        assert info.clock_s == int(expected.timestamp())
        assert info.uptime_s == 13
        assert info.boot_time == expected.replace(microsecond=0) - timedelta(seconds=13)
        read_back = CurrentTime.from_bytes(bytes(await client.read_gatt_char(CURRENT_TIME)))
        assert read_back.to_datetime() == (SUMMER + timedelta(seconds=10)).replace(tzinfo=None)
        assert (
            LocalTimeInformation.from_bytes(bytes(await client.read_gatt_char(LOCAL_TIME))) == local
        )
        await push(client, DEMO)
        await control(client, StartSession(program_identity(DEMO)))
    started = watch.events[0]
    assert started.clock_set
    assert started.utc() == expected


async def test_the_clock_survives_a_reboot(watch: SimWatch, clock: ManualClock) -> None:
    async with connected(watch) as client:
        for value in clock_values(SUMMER):
            uuid = LOCAL_TIME if isinstance(value, LocalTimeInformation) else CURRENT_TIME
            await client.write_gatt_char(uuid, bytes(value), response=True)
    await watch.reboot()
    async with connected(watch) as client:
        info = await read_info(client)
    assert info.flags & InfoFlags.CLOCK_SET and info.boot_id == 2


@pytest.mark.parametrize(
    ("uuid", "value", "code"),
    [
        (CURRENT_TIME, bytes(9), 0x0D),
        (CURRENT_TIME, bytes.fromhex("ea070d01131e0f038002"), 0xFF),  # month 13
        (CURRENT_TIME, bytes(10), 0x80),  # unknown date: ignored
        (LOCAL_TIME, b"\x00", 0x0D),
        (LOCAL_TIME, b"\x7f\x00", 0xFF),  # time zone +31:45
    ],
)
async def test_bad_cts_writes(watch: SimWatch, uuid: str, value: bytes, code: int) -> None:
    async with connected(watch) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.write_gatt_char(uuid, value, response=True)
        assert caught.value.code == code
        assert not (await read_info(client)).flags & InfoFlags.CLOCK_SET


async def test_a_watch_can_start_with_its_clock_set(start_watch: StartWatch) -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    watch = await start_watch(utc=moment)
    assert watch.utc == moment
    assert watch.timer_info(None).clock_s == 1767225600


async def test_manual_clock_runs_callbacks_in_time_order() -> None:
    clock = ManualClock()
    ran: list[tuple[str, int]] = []
    clock.call_at(300, lambda: ran.append(("c", clock.now_ms())))
    clock.call_at(100, lambda: ran.append(("a", clock.now_ms())))
    cancelled = clock.call_at(200, lambda: ran.append(("x", clock.now_ms())))
    clock.call_at(100, lambda: clock.call_at(150, lambda: ran.append(("b", clock.now_ms()))))
    cancelled.cancel()
    await clock.advance(250)
    assert ran == [("a", 100), ("b", 150)] and clock.now_ms() == 250
    assert clock.next_due_ms() == 300 and clock.pending == 1
    await clock.advance(50)
    assert ran[-1] == ("c", 300)
    with pytest.raises(ValueError):
        await clock.advance(-1)


async def test_sim_clock_runs_faster_by_its_speed() -> None:
    clock = SimClock(speed=100)
    fired = asyncio.Event()
    begin = time.monotonic()
    clock.call_at(clock.now_ms() + 3000, fired.set)  # 3 s of watch time: 30 ms
    await asyncio.wait_for(fired.wait(), 1.0)
    assert time.monotonic() - begin < 0.5
    assert clock.now_ms() >= 3000
    with pytest.raises(ValueError):
        SimClock(speed=0)
