"""Watches with the WearSync Interval Timer Service (docs/protocol.md): the codec, the GATT
client, the driver and the simulated watch."""

from __future__ import annotations

from typing import Any

from wearsync.profiles import DeviceProfile
from wearsync.sim.simulated import SimOptions, SimulatedWatch, Simulator
from wearsync.watches.family import WatchFamily
from wearsync.watches.wearsync_timer.driver import TimerDriver, TimerSettings


def _check(profile: DeviceProfile, _settings: Any) -> None:
    if profile.limits.max_program_bytes is None:
        raise ValueError("limits.max_program_bytes: required by driver wearsync-timer")
    if profile.security.bonding != "required":
        raise ValueError(
            "security.bonding: the wearsync-timer service needs an encrypted link; "
            "set it to 'required'"
        )


async def _start(options: SimOptions) -> SimulatedWatch:
    from wearsync.watches.wearsync_timer.sim.cli import start_for_cli

    return await start_for_cli(options)


async def _start_firmware(options: SimOptions) -> SimulatedWatch:
    from wearsync.watches.wearsync_timer.firmware import start_firmware

    return await start_firmware(options)


FAMILY = WatchFamily(
    driver_name=TimerDriver.name,
    settings=TimerSettings,
    make_driver=TimerDriver,
    simulators=(
        Simulator(
            "wearsync-timer",
            "the WearSync timer service on our Python simulated watch",
            _start,
        ),
        Simulator(
            "nimble",
            "the reference firmware in C on Apache NimBLE (built in firmware/)",
            _start_firmware,
        ),
    ),
    check_profile=_check,
)
