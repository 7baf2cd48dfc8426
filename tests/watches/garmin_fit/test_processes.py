"""``wearsync sim --watch garmin-fit`` in one process, ``wearsync sync --device`` from others."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest

from tests.cli.test_processes import run, wearsync

pytestmark = pytest.mark.slow


async def test_a_simulated_garmin_drive_synced_from_another_process(tmp_path: Path) -> None:
    drive = tmp_path / "drive"
    sim = await wearsync(
        tmp_path / "sim-home",
        *("sim", "--watch", "garmin-fit", "--port", "0", "--flash", str(drive)),
        *("--speed", "5000", "--json"),
        stdout=asyncio.subprocess.PIPE,
    )
    assert sim.stdout is not None
    try:
        ready = json.loads(await asyncio.wait_for(sim.stdout.readline(), 30))
        assert ready["type"] == "ready" and ready["watch"] == "garmin-fit"
        assert ready["address"] == f"garmin-fit:{drive.resolve()}"
        home = tmp_path / "home"
        code, out, err = await run(home, "sync", "--device", str(drive), "--json")
        assert code == 0, err
        assert json.loads(out)["program_pushed"] is True
        saved = None
        while saved is None:  # the watch loads the workout, runs it and saves the activity
            line = json.loads(await asyncio.wait_for(sim.stdout.readline(), 30))
            if line["type"] == "alert" and line["title"] == "saved":
                saved = line["body"]
        assert saved.startswith("GARMIN/Activity/")
        code, out, err = await run(home, "sync", "--json")
        assert code == 0, err
        report = json.loads(out)
        assert report["events_new"] > 0 and report["sessions"] == 1
        code, out, err = await run(home, "history", "--json")
        assert code == 0, err
        history = json.loads(out)
        sessions = [s for day in history["days"] for s in day["sessions"]]
        assert [s["status"] for s in sessions] == ["completed"]
        assert sessions[0]["device"] == f"garmin-fit:{drive.resolve()}"
        # Planned from the first push on: today's routine time counts if it is still ahead
        # (the session then did it early), not if it passed before the push.
        routine = next(e for e in history["entries"] if e["entry"] == "routine")
        assert routine["done"] == routine["planned"] <= 1
    finally:
        if sim.returncode is None:
            sim.send_signal(signal.SIGTERM)
            await asyncio.wait_for(sim.wait(), 30)
