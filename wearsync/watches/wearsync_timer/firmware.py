"""The reference firmware (``firmware/``, C on Apache NimBLE) as a simulated watch.

``wearsync sim --watch nimble`` runs the firmware's binary from the checkout's build folder as a
process of its own: it connects to the simulator's HCI server over TCP on 127.0.0.1, as an H4
controller client, so the real embedded BLE host stack serves the timer service on the same
virtual radio the client scans. What the firmware prints (one JSON line per cue, event and
button, the shape ``wearsync sim --json`` prints) goes to the simulator's output.

:class:`FirmwareProcess` is the one launcher: the CLI runs it here, and the tests run the
sanitized build through it (``tests/firmware/conftest.py``), pressing the watch's buttons on its
standard input and rebooting it on the same files with :meth:`FirmwareProcess.restart`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from wearsync.errors import InputError, WearSyncError
from wearsync.sim.simulated import SimOptions, refuse_options

#: The checkout's firmware folder (the wheel carries no C sources or binaries).
FIRMWARE_DIR: Final = Path(__file__).resolve().parents[3] / "firmware"
#: Built binaries, preferred first.
BINARIES: Final = ("build/release/wearsync-fw", "build/asan/wearsync-fw")
READY_TIMEOUT_S: Final = 20.0
#: How long a stopped firmware gets to write its files and exit before it is killed.
STOP_TIMEOUT_S: Final = 10.0

#: One JSON line the firmware printed (``{"type": "vibration", ...}``).
Line = dict[str, Any]


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


class FirmwareProcess:
    """One firmware binary as a process on a TCP HCI port; :meth:`restart` is a reboot.

    Its files (program slots, boot id, event log, bonds) live in ``directory``, so a restart
    keeps them, as a watch's flash keeps them across a power cycle.

    Args:
        binary: the firmware executable.
        hci_port: the 127.0.0.1 port of the HCI server it joins the link through.
        directory: its flash directory (created 0700 if missing).
        time_scale: watch time per real time (``--time-scale``).
        features: a reduced Timer Info feature mask, or ``None`` for the firmware's own.
        name: the advertised name, or ``None`` for its default.
        env: the process's environment, or ``None`` for this one's.
        capture_stderr: keep what it writes on stderr in :attr:`stderr` (else it is inherited).
        on_line: called with every JSON line as it arrives.

    Attributes:
        lines: every JSON line printed so far, by every run.
        ready: the newest ``ready`` line of the current run (address, boot id, program...).
        stderr: what it wrote on stderr, with ``capture_stderr``.
    """

    def __init__(
        self,
        binary: Path,
        *,
        hci_port: int,
        directory: Path,
        time_scale: float = 1.0,
        features: int | None = None,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        capture_stderr: bool = False,
        on_line: Callable[[Line], None] | None = None,
    ) -> None:
        self.binary = binary
        self.hci_port = hci_port
        self.directory = directory
        self.time_scale = time_scale
        self.features = features
        self.name = name
        self.env = None if env is None else dict(env)
        self.capture_stderr = capture_stderr
        self.on_line = on_line
        self.process: asyncio.subprocess.Process | None = None
        self.lines: list[Line] = []
        self.ready: Line = {}
        self.stderr = ""
        self._readers: list[asyncio.Task[None]] = []
        self._got_line = asyncio.Condition()

    def arguments(self) -> list[str]:
        """The command line it runs with."""
        arguments = [
            str(self.binary),
            *("--hci-port", str(self.hci_port), "--dir", str(self.directory)),
            *("--time-scale", f"{self.time_scale:g}"),
        ]
        if self.name:
            arguments += ["--name", self.name]
        if self.features is not None:
            arguments += ["--features", str(self.features)]
        return arguments

    async def start(self) -> Line:
        """Start the firmware and wait for its ready line.

        Raises:
            FirmwareError: it exited, or said nothing within :data:`READY_TIMEOUT_S`.
        """
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.ready = {}
        process = await asyncio.create_subprocess_exec(
            *self.arguments(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE if self.capture_stderr else None,
            env=self.env,
        )
        self.process = process
        self._readers = [asyncio.create_task(self._read_lines(process))]
        if process.stderr is not None:
            self._readers.append(asyncio.create_task(self._read_stderr(process.stderr)))
        waiter = asyncio.create_task(self._wait_ready())
        exited = asyncio.create_task(process.wait())
        await asyncio.wait(
            {waiter, exited}, timeout=READY_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        for task in (waiter, exited):
            task.cancel()
        if not self.ready:
            await self.stop()
            raise FirmwareError(f"the NimBLE firmware did not start (no ready line): {self.stderr}")
        return self.ready

    async def _wait_ready(self) -> None:
        async with self._got_line:
            await self._got_line.wait_for(lambda: bool(self.ready))

    async def _read_lines(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # not one of its JSON lines
            if not isinstance(line, dict):
                continue
            async with self._got_line:
                self.lines.append(line)
                if line.get("type") == "ready":
                    self.ready = line
                self._got_line.notify_all()
            if self.on_line is not None:
                self.on_line(line)

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        # Read as it comes, so a chatty firmware never blocks on a full pipe.
        async for raw in stream:
            self.stderr += raw.decode(errors="replace")

    def of_type(self, kind: str) -> list[Line]:
        """Every line of type ``kind`` so far, from every run."""
        return [line for line in self.lines if line.get("type") == kind]

    async def wait_for(self, match: Callable[[Line], bool], seconds: float) -> Line:
        """The first line (from any run) that ``match`` accepts, waiting up to ``seconds``.

        Raises:
            TimeoutError: none came in time.
        """
        async with asyncio.timeout(seconds), self._got_line:
            while True:
                for line in self.lines:
                    if match(line):
                        return line
                await self._got_line.wait()

    async def press(self, button: str) -> Line:
        """Press a button on the watch (``start``, ``pause``, ``resume``, ``skip``, ``stop``,
        as the firmware's stdin takes them); its ``button`` result line (``code`` 0 or the
        ATT error a Control Point request would get)."""
        process = self.process
        if process is None or process.stdin is None:
            raise FirmwareError("the NimBLE firmware is not running")
        before = len(self.of_type("button"))
        process.stdin.write(f"{button}\n".encode())
        await process.stdin.drain()
        await self.wait_for(lambda _line: len(self.of_type("button")) > before, READY_TIMEOUT_S)
        return self.of_type("button")[before]

    async def stop(self) -> None:
        """SIGTERM, then wait (killed after :data:`STOP_TIMEOUT_S`); its files stay."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        # Both pipes end with the process: the readers finish with what it wrote last.
        await asyncio.gather(*self._readers, return_exceptions=True)
        self._readers = []

    async def restart(self) -> Line:
        """A reboot: stop the process and start it again on the same directory."""
        await self.stop()
        return await self.start()


