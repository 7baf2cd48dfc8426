"""Fixtures: the NimBLE firmware as a process on a bumble virtual link served in this process.

``HciServer`` listens on 127.0.0.1 (port 0) for a :class:`VirtualLink`; the sanitized firmware
binary connects to it as its controller, and the wearsync client joins the same link
in-process. The launcher is the package's :class:`FirmwareProcess` (the one ``wearsync sim
--watch nimble`` runs); here it runs the sanitized build, and its stderr must stay free of
sanitizer reports.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

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
from wearsync.watches.wearsync_timer.firmware import FirmwareProcess

#: Sanitizer output that fails a test.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer", "SUMMARY:")


class Firmware(FirmwareProcess):
    """The sanitized firmware (built if needed); :meth:`stop` fails on a sanitizer report."""

    def __init__(
        self, port: int, directory: Path, *, time_scale: float = 1.0, features: int | None = None
    ) -> None:
        super().__init__(
            firmware_binary(),
            hci_port=port,
            directory=directory,
            time_scale=time_scale,
            features=features,
            env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"),
            capture_stderr=True,
        )

    async def stop(self) -> None:
        """SIGTERM, wait, collect stderr; fail on a sanitizer report."""
        await super().stop()
        reports = [mark for mark in SANITIZER_MARKS if mark in self.stderr]
        assert not reports, f"sanitizer report from the firmware:\n{self.stderr}"


@pytest.fixture
async def hci_server(link: VirtualLink) -> AsyncIterator[HciServer]:
    server = HciServer(link, 0)
    await server.start()
    yield server
    await server.close()


async def start_firmware(
    server: HciServer, directory: Path, *, time_scale: float = 1.0, features: int | None = None
) -> Firmware:
    firmware = Firmware(server.port, directory, time_scale=time_scale, features=features)
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
