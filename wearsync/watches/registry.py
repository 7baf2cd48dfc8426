"""The one place that names the watch families.

Adding a family is one folder under ``wearsync/watches/``, one profile file under
``profiles/`` and one line in :data:`FAMILIES`. Everything else finds drivers, profile settings
and simulators through the functions here (the CLI, the daemon through its ``drivers``
argument, the tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from wearsync.ble.connection import FoundWatch
from wearsync.profiles import DeviceProfile, ProfileError
from wearsync.profiles import load_profiles as load_profile_files
from wearsync.sim.simulated import Simulator
from wearsync.sync.driver import Driver
from wearsync.watches import bangle, garmin_fit, host_timed, wearsync_timer
from wearsync.watches.family import WatchFamily

FAMILIES: Final[tuple[WatchFamily, ...]] = (
    wearsync_timer.FAMILY,
    bangle.FAMILY,
    host_timed.FAMILY,
    garmin_fit.FAMILY,
)

_BY_DRIVER: Final = {family.driver_name: family for family in FAMILIES}


class UnsupportedDriverError(ProfileError):
    """A profile names a driver this wearsync has no family for."""


def family_of(profile: DeviceProfile, source: str | None = None) -> WatchFamily:
    """The family whose driver ``profile`` names.

    Raises:
        UnsupportedDriverError: no family has that driver.
    """
    family = _BY_DRIVER.get(profile.driver.name)
    if family is None:
        known = ", ".join(sorted(_BY_DRIVER))
        raise UnsupportedDriverError(
            source or profile.id,
            f"unknown driver {profile.driver.name!r} (known drivers: {known})",
            field="driver.name",
        )
    return family


def driver_for(profile: DeviceProfile) -> Driver:
    """The driver of ``profile``, built from its validated ``[driver]`` settings.

    Raises:
        ProfileError: the driver is unknown or its settings are invalid.
    """
    return family_of(profile).driver_for(profile)


def watch_at(device: str, profiles: Sequence[DeviceProfile]) -> FoundWatch | None:
    """The watch a family reaches without a scan at ``device`` (a path, a stored address).

    ``None`` when no family knows it: the caller scans for it over Bluetooth.
    """
    for family in FAMILIES:
        own = [p for p in profiles if p.driver.name == family.driver_name]
        found = family.find_at(device) if family.find_at is not None and own else None
        if found is not None:
            address, name = found
            return FoundWatch.unscanned(address, name, own[0])
    return None


def load_profiles(directory: Path | str | None = None) -> list[DeviceProfile]:
    """Every profile of ``directory`` (default: the shipped ones), each checked by its family.

    Raises:
        ProfileError: a file is invalid, names an unknown driver or breaks its family's rules.
    """
    profiles = load_profile_files(directory)
    for profile in profiles:
        family_of(profile).driver_for(profile)
    return profiles


def simulators() -> dict[str, Simulator]:
    """Every simulated watch ``wearsync sim --watch`` can play, by name."""
    return {sim.name: sim for family in FAMILIES for sim in family.simulators}


__all__ = [
    "FAMILIES",
    "UnsupportedDriverError",
    "driver_for",
    "family_of",
    "load_profiles",
    "simulators",
    "watch_at",
]
