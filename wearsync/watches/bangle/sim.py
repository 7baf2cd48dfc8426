"""A simulated Bangle.js 2 on the virtual radio: the Nordic UART Service over an EspruinoVM.

:class:`SimBangle` is a bumble peripheral exposing the Nordic UART Service. What a central
writes to RX goes, byte for byte, into an :class:`~espruino.EspruinoVM` (Node.js
really running the JavaScript sent, with a stand-in for the Espruino APIs); what the VM prints
goes back as TX notifications, each at most the negotiated ``MTU - 3`` bytes, as Espruino sends
them. So vibrations, screen and events come from the uploaded runner itself.

Time on the watch is the VM's virtual clock:

- ``manual``: it moves only when the test calls :meth:`SimBangle.advance` (cues can then be
  checked to the millisecond, and a 20-minute session runs in well under a second);
- ``accelerated``: it follows real time ``speed`` times faster;
- ``real``: it follows real time.

Every timer still fires at its exact virtual due time in all three modes, so the watch's cue
timing does not depend on the link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from bumble import gatt
from bumble.device import Connection, Device

from wearsync.ble.hci import HciSpec
from wearsync.sim.link import VirtualLink
from wearsync.sim.peripheral import HostedPeripheral, Peripheral, start_peripheral
from wearsync.sim.simulated import Emit, RunningWatch, SimOptions, refuse_options
from wearsync.watches.bangle.client import NUS_RX, NUS_SERVICE, NUS_TX
from wearsync.watches.bangle.espruino import DEFAULT_WALL_START, EspruinoVM

logger = logging.getLogger(__name__)

ClockMode = Literal["manual", "accelerated", "real"]

#: What Espruino's Bluetooth console sends after each printed line.
_LINE_END: Final = b"\r\n"
_P = gatt.Characteristic.Properties
_A = gatt.Characteristic


def bangle_name(suffix: str | None = None) -> str:
    """An advertised name as a Bangle.js has it: ``Bangle.js`` and four hex digits."""
    return f"Bangle.js {suffix or secrets.token_hex(2)}"


class SimBangle(HostedPeripheral):
    """A simulated Bangle.js 2 advertising on ``hci`` (a VirtualLink or an HCI transport).

    Use as ``async with SimBangle(link, tmp_path / "flash.json") as bangle:``.

    Args:
        hci: where to attach the watch.
        storage_path: the watch's flash (Storage), kept across :meth:`reset` and restarts.
        name: the advertised name (``Bangle.js xxxx`` by default).
        clock: ``manual``, ``accelerated`` or ``real`` (see the module docstring).
        speed: how much faster than real time the ``accelerated`` clock runs.
        wall_start: the watch's wall clock at virtual time 0 (until a central sets it).
        tx_filter: applied to every line the watch prints before it goes on air (tests use it
            to garble output or mix in junk); returns the bytes to send, line end included.
        advertising_interval_ms: short intervals connect fast.

    Attributes:
        vm: the Espruino stand-in (buzzes, screen, Storage, virtual clock).
        peripheral: the bumble peripheral.
        rx_writes: ATT writes received on RX.
        rx_bytes: bytes received on RX.
    """

    what = "the simulated Bangle.js"

    def __init__(
        self,
        hci: HciSpec,
        storage_path: Path,
        *,
        name: str | None = None,
        clock: ClockMode = "manual",
        speed: float = 1.0,
        wall_start: datetime = DEFAULT_WALL_START,
        tx_filter: Callable[[bytes], bytes] | None = None,
        advertising_interval_ms: float = 20.0,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.hci = hci
        self.name = name or bangle_name()
        self.clock: ClockMode = clock
        self.speed = speed
        self.tx_filter = tx_filter
        self.advertising_interval_ms = advertising_interval_ms
        self.vm = EspruinoVM(storage_path, wall_start=wall_start)
        self.rx_writes = 0
        self.rx_bytes = 0
        self._peripheral: Peripheral | None = None
        self._pump: asyncio.Task[None] | None = None
        self._rx_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.tx: gatt.Characteristic[bytes] = gatt.Characteristic(
            NUS_TX, _P.NOTIFY, _A.READABLE, b""
        )
        self.rx: gatt.Characteristic[bytes] = gatt.Characteristic(
            NUS_RX,
            _P.WRITE | _P.WRITE_WITHOUT_RESPONSE,
            _A.WRITEABLE,
            gatt.CharacteristicValue[bytes](write=self._on_rx),
        )

    async def start(self) -> None:
        """Boot the VM, then power the radio on and advertise."""
        await self.vm.start()
        # Nothing is connected until a central is: what the watch prints meanwhile is lost.
        await self.vm.set_connected(False)
        await self._apply_clock()
        self._peripheral = await start_peripheral(
            self.hci,
            name=self.name,
            services=[gatt.Service(NUS_SERVICE, [self.rx, self.tx])],
            service_uuids=[NUS_SERVICE],
            advertising_interval_ms=self.advertising_interval_ms,
        )
        self._peripheral.device.on(Device.EVENT_CONNECTION, self._on_connection)
        self._pump = asyncio.create_task(self._pump_tx())

    async def close(self) -> None:
        """Power off: stop the radio and the VM (Storage stays on disk)."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        for task in list(self._tasks):
            task.cancel()
        if self._peripheral is not None:
            await self._peripheral.close()
            self._peripheral = None
        await self.vm.close()

    async def _apply_clock(self) -> None:
        if self.clock == "real":
            await self.vm.realtime(1.0)
        elif self.clock == "accelerated":
            await self.vm.realtime(self.speed)
        else:
            await self.vm.realtime(0)

    async def set_clock(self, clock: ClockMode, speed: float | None = None) -> None:
        """Switch the clock mode (and the accelerated speed)."""
        self.clock = clock
        if speed is not None:
            self.speed = speed
        await self._apply_clock()

    async def advance(self, ms: int) -> int:
        """Move the virtual clock on by ``ms`` (``manual`` mode); returns the new virtual time."""
        return await self.vm.advance(ms)

    # -- the radio side --------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_connection(self, connection: Connection) -> None:
        self._spawn(self.vm.set_connected(True))

        def on_disconnection(_reason: int) -> None:
            if not self.peripheral.connections or self.peripheral.connections == [connection]:
                self._spawn(self.vm.set_connected(False))

        connection.on(Connection.EVENT_DISCONNECTION, on_disconnection)

    async def _on_rx(self, _connection: Connection, value: bytes) -> None:
        # Writes without response run in tasks of their own: keep them in arrival order.
        async with self._rx_lock:
            self.rx_writes += 1
            self.rx_bytes += len(value)
            await self.vm.write_uart(bytes(value))

    async def _pump_tx(self) -> None:
        while True:
            line = await self.vm.wait_for_line(lambda _line: True)
            data = line + _LINE_END
            if self.tx_filter is not None:
                data = self.tx_filter(data)
            await self.send_tx(data)

    async def send_tx(self, data: bytes) -> None:
        """Notify ``data`` on TX as the watch's console would, in ``MTU - 3`` byte pieces.

        Tests call it directly to put junk on the air.
        """
        peripheral = self._peripheral
        connection = peripheral.connection if peripheral is not None else None
        if peripheral is None or connection is None:
            return
        size = max(20, connection.att_mtu - 3)
        for start in range(0, len(data), size):
            try:
                await peripheral.device.notify_subscribers(self.tx, data[start : start + size])
            except Exception as exc:  # the link went down mid-line: the rest is lost
                logger.debug("TX notification dropped: %s", exc)
                return

    # -- faults ----------------------------------------------------------------------------

    async def reset(self) -> None:
        """Reset the watch as a long button press does: the link drops and JS restarts.

        Storage survives; the boot files run again (the runner gets a new boot id).
        """
        peripheral = self.peripheral
        if isinstance(self.hci, VirtualLink):
            # A reset sends no terminate PDU: the central sees a supervision timeout.
            self.hci.drop_connections_of(peripheral.address)
        else:
            await peripheral.disconnect_all()
        await self.vm.set_connected(False)
        await self.vm.reset()


