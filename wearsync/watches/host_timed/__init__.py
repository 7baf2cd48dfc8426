"""Host-timed watches (PineTime/InfiniTime, alert bands): the alert codec, the client, the
driver that fires each cue from the computer, and the simulated watches."""

from __future__ import annotations

from functools import partial
from typing import Any

from wearsync.profiles import DeviceProfile
from wearsync.sim.simulated import SimOptions, SimulatedWatch, Simulator
from wearsync.watches.family import WatchFamily
from wearsync.watches.host_timed.driver import HostTimedDriver, HostTimedSettings


def _check(profile: DeviceProfile, _settings: Any) -> None:
    if profile.limits.max_program_bytes is not None or profile.limits.event_log_size:
        raise ValueError(
            "limits: a host-timed device stores no program and no events; "
            "leave out max_program_bytes and event_log_size"
        )


async def _start(kind: str, options: SimOptions) -> SimulatedWatch:
    from wearsync.watches.host_timed.sim import start_for_cli

    return await start_for_cli(options, kind="band" if kind == "band" else "infinitime")


FAMILY = WatchFamily(
    driver_name=HostTimedDriver.name,
    settings=HostTimedSettings,
    make_driver=HostTimedDriver,
    simulators=(
        Simulator("infinitime", "a PineTime running InfiniTime", partial(_start, "infinitime")),
        Simulator("immediate-alert", "a band with only Immediate Alert", partial(_start, "band")),
    ),
    check_profile=_check,
)
