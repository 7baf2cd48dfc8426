"""Bangle.js (Espruino) watches over the Nordic UART Service: the line codec and runner, the
UART client, the driver and the simulated watch (Node.js running the uploaded JavaScript)."""

from __future__ import annotations

from typing import Any

from wearsync.profiles import DeviceProfile
from wearsync.sim.simulated import SimOptions, SimulatedWatch, Simulator
from wearsync.watches.bangle.driver import BangleDriver, EspruinoSettings
from wearsync.watches.family import WatchFamily


def _check(profile: DeviceProfile, _settings: Any) -> None:
    if profile.limits.max_program_bytes is None:
        raise ValueError("limits.max_program_bytes: required by driver espruino-uart")


async def _start(options: SimOptions) -> SimulatedWatch:
    from wearsync.watches.bangle.sim import start_for_cli

    return await start_for_cli(options)


FAMILY = WatchFamily(
    driver_name=BangleDriver.name,
    settings=EspruinoSettings,
    make_driver=BangleDriver,
    simulators=(Simulator("bangle-js-2", "a Bangle.js 2 running uploaded JavaScript", _start),),
    check_profile=_check,
)
