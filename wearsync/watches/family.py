"""What a watch family declares to the registry: its driver, its profile settings, its
simulators.

Each family's ``__init__`` defines one ``FAMILY = WatchFamily(...)``; the registry
(:mod:`wearsync.watches.registry`) lists them. Families import this module (a plain record type)
but never the registry, nor each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wearsync.profiles import DeviceProfile, DriverSettings, ProfileError, driver_settings
from wearsync.sim.simulated import Simulator
from wearsync.sync.driver import Driver


@dataclass(frozen=True)
class WatchFamily:
    """One family of watches.

    Attributes:
        driver_name: the ``[driver] name`` its profiles give.
        settings: the model of its profiles' ``[driver]`` table.
        make_driver: builds the driver from a profile's validated settings.
        simulators: the simulated watches ``wearsync sim --watch`` can play.
        check_profile: extra rules a profile of this family must follow (e.g. "a host-timed
            watch stores no program"); raises :class:`ValueError` with the problem.
        find_at: for families reached without a radio (a Garmin watch's folder): the
            ``(address, name)`` of the watch at a ``--device`` path or stored address, or
            ``None`` when it is not one of theirs.
    """

    driver_name: str
    settings: type[DriverSettings]
    make_driver: Callable[[Any], Driver]
    simulators: tuple[Simulator, ...] = ()
    check_profile: Callable[[DeviceProfile, Any], None] | None = None
    find_at: Callable[[str], tuple[str, str] | None] | None = None

    def driver_for(self, profile: DeviceProfile, source: str | None = None) -> Driver:
        """The driver of ``profile`` (its ``[driver]`` table validated by this family).

        Raises:
            ProfileError: the table or the profile breaks this family's rules.
        """
        settings = driver_settings(profile, self.settings, source)
        if self.check_profile is not None:
            try:
                self.check_profile(profile, settings)
            except ValueError as exc:
                raise ProfileError(source or profile.id, str(exc)) from exc
        return self.make_driver(settings)
