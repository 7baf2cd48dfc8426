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