class FirmwareSim:
    """The firmware process, seen through :class:`~wearsync.sim.simulated.SimulatedWatch`."""

    def __init__(self, firmware: FirmwareProcess) -> None:
        self.firmware = firmware

    @property
    def name(self) -> str:
        """The advertised name."""
        return str(self.firmware.ready.get("name", ""))

    @property
    def address(self) -> str:
        """The address it advertises with."""
        return str(self.firmware.ready.get("address", ""))

    def summary(self) -> dict[str, Any]:
        """Boot, program and backlog, from its ready line."""
        keys = ("boot_id", "program_identity", "unacked_events", "features")
        return {key: self.firmware.ready[key] for key in keys if key in self.firmware.ready}

    async def close(self) -> None:
        """SIGTERM, then wait (its files stay in the flash directory)."""
        await self.firmware.stop()


async def start_firmware(options: SimOptions) -> FirmwareSim:
    """Run the firmware against ``options``' HCI server port, its files in the flash folder.

    Raises:
        InputError: no HCI port was given (the firmware joins the link over TCP).
        FirmwareError: it is not built or did not start.
    """
    if options.hci_port is None:
        raise InputError("the NimBLE firmware joins the link over TCP: it needs the HCI port")
    refuse_options(options, "the NimBLE firmware", wearer=False, features=True)

    def emit(line: Line) -> None:
        if line.get("type") != "ready":
            options.emit(line)

    firmware = FirmwareProcess(
        firmware_binary(),
        hci_port=options.hci_port,
        directory=options.flash_dir,
        time_scale=options.speed,
        features=options.features,
        name=options.name,
        on_line=emit,
    )
    await firmware.start()
    return FirmwareSim(firmware)
