"""The Python side of the Espruino stand-in: runs ``espruino_vm.js`` under Node.js.

:class:`EspruinoVM` plays a Bangle.js at the end of a Nordic UART link: bytes written with
:meth:`EspruinoVM.write_uart` are what a central writes to the RX characteristic, and
:meth:`EspruinoVM.read_lines` returns what the watch sent on TX, split into lines. Time is
virtual and only moves with :meth:`EspruinoVM.advance` (or :meth:`EspruinoVM.realtime`), so a
20-minute session runs in well under a second and every cue can be checked to the millisecond.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, NamedTuple, Self

from wearsync.errors import WearSyncError
from wearsync.watches.bangle.messages import LineAssembler

SCRIPT: Final = Path(__file__).with_name("espruino_vm.js")
#: The virtual wall clock starts here unless told otherwise (a Monday morning, UTC).
DEFAULT_WALL_START: Final = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
_REQUEST_TIMEOUT_S: Final = 30.0


class NodeNotFoundError(WearSyncError):
    """The Espruino stand-in needs Node.js, and none was found."""

    def __init__(self) -> None:
        super().__init__(
            "Node.js (node) was not found on PATH; the simulated Bangle.js runs on it",
            hint="install Node.js 18 or newer (e.g. apt-get install nodejs) or put it on PATH",
        )


class SimulatorError(WearSyncError):
    """The Espruino stand-in refused a request or stopped."""


class Buzz(NamedTuple):
    """One motor pulse: on and off times in virtual ms, strength 0..1."""

    t_on_ms: int
    t_off_ms: int
    strength: float


@dataclass(frozen=True)
class VMState:
    """The stand-in's clocks and flags.

    Attributes:
        now_ms: virtual monotonic time since the simulation started.
        wall_ms: the watch's wall clock, ms since the Unix epoch (moved by ``setTime``).
        time_zone: hours set by ``E.setTimeZone``.
        programmable: the watch's Programmable setting at the last boot.
        connected: whether a central is connected (output is dropped when not).
        errors: every uncaught JavaScript error so far.
        boots: how many times the JS state started (power on, ``load()``, reset).
        timers: pending timers.
    """

    now_ms: int
    wall_ms: int
    time_zone: float
    programmable: bool
    connected: bool
    errors: tuple[str, ...]
    boots: int
    timers: int


class EspruinoVM:
    """A simulated Bangle.js 2, in a Node.js subprocess, with its Storage in ``storage_path``.

    Use as ``async with EspruinoVM(path) as vm:``. Starting it with an existing Storage file is
    a watch that kept its flash; :meth:`reset` is a power cycle.
    """

    def __init__(
        self,
        storage_path: Path,
        *,
        wall_start: datetime = DEFAULT_WALL_START,
        node: str | None = None,
    ) -> None:
        self.storage_path = storage_path
        self.wall_start = wall_start
        self._node = node
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 1
        self._assembler = LineAssembler()
        self._lines: list[bytes] = []
        self._arrived = asyncio.Event()
        self._stderr = b""
        #: Console output that did not go over Bluetooth (Programmable off), for debugging.
        self.log: list[str] = []
        #: Why the JS state restarted, in order (``power-on``, ``load``, ``reset``...).
        self.boots: list[str] = []

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Start Node.js with the stand-in; it boots as a watch would (``*.boot.js`` files).

        Raises:
            NodeNotFoundError: no ``node`` executable.
        """
        node = self._node or shutil.which("node")
        if node is None:
            raise NodeNotFoundError()
        wall_ms = round(self.wall_start.timestamp() * 1000)
        self._proc = await asyncio.create_subprocess_exec(
            node,
            str(SCRIPT),
            str(self.storage_path),
            str(wall_ms),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=2**24,
        )
        self._reader = asyncio.create_task(self._read_stdout())
        await self._request("state")

    async def close(self) -> None:
        """Stop the subprocess (Storage stays on disk)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if self._reader is not None:
            await self._reader

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        while line := await stdout.readline():
            try:
                message = json.loads(line)
            except ValueError:
                self.log.append(line.decode(errors="replace"))
                continue
            kind = message.get("ev")
            if kind == "reply":
                future = self._pending.pop(message.get("id"), None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif kind == "uart":
                data = message["data"].encode("latin-1")
                self._lines.extend(self._assembler.feed(data))
                self._arrived.set()
            elif kind == "log":
                self.log.append(message["text"])
            elif kind == "boot":
                self.boots.append(message["reason"])
        if self._proc is not None and self._proc.stderr is not None:
            self._stderr = await self._proc.stderr.read()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._died())
        self._pending.clear()

    def _died(self) -> SimulatorError:
        detail = self._stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return SimulatorError(f"the Espruino stand-in stopped: {detail[0]}")

    async def _request(self, op: str, **fields: Any) -> dict[str, Any]:
        if self._proc is None or self._proc.stdin is None:
            raise SimulatorError("the Espruino stand-in is not running", hint="call start() first")
        ident = self._next_id
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        self._proc.stdin.write(json.dumps({"id": ident, "op": op, **fields}).encode() + b"\n")
        try:
            await self._proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise self._died() from exc
        reply = await asyncio.wait_for(future, _REQUEST_TIMEOUT_S)
        if "error" in reply:
            raise SimulatorError(f"the Espruino stand-in refused {op!r}: {reply['error']}")
        return reply

    async def write_uart(self, data: bytes) -> None:
        """Deliver ``data`` (one ATT write, or any part of a line) to the watch's UART RX.

        Returns once the watch has handled every line it completed, so what it printed in
        answer is already in :meth:`read_lines`.
        """
        await self._request("uart", data=data.decode("latin-1"))

    def read_lines(self) -> list[bytes]:
        """Lines the watch sent since the last call, oldest first, without line ends."""
        lines, self._lines = self._lines, []
        return lines

    async def wait_for_line(self, match: Callable[[bytes], bool]) -> bytes:
        """Wait (in real time) for a line ``match`` accepts; the lines before it are consumed.

        Bound it with ``asyncio.timeout()``.
        """
        while True:
            while self._lines:
                line = self._lines.pop(0)
                if match(line):
                    return line
            self._arrived.clear()
            await self._arrived.wait()

    async def advance(self, ms: int) -> int:
        """Move virtual time on by ``ms``, running due timers in order; returns the new time."""
        reply = await self._request("advance", ms=ms)
        return int(reply["now"])

    async def set_button(self, pressed: bool) -> None:
        """Press or release BTN1 now."""
        await self._request("button", pressed=pressed)

    async def press_button(self, ms: int) -> None:
        """Press BTN1, hold it for ``ms`` of virtual time (timers run meanwhile), release."""
        await self.set_button(True)
        await self.advance(ms)
        await self.set_button(False)

    async def buzzes(self) -> list[Buzz]:
        """Every motor pulse so far, in the order they started."""
        reply = await self._request("buzzes")
        return [Buzz(b["on"], b["off"], b["strength"]) for b in reply["buzzes"]]

    async def screen(self) -> list[str]:
        """The strings of the last frame drawn and flipped."""
        reply = await self._request("screen")
        return list(reply["strings"])

    async def storage(self) -> dict[str, bytes]:
        """Storage as the watch holds it: plain files, and StorageFiles under ``name\\x01``."""
        files = (await self._request("storage"))["files"]
        out = {name: text.encode("latin-1") for name, text in files["files"].items()}
        out.update({f"{n}\x01": t.encode("latin-1") for n, t in files["sfiles"].items()})
        return out

    async def state(self) -> VMState:
        """The stand-in's clocks, flags and error list."""
        r = await self._request("state")
        return VMState(
            now_ms=int(r["now"]),
            wall_ms=int(r["wall"]),
            time_zone=float(r["timeZone"]),
            programmable=bool(r["programmable"]),
            connected=bool(r["connected"]),
            errors=tuple(r["errors"]),
            boots=int(r["boots"]),
            timers=int(r["timers"]),
        )

    async def now(self) -> int:
        """Virtual monotonic time in ms."""
        return (await self.state()).now_ms

    async def reset(self) -> None:
        """Power-cycle the watch: Storage is read back from disk and the boot files run."""
        await self._request("reset")

    async def set_connected(self, connected: bool) -> None:
        """Connect or disconnect the central; while disconnected, what the watch sends is lost."""
        await self._request("connected", on=connected)

    async def set_programmable(self, on: bool) -> None:
        """Change the Programmable setting as the Settings app does (saved, then a reload)."""
        await self._request("programmable", on=on)

    async def realtime(self, speed: float) -> None:
        """Let virtual time follow real time ``speed`` times faster; 0 stops it."""
        await self._request("realtime", speed=speed)
