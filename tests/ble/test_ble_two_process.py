"""The simulator in one process, bleak clients in others, over the TCP HCI server."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bleak import BleakClient

from tests.ble.ble_testdb import CHAR_RW
from wearsync.ble.bumble_backend import BumbleBleakClient, BumbleLinkLostError, close_centrals

ROOT = Path(__file__).resolve().parents[2]


async def spawn(module: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


async def read_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 10.0)
    return line.decode().strip()


@dataclass
class Simulator:
    hci: str
    address: str
    process: asyncio.subprocess.Process


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    """The HCI server and the test peripheral in a subprocess."""
    process = await spawn("tests.ble.sim_server")
    try:
        ready, hci, address = (await read_line(process)).split()
        assert ready == "READY" and hci.startswith("tcp-client:127.0.0.1:")
        yield Simulator(hci, address, process)
    finally:
        await close_centrals()
        if process.returncode is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 5.0)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_client_in_this_process_talks_to_simulator_process(simulator: Simulator) -> None:
    async with BleakClient(
        simulator.address, backend=BumbleBleakClient, hci=simulator.hci, timeout=3.0
    ) as client:
        assert client.mtu_size == 247
        assert await client.read_gatt_char(CHAR_RW) == b"hello"
        payload = bytes(range(200)) * 2
        await client.write_gatt_char(CHAR_RW, payload, response=True)
        assert await client.read_gatt_char(CHAR_RW) == payload


async def test_killed_client_leaves_no_zombie(simulator: Simulator) -> None:
    for _ in range(2):
        victim = await spawn("tests.ble.sim_client", simulator.hci, simulator.address)
        try:
            assert await read_line(victim) == "CONNECTED"
        finally:
            victim.send_signal(signal.SIGKILL)
            await victim.wait()
        # The server drops the dead client's link; the watch advertises again.
        async with BleakClient(
            simulator.address, backend=BumbleBleakClient, hci=simulator.hci, timeout=3.0
        ) as client:
            assert await client.read_gatt_char(CHAR_RW) == b"hello"
        await close_centrals()


async def test_simulator_dying_fails_the_client_fast(simulator: Simulator) -> None:
    gone = asyncio.Event()
    client = BleakClient(
        simulator.address,
        disconnected_callback=lambda _c: gone.set(),
        backend=BumbleBleakClient,
        hci=simulator.hci,
        timeout=3.0,
    )
    await client.connect()
    simulator.process.send_signal(signal.SIGKILL)
    await simulator.process.wait()
    await asyncio.wait_for(gone.wait(), 2.0)
    with pytest.raises(BumbleLinkLostError):
        await client.read_gatt_char(CHAR_RW)
