"""One timer watch, two implementations: the tests here run against each.

``timer_watch`` (and ``start_timer_watch``, to choose its speed or features) is parametrized
over ``sim`` (the Python simulated watch, ``wearsync/watches/wearsync_timer/sim/``, on bumble in
this process) and ``firmware`` (the reference firmware in C on NimBLE, ``firmware/``, the
sanitized build run as a process joining the same virtual link over TCP HCI). Both are reached
only as a client reaches a watch, plus what a test bench has beside the radio, behind
:class:`TimerWatch`:

* ``address``, ``link`` and an :class:`~wearsync.sim.att_tap.AttTap` on what crossed the air;
* ``lines``: the motor's cues and the event log as the JSON lines ``wearsync sim --json``
  prints (the firmware prints the same shape on its stdout);
* :meth:`TimerWatch.press` for the watch's own buttons, :meth:`TimerWatch.reboot` for a
  power cycle that keeps the flash;
* :meth:`TimerWatch.run_until` for watch time to pass until something happened.

Time: the simulator runs on a :class:`~wearsync.sim.clock.ManualClock` that only moves in
``run_until`` (or at ``time_scale`` times real time with ``manual_clock=False``, as a sync test
asks so that the watch's clock keeps up with ours); the firmware runs at ``time_scale`` times
real time and ``run_until`` waits for its lines. Either way everything due is processed at its due
time, so session times, positions and UTC stamps are exact and the same on both; no assertion
is about how long anything took.

The firmware variant skips, saying why, where the firmware cannot be built
(``tests/firmware/build.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.firmware.conftest import Firmware
from tests.watches.wearsync_timer.both.watch import (
    VARIANTS,
    FirmwareTimerWatch,
    Lines,
    SimTimerWatch,
    StartTimerWatch,
    TimerWatch,
)
from wearsync.sim.clock import ManualClock, SimClock
from wearsync.sim.hci_server import HciServer
from wearsync.sim.link import VirtualLink
from wearsync.watches.wearsync_timer.codec import Feature
from wearsync.watches.wearsync_timer.sim.cli import event_line, vibration_line
from wearsync.watches.wearsync_timer.sim.watch import ALL_FEATURES, ENTRY_FEATURES, SimWatch


@pytest.fixture(params=VARIANTS)
def variant(request: pytest.FixtureRequest) -> str:
    """Which watch: ``sim`` or ``firmware``."""
    return str(request.param)


@pytest.fixture
async def start_timer_watch(
    variant: str, link: VirtualLink, tmp_path: Path
) -> AsyncIterator[StartTimerWatch]:
    """Start the variant's watch; all are switched off at the end.

    Keyword arguments of the start function:
        time_scale: watch time per real time for the firmware (1 by default), and for the
            simulator too with ``manual_clock=False``.
        manual_clock: the simulator's clock moves only in ``run_until`` (the default); else it
            runs at ``time_scale``, as a sync test wants so that the watch's clock keeps up
            with ours.
        entries: offer feature ENTRIES. Without it both offer the features of revision 1
            (``ALL_FEATURES``); with it the simulator offers them and ENTRIES, the firmware
            everything it implements (a test reads from Timer Info whether that has ENTRIES).
        features: a feature mask instead (table 3-1), on both.
        flash: the flash directory's name under the test's tmp_path.
    """
    started: list[TimerWatch] = []
    servers: list[HciServer] = []

    async def start(
        *,
        time_scale: float = 1.0,
        manual_clock: bool = True,
        entries: bool = False,
        features: int | None = None,
        flash: str = "flash",
    ) -> TimerWatch:
        directory = tmp_path / f"{variant}-{flash}"
        watch: TimerWatch
        if variant == "sim":
            lines = Lines()
            clock = ManualClock() if manual_clock else SimClock(time_scale)
            if features is not None:
                mask = Feature(features)
            else:
                mask = ENTRY_FEATURES if entries else ALL_FEATURES
            sim = await SimWatch.start(
                link,
                flash_dir=directory,
                clock=clock,
                features=mask,
                on_vibration=lambda v: lines.add(vibration_line(v)),
                on_event=lambda e: lines.add(event_line(e)),
            )
            watch = SimTimerWatch(sim, clock, lines)
        else:
            if not servers:
                server = HciServer(link, 0)
                await server.start()
                servers.append(server)
            if features is None and not entries:
                # The revision-1 feature set the simulator offers by default: without ENTRIES
                # both take the same format-1 program.
                features = int(ALL_FEATURES)
            firmware = Firmware(
                servers[0].port,
                directory,
                time_scale=time_scale,
                features=features,
            )
            await firmware.start()
            watch = FirmwareTimerWatch(firmware, link)
        started.append(watch)
        return watch

    yield start
    for watch in reversed(started):
        await watch.close()
    for server in servers:
        await server.close()


@pytest.fixture
async def timer_watch(start_timer_watch: StartTimerWatch) -> TimerWatch:
    """The variant's watch with its defaults: a manual clock (sim) or real time (firmware)."""
    return await start_timer_watch()
