"""Garmin watches: the routine goes out as a FIT workout file, what was done comes back as FIT
activity files, through a folder (docs/garmin.md).

- :mod:`.workout` plans the FIT Workout Step messages of a :class:`TimerProgram` (names, the
  intensity table, repeats) and replays them; pure, no FIT library.
- :mod:`.codec` writes the workout file with fit-tool; pure, no I/O.
- :mod:`.activity` reads an activity file back into stored events; pure, no I/O.
- :mod:`.folder` is the watch as a folder (USB ``GARMIN/NewFiles`` and ``GARMIN/Activity``,
  or any folder): atomic writes, activity files peeked at and read once.
- :mod:`.exchange` is one sync with such a folder, against the store; :mod:`.driver` puts it
  behind the driver interface; :mod:`.sim` is a simulated watch (a folder that runs workouts).

fit-tool is imported only inside the functions that need it, so importing this package costs
nothing at CLI start-up.
"""

from __future__ import annotations

from wearsync.sim.simulated import SimOptions, SimulatedWatch, Simulator
from wearsync.watches.family import WatchFamily
from wearsync.watches.garmin_fit.driver import GarminFitDriver, GarminFitSettings, find_at


async def _start(options: SimOptions) -> SimulatedWatch:
    from wearsync.watches.garmin_fit.sim import start_for_cli

    return await start_for_cli(options)


FAMILY = WatchFamily(
    driver_name=GarminFitDriver.name,
    settings=GarminFitSettings,
    make_driver=GarminFitDriver,
    simulators=(Simulator("garmin-fit", "a Garmin watch's USB drive that runs workouts", _start),),
    find_at=find_at,
)
