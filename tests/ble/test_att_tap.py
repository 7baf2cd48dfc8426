"""The ATT tap: counting PDUs on the air, and cutting the link after the k-th one."""

from __future__ import annotations

import asyncio
import time

import pytest
from bleak import BleakClient
from bleak.exc import BleakError

from tests.ble.ble_testdb import CHAR_NOTIFY, CHAR_RW, DemoDb
from wearsync.ble.bumble_backend import BumbleBleakClient, BumbleLinkLostError
from wearsync.sim.att_tap import AttKind, AttTap, classify_opcode
from wearsync.sim.link import VirtualLink
from wearsync.sim.peripheral import Peripheral


def test_classify_opcode() -> None:
    assert classify_opcode(0x0A) is AttKind.REQUEST  # Read Request
    assert classify_opcode(0x0B) is AttKind.RESPONSE  # Read Response
    assert classify_opcode(0x01) is AttKind.RESPONSE  # Error Response
    assert classify_opcode(0x52) is AttKind.COMMAND  # Write Command
    assert classify_opcode(0xD2) is AttKind.COMMAND  # Signed Write Command
    assert classify_opcode(0x1B) is AttKind.NOTIFICATION
    assert classify_opcode(0x1D) is AttKind.INDICATION
    assert classify_opcode(0x1E) is AttKind.CONFIRMATION


async def test_counts_per_operation(link: VirtualLink, watch: Peripheral, db: DemoDb) -> None:
    tap = AttTap(link, subject=watch.address)
    async with BleakClient(watch.address, backend=BumbleBleakClient, hci=link) as client:
        trace = tap.current
        # Connecting costs an MTU exchange plus discovery, all request/response pairs.
        assert trace.requests == trace.responses > 1
        assert trace.by_opcode()["ATT_EXCHANGE_MTU_REQUEST"] == 1
        assert trace.pdus[0].direction == "rx"

        mark = trace.mark()
        await client.read_gatt_char(CHAR_RW)
        read = trace.since(mark)
        assert (read.requests, read.responses, read.total, read.round_trips) == (1, 1, 2, 1)
        assert [p.name for p in read.pdus] == ["ATT_READ_REQUEST", "ATT_READ_RESPONSE"]
        assert [p.direction for p in read.pdus] == ["rx", "tx"]

        mark = trace.mark()
        await client.write_gatt_char(CHAR_RW, b"x", response=False)
        await client.write_gatt_char(CHAR_RW, b"y", response=True)
        writes = trace.since(mark)
        assert (writes.commands, writes.requests, writes.responses) == (1, 1, 1)

        mark = trace.mark()
        await client.write_gatt_char(CHAR_RW, bytes(400), response=True)
        # 400 bytes in 242-byte prepared parts: 2 Prepare Writes plus 1 Execute Write.
        assert trace.since(mark).round_trips == 3

        await client.start_notify(CHAR_NOTIFY, lambda _c, _d: None)
        mark = trace.mark()
        await watch.notify(db.notify, b"n1")
        await client.read_gatt_char(CHAR_RW)
        assert trace.since(mark).notifications == 1
        assert trace.since(mark).count(AttKind.NOTIFICATION, direction="tx") == 1
    assert len(tap.connections) == 1
    tap.close()


async def test_cut_after_kth_pdu_fails_fast_and_recovers(
    link: VirtualLink, watch: Peripheral, db: DemoDb
) -> None:
    tap = AttTap(link, subject=watch.address)
    gone = asyncio.Event()
    client = BleakClient(
        watch.address,
        disconnected_callback=lambda _c: gone.set(),
        backend=BumbleBleakClient,
        hci=link,
    )
    await client.connect()
    tap.cut_after(1)  # the Write Request crosses, its response never does
    started = time.monotonic()
    with pytest.raises(BumbleLinkLostError) as caught:
        await client.write_gatt_char(CHAR_RW, b"half", response=True)
    assert time.monotonic() - started < 0.5
    assert caught.value.reason == 0x08  # a link loss, not a polite disconnect
    assert db.writes[-1] == b"half"  # the watch did apply it
    assert [p.name for p in tap.current.pdus[-1:]] == ["ATT_WRITE_REQUEST"]
    assert tap.current.cut and tap.cuts == 1
    await asyncio.wait_for(gone.wait(), 1.0)

    # The watch advertises again; the next connection is counted separately.
    await client.connect()
    assert await client.read_gatt_char(CHAR_RW) == b"half"
    assert len(tap.connections) == 2 and not tap.current.cut
    await client.disconnect()


async def test_cut_at_every_pdu_of_a_sequence_never_hangs(
    link: VirtualLink, watch: Peripheral, db: DemoDb
) -> None:
    tap = AttTap(link, subject=watch.address)
    client = BleakClient(watch.address, backend=BumbleBleakClient, hci=link)

    async def sequence() -> None:
        await client.write_gatt_char(CHAR_RW, b"a", response=True)
        await client.write_gatt_char(CHAR_RW, bytes(300), response=True)
        await client.read_gatt_char(CHAR_RW)

    await client.connect()
    mark = tap.current.mark()
    await sequence()
    total = tap.current.since(mark).total
    await client.disconnect()
    assert total == 2 + 2 * 3 + 2 * 2  # write, long write (2 prepares + execute), long read

    for k in range(1, total):
        await client.connect()
        mark = tap.current.mark()
        tap.cut_after(k)
        with pytest.raises(BleakError):
            async with asyncio.timeout(1.0):
                await sequence()
        assert not client.is_connected
        # Exactly k PDUs crossed: nothing sent after the cut was counted or delivered.
        assert tap.current.since(mark).total == k and tap.current.cut
    # A cut right after the last response leaves the sequence complete.
    await client.connect()
    tap.cut_after(total)
    await sequence()
    await tap.wait_for_cut()
    assert tap.cuts == total


async def test_link_model_turns_round_trips_into_latency() -> None:
    from tests.ble.ble_testdb import NAME, SERVICE
    from wearsync.ble.bumble_backend import close_centrals
    from wearsync.sim.peripheral import start_peripheral

    event_s = 0.015
    link = VirtualLink(connection_event_ms=event_s * 1e3)
    watch = await start_peripheral(
        link, name=NAME, services=[DemoDb().service], service_uuids=[SERVICE]
    )
    try:
        client = BleakClient(watch.address, services=[SERVICE], backend=BumbleBleakClient, hci=link)
        async with client:
            started = time.monotonic()
            for _ in range(4):
                await client.read_gatt_char(CHAR_RW)
            per_read = (time.monotonic() - started) / 4
            # A request waits for the next connection event, its response for the one after.
            assert event_s * 0.9 <= per_read <= event_s * 3.0
    finally:
        await watch.close()
        await close_centrals()


async def test_watch_walking_out_of_range(link: VirtualLink, watch: Peripheral) -> None:
    gone = asyncio.Event()
    client = BleakClient(
        watch.address,
        disconnected_callback=lambda _c: gone.set(),
        backend=BumbleBleakClient,
        hci=link,
    )
    await client.connect()
    assert link.drop_connections_of(watch.address) == 1
    await asyncio.wait_for(gone.wait(), 1.0)
    assert watch.connections == []
    with pytest.raises(BumbleLinkLostError):
        await client.read_gatt_char(CHAR_RW)