class BangleSim(RunningWatch):
    """A :class:`SimBangle` as ``wearsync sim`` runs it.

    The Node.js stand-in keeps the buzzes it played; a small task reports new ones as
    vibration lines (every 100 ms of real time, each with its virtual start time).
    """

    POLL_S: Final = 0.1

    def __init__(self, watch: SimBangle, emit: Emit) -> None:
        super().__init__(watch)
        self.watch = watch
        self.emit = emit
        self._reported = 0
        self._poll = asyncio.create_task(self._report_buzzes())

    def summary(self) -> dict[str, Any]:
        """The clock mode and what the watch received."""
        watch = self.watch
        return {"clock": watch.clock, "speed": watch.speed, "rx_writes": watch.rx_writes}

    async def _report_buzzes(self) -> None:
        while True:
            await asyncio.sleep(self.POLL_S)
            buzzes = await self.watch.vm.buzzes()
            for buzz in buzzes[self._reported :]:
                self.emit(
                    {
                        "type": "vibration",
                        "cue": "buzz",
                        "pattern": [buzz.t_off_ms - buzz.t_on_ms],
                        "strength": round(buzz.strength * 100),
                        "watch_ms": buzz.t_on_ms,
                    }
                )
            self._reported = len(buzzes)

    async def close(self) -> None:
        """Switch it off (Storage kept)."""
        self._poll.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._poll
        await self.watch.close()


async def start_for_cli(options: SimOptions) -> BangleSim:
    """Boot the watch on ``options.link``, its Storage in ``options.flash_dir``."""
    refuse_options(options, "the simulated Bangle.js", wearer=False, features=False)
    options.flash_dir.mkdir(parents=True, exist_ok=True)
    watch = SimBangle(
        options.link,
        options.flash_dir / "storage.json",
        name=options.name,
        clock="accelerated" if options.speed != 1 else "real",
        speed=options.speed,
    )
    await watch.start()
    return BangleSim(watch, options.emit)
