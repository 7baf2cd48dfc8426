"""Fixtures: the NimBLE firmware as a process on a bumble virtual link served in this process.

``HciServer`` listens on 127.0.0.1 (port 0) for a :class:`VirtualLink`; the sanitized firmware
binary connects to it as its controller, and the wearsync client joins the same link
in-process. The firmware's stdout is JSON lines (ready, vibration, event, stopped); its stderr
must stay free of sanitizer reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.firmware.build import firmware_binary
from wearsync.ble.connection import FoundWatch, find_watch
from wearsync.profiles import DeviceProfile
from wearsync.records import utc_now
from wearsync.routine import Routine, compile_routine
from wearsync.sim.hci_server import HciServer
from wearsync.sim.link import VirtualLink
from wearsync.watches.wearsync_timer.codec import encode_program
from wearsync.watches.wearsync_timer.codec.encode import wire_plan

#: Sanitizer output that fails a test.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer", "SUMMARY:")
READY_TIMEOUT_S = 20.0


class Firmware:
    """One run of the firmware process; :meth:`restart` is a reboot on the same files."""

    def __init__(
        self, port: int, directory: Path, *, time_scale: float = 1.0, features: int | None = None
    ) -> None:
        self.port = port
        self.directory = directory
        self.time_scale = time_scale
        self.features = features
        self.process: asyncio.subprocess.Process | None = None
        self.lines: list[dict[str, Any]] = []
        self.stderr = ""
        self.ready: dict[str, Any] = {}
        self._reader: asyncio.Task[None] | None = None
        self._got_line = asyncio.Condition()

    async def start(self) -> dict[str, Any]:
        """Start the firmware and wait for its ready line."""
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0")
        self.process = await asyncio.create_subprocess_exec(
            str(firmware_binary()),
            "--hci-port",
            str(self.port),
            "--dir",
            str(self.directory),
            "--time-scale",
            str(self.time_scale),
            *(() if self.features is None else ("--features", str(self.features))),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        self._reader = asyncio.create_task(self._read(self.process))
        self.ready = await self.wait_for(lambda line: line["type"] == "ready", READY_TIMEOUT_S)
        return self.ready

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = json.loads(raw)
            async with self._got_line:
                self.lines.append(line)
                self._got_line.notify_all()

    async def wait_for(self, match: Any, seconds: float) -> dict[str, Any]:
        """The first line (from any run) that ``match`` accepts, waiting up to ``seconds``."""
        async with asyncio.timeout(seconds), self._got_line:
            while True:
                for line in self.lines:
                    if match(line):
                        return line
                await self._got_line.wait()

    async def press(self, button: str) -> dict[str, Any]:
        """Press a button on the watch (start, start N, pause, resume, skip, stop) or step its
        clock (advance MS); its result line."""
        assert self.process is not None and self.process.stdin is not None
        before = len(self.of_type("button"))
        self.process.stdin.write(f"{button}\n".encode())
        await self.process.stdin.drain()
        await self.wait_for(
            lambda line: line["type"] == "button" and len(self.of_type("button")) > before,
            READY_TIMEOUT_S,
        )
        return self.of_type("button")[before]  # this press's line, not the first ever

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Every line of type ``kind`` so far."""
        return [line for line in self.lines if line["type"] == kind]

    async def stop(self) -> None:
        """SIGTERM, wait, collect stderr; fail on a sanitizer report."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
        if self._reader is not None:
            await self._reader
        assert process.stderr is not None
        self.stderr += (await process.stderr.read()).decode(errors="replace")
        reports = [mark for mark in SANITIZER_MARKS if mark in self.stderr]
        assert not reports, f"sanitizer report from the firmware:\n{self.stderr}"

    async def restart(self) -> dict[str, Any]:
        """A reboot: stop the process and start it again on the same directory."""
        await self.stop()
        self.lines = [line for line in self.lines if line["type"] != "ready"]
        return await self.start()


@pytest.fixture
async def hci_server(link: VirtualLink) -> AsyncIterator[HciServer]:
    server = HciServer(link, 0)
    await server.start()
    yield server
    await server.close()


async def start_firmware(
    server: HciServer, directory: Path, *, time_scale: float = 1.0
) -> Firmware:
    firmware = Firmware(server.port, directory, time_scale=time_scale)
    await firmware.start()
    return firmware


@pytest.fixture
async def firmware(hci_server: HciServer, tmp_path: Path) -> AsyncIterator[Firmware]:
    """The firmware at real-time speed, with its files in a fresh directory."""
    fw = await start_firmware(hci_server, tmp_path / "fw")
    yield fw
    await fw.stop()


def wanted_program(routine: Routine) -> bytes:
    """The program a first sync today pushes to the firmware, which has ENTRIES: format 2,
    its plan starting today in the routine's zone (§12.8, ``kept_first_day``)."""
    program = compile_routine(routine)
    today = utc_now().astimezone(routine.schedule.zone).date()
    return encode_program(program, wire_plan(routine, program, today))


async def found(link: VirtualLink, profiles: list[DeviceProfile], fw: Firmware) -> FoundWatch:
    """The firmware, found by scanning for its address."""
    return await find_watch(profiles, name_or_address=fw.ready["address"], hci=link, seconds=10)
