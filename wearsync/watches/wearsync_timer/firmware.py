"""The reference firmware (``firmware/``, C on Apache NimBLE) as a simulated watch.

``wearsync sim --watch nimble`` runs the firmware's binary from the checkout's build folder as a
process of its own: it connects to the simulator's HCI server over TCP on 127.0.0.1, as an H4
controller client, so the real embedded BLE host stack serves the timer service on the same
virtual radio the client scans. What the firmware prints (one JSON line per cue, event and
button, the shape ``wearsync sim --json`` prints) goes to the simulator's output.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path
from typing import Any, Final

from wearsync.errors import InputError, WearSyncError
from wearsync.sim.simulated import SimOptions, refuse_options

#: The checkout's firmware folder (the wheel carries no C sources or binaries).
FIRMWARE_DIR: Final = Path(__file__).resolve().parents[3] / "firmware"
#: Built binaries, preferred first.
BINARIES: Final = ("build/release/wearsync-fw", "build/asan/wearsync-fw")
READY_TIMEOUT_S: Final = 20.0


class FirmwareError(WearSyncError):
    """The firmware could not be started."""


def firmware_binary() -> Path:
    """The built firmware binary.

    Raises:
        FirmwareError: it has not been built (or this is not a checkout).
    """
    for relative in BINARIES:
        candidate = FIRMWARE_DIR / relative
        if candidate.is_file():
            return candidate
    raise FirmwareError(
        "the NimBLE firmware is not built",
        hint="build it with 'make -C firmware' in a checkout (needs gcc, make, libmbedtls-dev "
        "and ../shared/vendor/mynewt-nimble-1.10.0.tar.gz)",
    )


class FirmwareSim:
    """The firmware process, seen through :class:`~wearsync.sim.simulated.SimulatedWatch`."""

    def __init__(self, process: asyncio.subprocess.Process, options: SimOptions) -> None:
        self.process = process
        self.options = options
        self.ready: dict[str, Any] = {}
        self._ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @property
    def name(self) -> str:
        """The advertised name."""
        return str(self.ready.get("name", ""))

    @property
    def address(self) -> str:
        """The address it advertises with."""
        return str(self.ready.get("address", ""))

    def summary(self) -> dict[str, Any]:
        """Boot, program and backlog, from its ready line."""
        keys = ("boot_id", "program_identity", "unacked_events", "features")
        return {key: self.ready[key] for key in keys if key in self.ready}

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # not one of its JSON lines
            if line.get("type") == "ready":
                self.ready = line
                self._ready.set()
            else:
                self.options.emit(line)

    async def wait_ready(self) -> None:
        """Wait for the firmware's ready line.

        Raises:
            FirmwareError: it exited or said nothing within the timeout.
        """
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                waiter = asyncio.create_task(self._ready.wait())
                exited = asyncio.create_task(self.process.wait())
                await asyncio.wait({waiter, exited}, return_when=asyncio.FIRST_COMPLETED)
                for task in (waiter, exited):
                    task.cancel()
        except TimeoutError:
            pass
        if not self._ready.is_set():
            await self.close()
            raise FirmwareError("the NimBLE firmware did not start (no ready line)")

    async def close(self) -> None:
        """SIGTERM, then wait (its files stay in the flash directory)."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(10):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def start_firmware(options: SimOptions) -> FirmwareSim:
    """Run the firmware against ``options``' HCI server port, its files in the flash folder.

    Raises:
        InputError: no HCI port was given (the firmware joins the link over TCP).
        FirmwareError: it is not built or did not start.
    """
    if options.hci_port is None:
        raise InputError("the NimBLE firmware joins the link over TCP: it needs the HCI port")
    refuse_options(options, "the NimBLE firmware", wearer=False, features=True)
    options.flash_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    arguments = [
        str(firmware_binary()),
        *("--hci-port", str(options.hci_port), "--dir", str(options.flash_dir)),
        *("--time-scale", f"{options.speed:g}"),
    ]
    if options.name:
        arguments += ["--name", options.name]
    if options.features is not None:
        arguments += ["--features", str(options.features)]
    process = await asyncio.create_subprocess_exec(
        *arguments, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE
    )
    running = FirmwareSim(process, options)
    await running.wait_ready()
    return running
