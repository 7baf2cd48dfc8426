"""The timer watch under test, as both implementations look to a test: see conftest.py."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

import pytest
from bleak import BleakClient

from tests.firmware.conftest import Firmware
from wearsync.ble import make_client
from wearsync.ble.connection import FoundWatch, find_watch
from wearsync.profiles import DeviceProfile
from wearsync.sim.att_tap import AttTap
from wearsync.sim.clock import ManualClock, SimClock
from wearsync.sim.link import VirtualLink
from wearsync.watches.wearsync_timer.codec import AttError, Feature, TimerInfo
from wearsync.watches.wearsync_timer.codec import uuids as U
from wearsync.watches.wearsync_timer.sim.watch import SimWatch

VARIANTS: Final = ("sim", "firmware")
#: Real seconds a wait allows on top of the watch time it asked for (a margin, not a check).
MARGIN_S: Final = 30.0
#: The firmware's slowest time scale, where a manual clock keeps it: a second of real time is a
#: millisecond of watch time, so what a test does over the air leaves watch time all but still.
FROZEN_TIME_SCALE: Final = 0.001
#: How far a manual clock moves between looks at the lines in ``run_until``.
SLICE_MS: Final = 1000
#: What a plain client discovers by default: discovery is most of a short link's PDUs.
TIMER_SERVICE_ONLY: Final = [str(U.TIMER_SERVICE)]

Line = dict[str, Any]
Done = Callable[[], bool]


class Lines(list[Line]):
    """The simulator's lines as they are printed, with an event set at each new one."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    def add(self, line: Line) -> None:
        self.append(line)
        self.arrived.set()


class TimerWatch(ABC):
    """A timer watch under test; see the module docstring."""

    variant: str
    link: VirtualLink
    tap: AttTap

    @property
    @abstractmethod
    def address(self) -> str:
        """The address it advertises with (kept across reboots)."""

    @property
    @abstractmethod
    def boot_id(self) -> int:
        """The boot counter of the current boot."""

    @property
    @abstractmethod
    def lines(self) -> list[Line]:
        """Every vibration and event line so far, of every boot, in order."""

    def of_type(self, kind: str) -> list[Line]:
        """The lines of type ``kind`` (``vibration`` or ``event``)."""
        return [line for line in self.lines if line["type"] == kind]

    def events(self, kind: str | None = None) -> list[Line]:
        """The event lines, or those of event kind ``kind`` (``session_started``...)."""
        return [e for e in self.of_type("event") if kind is None or e["kind"] == kind]

    @abstractmethod
    async def press(self, button: str, entry: int = 0) -> int:
        """Press a button on the watch (``start``, ``pause``, ``resume``, ``skip``, ``stop``;
        ``start`` with ``entry`` picks an entry from the menu, §7.7): 0, or the ATT error code
        the same request on the Control Point would get."""

    @abstractmethod
    async def reboot(self) -> None:
        """Power-cycle it: links drop, the boot id goes up, flash (program, log, bonds) stays."""

    @abstractmethod
    async def run_until(self, done: Done, *, within_ms: int, slice_ms: int = SLICE_MS) -> None:
        """Let watch time pass until ``done()`` holds (at most ``within_ms`` of watch time,
        plus a real-time margin for the firmware); fail if it never does. A manual clock moves
        ``slice_ms`` at a time (what happens is exact at any slice; only where it stops is not).
        """

    @abstractmethod
    async def elapse(self, ms: int) -> None:
        """Let ``ms`` of watch time pass (for what must *not* happen meanwhile)."""

    @abstractmethod
    async def wait_for(self, done: Done) -> None:
        """Wait, without moving a manual clock, until ``done()`` holds: for what a client
        does over the air (a session the companion starts); fail after a real-time margin."""

    @abstractmethod
    async def close(self) -> None:
        """Switch it off."""


