"""The main job across processes: ``wearsync sim`` in one, ``sync``/``serve`` in others.

Covers what needs real processes: two syncs of one watch at once, a sync killed with SIGKILL
while it stores events, and the ``serve`` daemon syncing on a schedule, serving the feed over
a socket on 127.0.0.1 and stopping cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


async def wearsync(home: Path, *args: str, **kw: Any) -> asyncio.subprocess.Process:
    env = {**os.environ, "WEARSYNC_HOME": str(home)}
    env.pop("WEARSYNC_HCI", None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wearsync", *args, cwd=ROOT, env=env, **kw
    )


async def run(home: Path, *args: str) -> tuple[int, str, str]:
    process = await wearsync(
        home, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """A simulated watch process whose wearer starts a session at once, at 1000x."""
    process = await wearsync(
        tmp_path / "sim-home",
        *("sim", "--port", "0", "--flash", str(tmp_path / "flash"), "--speed", "1000"),
        *("--wearer", "start=now", "--json"),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 20))
    lines: list[dict[str, Any]] = []

    async def pump() -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            lines.append(json.loads(line))

    task = asyncio.create_task(pump())
    try:
        yield {"hci": ready["hci"], "lines": lines, "process": process}
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 20)
        task.cancel()


def events_in(db: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return list(conn.execute("SELECT boot_id, seq FROM events ORDER BY boot_id, seq"))


@pytest.mark.slow
async def test_two_syncs_of_one_watch_at_once_one_waits_or_fails_clearly(
    tmp_path: Path, sim: dict[str, Any]
) -> None:
    home = tmp_path / "home"
    code, out, err = await run(home, "sync", "--hci", sim["hci"], "--json")
    assert code == 0, err
    assert json.loads(out)["paired"], "the first sync pairs"
    # Both at once: the lock file serialises them (the second waits), or one fails clearly.
    results = await asyncio.gather(
        run(home, "sync", "--hci", sim["hci"], "--json"),
        run(home, "sync", "--hci", sim["hci"], "--json"),
    )
    for code, out, err in results:
        if code != 0:
            assert err.startswith("error: "), err
            assert "Traceback" not in err
        else:
            assert not json.loads(out)["paired"], "the bond is remembered across processes"
    assert any(code == 0 for code, _, _ in results)
    stored = events_in(home / "wearsync.db")
    assert len(stored) == len(set(stored)), "no event stored twice"


@pytest.mark.slow
async def test_a_sync_killed_while_storing_loses_nothing(tmp_path: Path) -> None:
    """SIGKILL a sync at moments spread over its whole run, with a large backlog each time.

    The watch runs in this process (served over TCP to the sync's process), so every round
    can give it ten sessions' worth of new events (about 900) before a sync is started and
    killed. Whatever the moment, the database stays sound, and a final clean sync brings in
    every event exactly once: nothing is acknowledged before it is committed.
    """
    from wearsync.records import utc_now
    from wearsync.routine import compile_routine, load_routine
    from wearsync.sim.clock import ManualClock
    from wearsync.sim.hci_server import HciServer
    from wearsync.sim.link import VirtualLink
    from wearsync.watches.wearsync_timer.sim.watch import SimWatch

    total_ms = compile_routine(load_routine("foot-care")).total_ms
    home = tmp_path / "home"
    link, clock = VirtualLink(), ManualClock()
    produced: set[tuple[int, int]] = set()
    watch = await SimWatch.start(
        link,
        flash_dir=tmp_path / "flash",
        clock=clock,
        utc=utc_now(),
        event_capacity=12000,
        on_event=lambda e: produced.add((e.boot_id, e.seq)),
    )
    async with HciServer(link, port=0) as server:
        code, _, err = await run(home, "sync", "--hci", server.hci_spec)
        assert code == 0, err

        async def backlog() -> None:
            for _ in range(10):
                await watch.press_start()
                await clock.advance(total_ms + 1000)
            await watch.drain()

        await backlog()
        started = asyncio.get_running_loop().time()
        code, _, err = await run(home, "sync", "--hci", server.hci_spec)
        assert code == 0, err
        duration = asyncio.get_running_loop().time() - started
        kills = 0
        # Moments spread over the run (twelfths of a clean sync's time); on a loaded machine a
        # sync may finish before its moment, so go round the twelfths again until six landed.
        for attempt in range(24):
            if attempt >= 12 and kills >= 6:
                break
            step = attempt % 12 + 1
            await backlog()
            process = await wearsync(
                home,
                "sync",
                "--hci",
                server.hci_spec,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await asyncio.sleep(duration * step / 12)
            if process.returncode is None:
                process.kill()
                kills += 1
            await process.wait()
            stored = set(events_in(home / "wearsync.db"))  # integrity_check after every kill
            on_watch = {(e.boot_id, e.seq) for e in watch.events}
            assert stored | on_watch == produced, f"kill {step}: an event was lost"
            assert not stored - produced
        assert kills >= 6, "most kills must land while the sync is running"
        code, _, err = await run(home, "sync", "--hci", server.hci_spec)
        assert code == 0, err
    await watch.close()
    stored = events_in(home / "wearsync.db")
    assert len(stored) == len(set(stored)) == len(produced)
    assert watch.events == []


@pytest.mark.slow
async def test_serve_syncs_on_schedule_serves_the_feed_and_stops_on_sigterm(
    tmp_path: Path, sim: dict[str, Any]
) -> None:
    home = tmp_path / "home"
    process = await wearsync(
        home,
        *("serve", "--hci", sim["hci"], "--sync-every", "1s", "--port", "0"),
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    log: list[str] = []
    feed_page = None
    syncs = checks = 0
    try:
        async with asyncio.timeout(60):
            # Every second a check: a sync when the watch's beacon says something is new (the
            # first one, the wearer's session), else "nothing new" and no connection at all.
            while syncs < 1 or checks < 3:
                line = (await process.stderr.readline()).decode()
                assert line, "serve exited early:\n" + "".join(log)
                log.append(line)
                if "serving the calendar feed at " in line:
                    feed_page = line.split("serving the calendar feed at ")[1].strip()
                if " synced " in line:
                    syncs += 1
                if " synced " in line or "nothing new, not connecting" in line:
                    checks += 1
        assert feed_page is not None and feed_page.startswith("http://127.0.0.1:")
        code, out, err = await run(home, "feed", "url", "--json")
        assert code == 0, err
        feed = json.loads(out)["http"]
        host, port = feed.split("//")[1].split("/")[0].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        path = "/" + feed.split("/", 3)[3]
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        response = await reader.read()
        writer.close()
        assert response.startswith(b"HTTP/1.1 200 ")
        assert b"text/calendar" in response and b"BEGIN:VCALENDAR" in response
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0
    rest = (await process.stderr.read()).decode()
    assert "stopped" in rest and "Traceback" not in rest


@pytest.mark.slow
async def test_devices_scan_lists_the_watch_with_its_profile(
    tmp_path: Path, sim: dict[str, Any]
) -> None:
    home = tmp_path / "home"
    code, out, err = await run(home, "devices", "scan", "--hci", sim["hci"], "--seconds", "1")
    assert code == 0, err
    assert "wearsync-timer" in out and "WearSync Sim" in out
    code, out, err = await run(
        home, "devices", "scan", "--hci", sim["hci"], "--seconds", "1", "--json"
    )
    rows = json.loads(out)["devices"]
    assert [(r["profile"], r["name"], r["remembered"]) for r in rows] == [
        ("wearsync-timer", "WearSync Sim", False)
    ]
    assert -127 <= rows[0]["rssi"] < 0
    code, _, err = await run(home, "sync", "--hci", sim["hci"])
    assert code == 0, err
    code, out, _ = await run(home, "devices", "list", "--json")
    listed = json.loads(out)["devices"]
    assert [(d["address"], d["bonded"]) for d in listed] == [(rows[0]["address"], True)]


async def test_no_bluetooth_is_one_clear_line(tmp_path: Path) -> None:
    code, _, err = await run(tmp_path / "home", "devices", "scan", "--seconds", "1")
    if code == 0:
        pytest.skip("this machine has a Bluetooth stack")
    assert code == 1
    assert err.startswith("error: Bluetooth is not available"), err
    assert "hint: " in err and "Traceback" not in err
