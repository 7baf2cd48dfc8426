"""The BLE stack's own logging never reaches the terminal as a traceback.

bumble logs an exception (with its traceback, in red) when the HCI transport drops under it;
before, ``wearsync sync`` printed that ahead of its own ``error:`` line. Real processes, real
sockets: an HCI peer that hangs up, and a simulated watch killed while a sync talks to it.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_processes import run, sim  # noqa: F401  (sim is a fixture)


def _assert_one_error_line(err: str) -> None:
    assert "Traceback" not in err, err
    assert "\x1b[" not in err, "no terminal colour codes"
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    others = [ln for ln in err.splitlines() if not ln.startswith(("error:", "hint:"))]
    assert all(ln.startswith("warning: ") for ln in others), err


async def test_an_hci_transport_that_hangs_up_gives_one_error_line(tmp_path: Path) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Wait for the HCI Reset command, then drop the link under it.
        await reader.read(4)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        code, _, err = await run(tmp_path / "home", "sync", "--hci", f"tcp-client:127.0.0.1:{port}")
    assert code == 1, err
    _assert_one_error_line(err)
    assert err.startswith("warning: bumble"), "bumble's own report is kept, on one line"


@pytest.mark.slow
@pytest.mark.parametrize("after_lines", [0, 3, 30])
async def test_a_watch_killed_mid_sync_gives_one_error_line(
    tmp_path: Path,
    sim: dict[str, Any],  # noqa: F811
    after_lines: int,
) -> None:
    """Kill the simulator once the session has produced ``after_lines`` lines of output."""
    home = tmp_path / "home"
    syncing = asyncio.create_task(run(home, "sync", "--hci", sim["hci"]))
    # The sim fixture's pump appends lines as they come; wake on the sync ending, else poll.
    while len(sim["lines"]) < after_lines and not syncing.done():
        await asyncio.wait([syncing], timeout=0.01)
    sim["process"].send_signal(signal.SIGKILL)
    code, _, err = await syncing
    if code != 0:  # the sync may have finished before the kill
        _assert_one_error_line(err)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_replay", ["more-forever", "garbage-first"])
async def test_wearsync_sync_against_a_hostile_watch(tmp_path: Path, hostile_replay: str) -> None:
    """The real command in its own process, the hostile watch served over HCI from this one:
    a replay that never ends is one error line (exit 1, nothing stored); garbage is dropped."""
    import sqlite3

    from tests.watches.wearsync_timer.hostile import GARBAGE, HostileWatch, Hostility, Replay
    from wearsync.records import utc_now
    from wearsync.routine import compile_routine, load_routine
    from wearsync.sim.clock import ManualClock
    from wearsync.sim.hci_server import HciServer
    from wearsync.sim.link import VirtualLink

    home = tmp_path / "home"
    link, clock = VirtualLink(), ManualClock()
    watch = await HostileWatch.start(link, flash_dir=tmp_path / "flash", clock=clock, utc=utc_now())
    assert isinstance(watch, HostileWatch)
    try:
        async with HciServer(link, port=0) as server:
            code, _, err = await run(home, "sync", "--hci", server.hci_spec)
            assert code == 0, err
            await watch.press_start()
            await clock.advance(compile_routine(load_routine("foot-care")).total_ms + 1000)
            await watch.drain()
            backlog = len(watch.events)
            watch.hostility = Hostility(replay=Replay(hostile_replay))
            code, _, err = await run(home, "sync", "--hci", server.hci_spec)
    finally:
        await watch.close()
    with sqlite3.connect(home / "wearsync.db") as conn:
        stored = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    if hostile_replay == "more-forever":
        assert code == 1, err
        _assert_one_error_line(err)
        assert "the event replay went on past" in err
        assert stored == 0
    else:
        assert code == 0, err
        assert stored == backlog
        # Each dropped value is logged once, on one line naming the watch; nothing else.
        lines = err.splitlines()
        assert len(lines) == len(GARBAGE), err
        assert all(ln.startswith("warning: ") and watch.address in ln for ln in lines), err
