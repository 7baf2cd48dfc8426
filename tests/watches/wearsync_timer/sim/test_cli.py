"""``wearsync sim`` as its own process, with a client in this one over the TCP HCI server."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.watches.wearsync_timer.sim.helpers import DEMO, push, read_info
from wearsync.ble import make_client
from wearsync.ble.bumble_backend import close_centrals
from wearsync.watches.wearsync_timer.codec import program_identity

ROOT = Path(__file__).resolve().parents[4]


async def read_json(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 15.0)
    assert line, "the simulator exited early"
    data: dict[str, Any] = json.loads(line)
    return data


async def spawn(flash: Path) -> asyncio.subprocess.Process:
    """``wearsync sim`` on a free port, 1000 times faster than real time, printing JSON lines."""
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "wearsync", "sim", "--port", "0", "--flash", str(flash)),
        *("--speed", "1000", "--wearer", "start=now", "--json"),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await spawn(tmp_path / "flash")
    try:
        yield process
    finally:
        await close_centrals()
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_sim_serves_a_watch_and_stops_cleanly_on_sigterm(
    simulator: asyncio.subprocess.Process,
) -> None:
    ready = await read_json(simulator)
    assert ready["type"] == "ready"
    assert ready["env"] == f"WEARSYNC_HCI={ready['hci']}"
    assert ready["hci"].startswith("tcp-client:127.0.0.1:")
    assert (ready["boot_id"], ready["program_identity"]) == (1, None)

    async with make_client(ready["address"], hci=ready["hci"], timeout=5.0) as client:
        info = await read_info(client)
    assert info.boot_id == 1 and not info.has_program

    simulator.send_signal(signal.SIGTERM)
    lines = []
    while (line := await read_json(simulator))["type"] != "stopped":
        lines.append(line)
    assert line == {
        "type": "stopped",
        "watch": "wearsync-timer",
        "boot_id": 1,
        "unacked_events": 0,
        "program_identity": None,
        "features": 0x3F,  # every feature, ENTRIES too
    }
    assert await asyncio.wait_for(simulator.wait(), 10.0) == 0


async def test_sim_runs_a_pushed_program_live_and_remembers_it(
    simulator: asyncio.subprocess.Process, tmp_path: Path
) -> None:
    ready = await read_json(simulator)
    address = ready["address"]
    async with make_client(address, hci=ready["hci"], pair=True, timeout=5.0) as client:
        await push(client, DEMO)
    # The wearer presses start once the program is there; at x1000 it takes 0.1 s.
    seen: Counter[str] = Counter()
    while not seen["session_completed"]:
        line = await read_json(simulator)
        seen[line["kind"] if line["type"] == "event" else line["type"]] += 1
    simulator.send_signal(signal.SIGINT)
    while (line := await read_json(simulator))["type"] != "stopped":
        seen[line["type"]] += 1
    assert await asyncio.wait_for(simulator.wait(), 10.0) == 0
    assert seen["step_started"] == 21
    # §13.1: a cue per step, 2 countdown ticks per hold (10 holds), and the end cue.
    assert seen["vibration"] == 21 + 2 * 10 + 1
    assert line["unacked_events"] == 24

    again = await spawn(tmp_path / "flash")
    try:
        ready = await read_json(again)
        assert (ready["boot_id"], ready["address"]) == (2, address)
        assert ready["program_identity"] == program_identity(DEMO).hex()
        assert ready["unacked_events"] == 24
    finally:
        again.kill()
        await again.wait()
