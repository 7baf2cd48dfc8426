"""One timer watch, two implementations: the tests here run against each.

``timer_watch`` (and ``start_timer_watch``, to choose its clock or features) is parametrized
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

Time: by default both watches are on a manual clock that moves only in ``run_until`` and
``elapse``: the simulator's :class:`~wearsync.sim.clock.ManualClock`, and for the firmware its
test interface's ``advance MS`` (with the process at its slowest time scale, so the real time
a test spends over the air is next to no watch time). Each runs everything due on the way at
its own due time, so session times, positions and UTC stamps are exact and the same on both.
With ``manual_clock=False`` both run at ``time_scale`` times real time instead, as a sync test
asks so that the watch's clock keeps up with ours. No assertion is about how long anything
took.

The firmware variant skips, saying why, where the firmware cannot be built
(``tests/firmware/build.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.firmware.conftest import Firmware
from tests.watches.wearsync_timer.both.watch import (
    FROZEN_TIME_SCALE,
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
        manual_clock: watch time moves only in ``run_until`` and ``elapse`` (the default).
        time_scale: without a manual clock, watch time per real time (1 by default).
        entries: offer feature ENTRIES. Without it both offer the features of revision 1
            (``ALL_FEATURES``); with it the simulator offers them and ENTRIES, the firmware
            everything it implements (a test reads from Timer Info whether that has ENTRIES).
        features: a feature mask instead (table 3-1), on both.
    """
    started: list[TimerWatch] = []
    servers: list[HciServer] = []

    async def start(
        *,
        time_scale: float = 1.0,
        manual_clock: bool = True,
        entries: bool = False,
        features: int | None = None,
    ) -> TimerWatch:
        directory = tmp_path / f"{variant}-flash-{len(started)}"
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
                time_scale=FROZEN_TIME_SCALE if manual_clock else time_scale,
                features=features,
            )
            await firmware.start()
            watch = FirmwareTimerWatch(firmware, link, manual_clock=manual_clock)
        started.append(watch)
        return watch

    yield start
    for watch in reversed(started):
        await watch.close()
    for server in servers:
        await server.close()


@pytest.fixture
async def timer_watch(start_timer_watch: StartTimerWatch) -> TimerWatch:
    """The variant's watch with its defaults: revision 1's features, on a manual clock."""
    return await start_timer_watch()
