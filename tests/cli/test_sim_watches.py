"""Every simulated family over TCP HCI: ``wearsync sim --watch NAME`` in one process while
``devices scan``, ``sync`` and ``session --speed 30`` run against it from others."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_processes import run, wearsync
from wearsync.routine import compile_routine
from wearsync.routine.loader import load_routine, parse_routine

SHORT = """
format = 1
name = "short"
title = "Short test routine"
prepare_seconds = 2
transition_seconds = 2

[schedule]
every_days = { min = 1, max = 1 }
times = ["18:00"]
timezone = "Europe/London"

[[exercises]]
id = "squeeze"
name = "Squeeze"
hold = { seconds = 3 }
release = { seconds = 2 }
reps = 2
"""

PROGRAM = compile_routine(parse_routine(SHORT))
pytestmark = pytest.mark.slow


@pytest.fixture
def routine(tmp_path: Path) -> Path:
    path = tmp_path / "short.toml"
    path.write_text(SHORT)
    return path


async def start_sim(tmp_path: Path, watch: str, *extra: str) -> AsyncIterator[dict[str, Any]]:
    process = await wearsync(
        tmp_path / "sim-home",
        *("sim", "--watch", watch, "--port", "0", "--flash", str(tmp_path / "flash")),
        *extra,
        "--json",
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
    assert ready["type"] == "ready" and ready["watch"] == watch
    lines: list[dict[str, Any]] = []

    async def pump() -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            lines.append(json.loads(line))

    task = asyncio.create_task(pump())
    try:
        yield {"ready": ready, "lines": lines, "process": process}
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
        task.cancel()


@pytest.fixture
async def bangle(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed (the simulated Bangle.js runs JavaScript in it)")
    async for sim in start_sim(tmp_path, "bangle-js-2", "--speed", "30"):
        yield sim


@pytest.fixture
async def infinitime(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    async for sim in start_sim(tmp_path, "infinitime", "--speed", "30"):
        yield sim


async def scan_sync_session(
    home: Path, sim: dict[str, Any], routine: Path
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    hci = sim["ready"]["hci"]
    code, out, err = await run(home, "devices", "scan", "--hci", hci, "--seconds", "2", "--json")
    assert code == 0, err
    scanned = json.loads(out)
    code, out, err = await run(home, "sync", "-r", str(routine), "--hci", hci, "--json")
    assert code == 0, err
    synced = json.loads(out)
    code, out, err = await run(
        home, "session", "-r", str(routine), "--hci", hci, "--speed", "30", "--json"
    )
    assert code == 0, err
    return scanned, synced, json.loads(out)


async def test_a_simulated_bangle_js_over_tcp_hci(
    tmp_path: Path, bangle: dict[str, Any], routine: Path
) -> None:
    scanned, synced, session = await scan_sync_session(tmp_path / "home", bangle, routine)
    (row,) = scanned["devices"]
    assert row["profile"] == "bangle-js-2" and row["name"].startswith("Bangle.js ")
    assert synced["profile"] == "bangle-js-2" and synced["program_pushed"]
    assert session["ended"] == "session_completed"
    assert session["steps_seen"] == len(PROGRAM.steps)
    vibrations = [line for line in bangle["lines"] if line["type"] == "vibration"]
    assert vibrations, "the watch's motor ran"


async def test_a_simulated_infinitime_over_tcp_hci(
    tmp_path: Path, infinitime: dict[str, Any], routine: Path
) -> None:
    scanned, synced, session = await scan_sync_session(tmp_path / "home", infinitime, routine)
    (row,) = scanned["devices"]
    assert (row["profile"], row["name"]) == ("infinitime", "InfiniTime")
    assert synced["profile"] == "infinitime" and synced["clock_set"]
    assert session["ended"] == "session_completed"
    alerts = [line for line in infinitime["lines"] if line["type"] == "alert"]
    assert [a["title"] for a in alerts[:2]] == ["Squeeze", "Squeeze"]
    assert alerts[-1]["body"] == "Session complete"


async def test_a_session_on_a_timer_watch_without_session_control_asks_for_wait(
    tmp_path: Path, routine: Path
) -> None:
    async for sim in start_sim(tmp_path, "wearsync-timer", "--features", "0x0e"):
        hci = sim["ready"]["hci"]
        code, out, err = await run(tmp_path / "home", "session", "--hci", hci, "--json")
        assert code != 0
        assert out == ""
        (line,) = err.strip().splitlines()
        error = json.loads(line)["error"]
        assert "SESSION_CONTROL" in error["message"] and "--wait" in error["hint"]
        assert sim["ready"]["program_identity"] is None


async def test_the_nimble_firmware_over_tcp_hci(tmp_path: Path, routine: Path) -> None:
    from tests.firmware.build import firmware_binary

    firmware_binary()  # builds it, or skips saying why
    async for sim in start_sim(tmp_path, "nimble", "--speed", "30"):
        hci = sim["ready"]["hci"]
        home = tmp_path / "home"
        code, out, err = await run(
            home, "devices", "scan", "--hci", hci, "--seconds", "2", "--json"
        )
        assert code == 0, err
        (row,) = json.loads(out)["devices"]
        assert row["profile"] == "wearsync-timer"
        code, out, err = await run(home, "sync", "-r", str(routine), "--hci", hci, "--json")
        assert code == 0, err
        synced = json.loads(out)
        assert synced["program_pushed"] and synced["paired"]
        code, out, err = await run(
            home, "session", "-r", str(routine), "--hci", hci, "--speed", "30", "--json"
        )
        assert code == 0, err
        assert json.loads(out)["ended"] == "session_completed"
        kinds = [line["kind"] for line in sim["lines"] if line["type"] == "event"]
        assert kinds[0] == "session_started" and kinds[-1] == "session_completed"


async def test_session_entry_on_a_simulated_bangle_js(
    tmp_path: Path, bangle: dict[str, Any]
) -> None:
    """``wearsync session --entry toe-presses`` runs that exercise alone on the watch; an
    exercise done once a day is no entry: one line of error, nothing started."""
    home = tmp_path / "home"
    hci = bangle["ready"]["hci"]
    foot = compile_routine(load_routine("foot-care"))
    presses = [s for s in foot.steps if s.exercise == 0]
    code, out, err = await run(
        home, "session", "--entry", "toe-presses", "--hci", hci, "--speed", "30", "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["ended"] == "session_completed"
    assert report["steps_seen"] == len(presses)
    code, out, err = await run(home, "history", "--json")
    assert code == 0, err
    (session,) = [s for day in json.loads(out)["days"] for s in day["sessions"]]
    assert (session["entry"], session["status"]) == ("toe-presses", "completed")
    assert [e["exercise_id"] for e in session["exercises"]] == ["toe-presses"]
    code, out, err = await run(home, "session", "--entry", "ankle-circles", "--hci", hci, "--json")
    assert code != 0 and out == ""
    (line,) = err.strip().splitlines()
    error = json.loads(line)["error"]
    assert "no entry 'ankle-circles'" in error["message"] and "toe-presses" in error["hint"]