class SimTimerWatch(TimerWatch):
    """The Python simulated watch."""

    variant = "sim"

    def __init__(self, watch: SimWatch, clock: ManualClock | SimClock, lines: Lines) -> None:
        self.watch = watch
        self.clock = clock
        self.link = watch.link
        self.tap = watch.tap
        self._lines = lines

    @property
    def address(self) -> str:
        return self.watch.address

    @property
    def boot_id(self) -> int:
        return self.watch.boot_id

    @property
    def lines(self) -> Lines:
        return self._lines

    async def press(self, button: str, entry: int = 0) -> int:
        presses: dict[str, Callable[[], Awaitable[None]]] = {
            "start": lambda: self.watch.press_start(entry),
            "pause": self.watch.press_pause,
            "resume": self.watch.press_resume,
            "skip": self.watch.press_skip,
            "stop": self.watch.press_stop,
        }
        try:
            await presses[button]()
        except AttError as exc:
            return int(exc.code)
        return 0

    async def reboot(self) -> None:
        await self.watch.reboot()

    async def run_until(self, done: Done, *, within_ms: int, slice_ms: int = SLICE_MS) -> None:
        clock = self.clock
        if not isinstance(clock, ManualClock):
            await self._wait(done, within_ms / 1000 / clock.speed + MARGIN_S)
            return
        passed = 0
        while not done():
            assert passed < within_ms, f"not done within {within_ms} ms of watch time"
            await clock.advance(slice_ms)
            passed += slice_ms
        await self.watch.drain()

    async def elapse(self, ms: int) -> None:
        if isinstance(self.clock, ManualClock):
            await self.clock.advance(ms)
            await self.watch.drain()
        else:
            await asyncio.sleep(ms / 1000 / self.clock.speed)

    async def wait_for(self, done: Done) -> None:
        await self._wait(done, MARGIN_S)

    async def _wait(self, done: Done, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                while not done():
                    self.lines.arrived.clear()
                    await self.lines.arrived.wait()
        except TimeoutError:
            raise AssertionError(f"not done within {seconds:g} s") from None

    async def close(self) -> None:
        await self.watch.close()


class FirmwareTimerWatch(TimerWatch):
    """The NimBLE firmware, a process on the link.

    With ``manual_clock`` it runs at :data:`FROZEN_TIME_SCALE` and watch time moves through its
    test interface's ``advance MS`` (every step and reminder due on the way happens at its own
    watch time), as the simulator's manual clock does; else at its ``--time-scale``.
    """

    variant = "firmware"

    def __init__(self, firmware: Firmware, link: VirtualLink, *, manual_clock: bool) -> None:
        self.firmware = firmware
        self.link = link
        self.manual_clock = manual_clock
        self.tap = AttTap(link, subject=self.address)

    @property
    def address(self) -> str:
        return str(self.firmware.ready["address"])

    @property
    def boot_id(self) -> int:
        return int(self.firmware.ready["boot_id"])

    @property
    def lines(self) -> list[Line]:
        return [line for line in self.firmware.lines if line["type"] in ("vibration", "event")]

    async def press(self, button: str, entry: int = 0) -> int:
        # The firmware's stdin takes one button a line; an entry from the menu as "start N".
        line = await self.firmware.press(button if entry == 0 else f"{button} {entry}")
        return int(line["code"])

    async def reboot(self) -> None:
        await self.firmware.restart()

    async def run_until(self, done: Done, *, within_ms: int, slice_ms: int = SLICE_MS) -> None:
        if not self.manual_clock:
            await self._wait(done, within_ms / 1000 / self.firmware.time_scale + MARGIN_S)
            return
        passed = 0
        while not done():
            assert passed < within_ms, f"not done within {within_ms} ms of watch time"
            await self._advance(slice_ms)
            passed += slice_ms

    async def elapse(self, ms: int) -> None:
        if self.manual_clock:
            await self._advance(ms)
        else:
            await asyncio.sleep(ms / 1000 / self.firmware.time_scale)

    async def wait_for(self, done: Done) -> None:
        await self._wait(done, MARGIN_S)

    async def _advance(self, ms: int) -> None:
        # Its lines of what happened on the way come before the answer to the step.
        line = await self.firmware.press(f"advance {ms}")
        assert line["code"] == 0, line

    async def _wait(self, done: Done, seconds: float) -> None:
        try:
            await self.firmware.wait_for(lambda _line: done(), seconds)
        except TimeoutError:
            raise AssertionError(f"not done within {seconds:g} s") from None

    async def close(self) -> None:
        self.tap.close()
        await self.firmware.stop()


StartTimerWatch = Callable[..., Awaitable[TimerWatch]]


async def found(link: VirtualLink, profiles: list[DeviceProfile], watch: TimerWatch) -> FoundWatch:
    """The watch, found by a scan for its address as the companion finds it."""
    return await find_watch(profiles, name_or_address=watch.address, hci=link, seconds=10)


@asynccontextmanager
async def connected(
    watch: TimerWatch,
    *,
    pair: bool = True,
    mtu: int | None = None,
    services: list[str] | None = TIMER_SERVICE_ONLY,
) -> AsyncIterator[BleakClient]:
    """A plain bleak client on the watch (paired and bonded unless ``pair=False``), which
    discovers only the timer service unless given ``services`` (``None``: all of them)."""
    client = make_client(watch.address, hci=watch.link, pair=pair, mtu=mtu, services=services)
    async with client:
        yield client


async def read_info(client: BleakClient) -> TimerInfo:
    return TimerInfo.from_bytes(bytes(await client.read_gatt_char(str(U.TIMER_INFO))))


async def timer_info(watch: TimerWatch) -> TimerInfo:
    """Timer Info as a client reads it (readable without encryption, §2.2)."""
    async with connected(watch, pair=False) as client:
        return await read_info(client)


async def skip_without_entries(watch: TimerWatch) -> None:
    """Skip unless the watch's Timer Info offers ENTRIES (0x10): the firmware gains it later."""
    features = (await timer_info(watch)).features
    if not features & Feature.ENTRIES:
        pytest.skip(
            f"the {watch.variant} watch's Timer Info lacks feature ENTRIES (0x10; it offers "
            f"{features:#06x}): no program format 2, START_ENTRY or reminders yet"
        )
