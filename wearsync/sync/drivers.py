"""Which sync and session code serves a device profile's driver.

The CLI never names a driver: it finds the watch, reads ``watch.profile.driver.name`` and calls
:func:`sync_any` / :func:`session_any`. A new driver adds its functions here.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from wearsync.ble.connection import FoundWatch, find_watch
from wearsync.errors import WearSyncError
from wearsync.profiles import DeviceProfile
from wearsync.store import Store

if TYPE_CHECKING:
    from wearsync.ble.bumble_backend.central import HciSpec

#: driver name -> ("module:sync function", "module:session function")
DRIVERS: Final[dict[str, tuple[str, str]]] = {
    "wearsync-timer": (
        "wearsync.watches.wearsync_timer.driver:sync_watch",
        "wearsync.watches.wearsync_timer.live:run_session",
    ),
    "espruino-uart": (
        "wearsync.watches.bangle.driver:sync_espruino",
        "wearsync.watches.bangle.driver:run_espruino_session",
    ),
    "host-timed": (
        "wearsync.watches.host_timed.driver:sync_host_timed",
        "wearsync.watches.host_timed.driver:run_host_timed_session",
    ),
}


class UnsupportedDriverError(WearSyncError):
    """A profile names a driver this wearsync cannot drive yet."""


async def locate_watch(
    store: Store,
    profiles: Sequence[DeviceProfile],
    *,
    device: str | None,
    hci: HciSpec | None,
    seconds: float,
    progress: Callable[[str], None] | None = None,
) -> FoundWatch:
    """Find ``device`` (name or address), else the watch synced last, else any compatible one.

    Raises:
        DeviceNotFoundError: it did not advertise within ``seconds``.
    """
    target = device
    if target is None and (known := store.devices()):
        target = known[0].address
    if progress is not None:
        progress(f"looking for {target or 'a compatible watch'}")
    return await find_watch(profiles, name_or_address=target, hci=hci, seconds=seconds)


def _resolve(driver: str, which: int) -> Callable[..., Awaitable[Any]]:
    if driver not in DRIVERS:
        raise UnsupportedDriverError(
            f"driver {driver!r} is not supported by this wearsync",
            hint=f"supported drivers: {', '.join(sorted(DRIVERS))}",
        )
    module_name, _, name = DRIVERS[driver][which].partition(":")
    function: Callable[..., Awaitable[Any]] = getattr(importlib.import_module(module_name), name)
    return function


def sync_function(driver: str) -> Callable[..., Awaitable[Any]]:
    """The sync coroutine function for ``driver``: ``(store=, routine=, routine_text=, watch=,
    hci=, progress=) -> SyncReport``."""
    return _resolve(driver, 0)


def session_function(driver: str) -> Callable[..., Awaitable[Any]]:
    """The live-session coroutine function for ``driver``: ``(store=, routine=, routine_text=,
    watch=, hci=, progress=, start=, on_update=, speed=) -> SessionReport``."""
    return _resolve(driver, 1)
