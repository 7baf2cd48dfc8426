"""Connection policy in one place: scanning by profile, connecting with retries, pairing.

Connecting goes through bleak-retry-connector's ``establish_connection`` (retries with backoff,
typed errors with advice), with our backend choice passed through to ``BleakClient``. A lock
per address keeps two tasks of one process from connecting to the same watch at once; two
*processes* are kept apart by the sync layer's lock file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from wearsync.ble.errors import DeviceNotFoundError, ble_errors
from wearsync.ble.factory import make_scanner, resolve_hci
from wearsync.profiles import DeviceProfile, match_profile

if TYPE_CHECKING:
    from bleak import BleakClient
    from bleak.backends.device import BLEDevice

    from wearsync.ble.hci import HciSpec

log = logging.getLogger(__name__)

DEFAULT_CONNECT_ATTEMPTS: Final = 3
_locks: dict[str, asyncio.Lock] = {}


@dataclass(frozen=True)
class FoundWatch:
    """A wearable seen in a scan that matches a device profile.

    Attributes:
        device: bleak's device handle (carries the backend's address details).
        name: the advertised local name ('' if none).
        rssi: signal strength of the last advertisement, dBm.
        profile: the matching profile.
        manufacturer_data: the Manufacturer Specific Data it advertised, by company id.
    """

    device: BLEDevice
    name: str
    rssi: int
    profile: DeviceProfile
    manufacturer_data: Mapping[int, bytes] = field(default_factory=dict, compare=False)

    @property
    def address(self) -> str:
        """The device address."""
        return str(self.device.address)

    @classmethod
    def unscanned(cls, address: str, name: str, profile: DeviceProfile) -> FoundWatch:
        """A watch reached without a scan (a Garmin watch's folder): no radio details."""
        from bleak.backends.device import BLEDevice

        return cls(BLEDevice(address, name, None), name, 0, profile)


async def scan(
    profiles: Iterable[DeviceProfile],
    *,
    hci: HciSpec | None = None,
    seconds: float = 5.0,
    want: Callable[[FoundWatch], bool] | None = None,
) -> list[FoundWatch]:
    """Scan actively for ``seconds`` and return the devices matching a profile, strongest
    first (active: a profile may match on the name, which a watch sends in its scan response).

    With ``want``, stop as soon as a matching device satisfies it.
    """
    known = list(profiles)
    found: dict[str, FoundWatch] = {}
    scanner = make_scanner(hci=hci, scanning_mode="active")
    with ble_errors(operation="scan"):
        async with scanner:
            try:
                async with asyncio.timeout(seconds):
                    async for device, data in scanner.advertisement_data():
                        profile = match_profile(data.local_name, data.service_uuids, known)
                        if profile is None:
                            continue
                        watch = FoundWatch(
                            device,
                            data.local_name or "",
                            data.rssi,
                            profile,
                            dict(data.manufacturer_data),
                        )
                        found[watch.address] = watch
                        if want is not None and want(watch):
                            break
            except TimeoutError:
                pass
    return sorted(found.values(), key=lambda w: -w.rssi)


async def find_watch(
    profiles: Iterable[DeviceProfile],
    *,
    name_or_address: str | None = None,
    hci: HciSpec | None = None,
    seconds: float = 10.0,
) -> FoundWatch:
    """The first watch that matches a profile (and ``name_or_address`` if given).

    Raises:
        DeviceNotFoundError: none advertised within ``seconds``.
    """

    def wanted(watch: FoundWatch) -> bool:
        if name_or_address is None:
            return True
        return name_or_address.upper() in (watch.address.upper(), watch.name.upper())

    for watch in await scan(profiles, hci=hci, seconds=seconds, want=wanted):
        if wanted(watch):
            return watch
    target = f"'{name_or_address}'" if name_or_address else "a compatible watch"
    raise DeviceNotFoundError(
        f"{target} not found within {seconds:g} s of scanning", address=name_or_address
    )


async def find_known_watch(
    address: str,
    profile: DeviceProfile,
    *,
    name: str = "",
    hci: HciSpec | None = None,
    seconds: float = 10.0,
) -> FoundWatch:
    """Listen passively until the watch at ``address`` advertises; no scan request is sent.

    A passive scan sees only the advertising data (the flags, the service UUIDs, the state
    beacon), not the scan response where a watch puts its name, so the watch is recognised by
    its address alone and keeps the ``profile`` (and ``name``) it was remembered with. Where
    the platform cannot scan passively (CoreBluetooth) the scan is active
    (:func:`~wearsync.ble.factory.make_scanner`).

    Raises:
        DeviceNotFoundError: it did not advertise within ``seconds``.
    """
    wanted = address.upper()
    scanner = make_scanner(hci=hci, scanning_mode="passive")
    with ble_errors(address=address, operation="scan"):
        async with scanner:
            try:
                async with asyncio.timeout(seconds):
                    async for device, data in scanner.advertisement_data():
                        if str(device.address).upper() == wanted:
                            return FoundWatch(
                                device,
                                name or data.local_name or "",
                                data.rssi,
                                profile,
                                dict(data.manufacturer_data),
                            )
            except TimeoutError:
                pass
    raise DeviceNotFoundError(
        f"'{name or address}' not found within {seconds:g} s of listening", address=address
    )


@asynccontextmanager
async def connect(
    watch: FoundWatch,
    *,
    hci: HciSpec | None = None,
    pair: bool = False,
    attempts: int = DEFAULT_CONNECT_ATTEMPTS,
    disconnected: Callable[[], None] | None = None,
) -> AsyncIterator[BleakClient]:
    """Connect (with retries and backoff), optionally pairing, and disconnect on exit.

    Raises:
        BleError: the watch could not be reached after ``attempts`` tries (typed, with a hint).
    """
    from bleak import BleakClient
    from bleak_retry_connector import establish_connection

    spec = resolve_hci(hci)
    extra: dict[str, Any] = {}
    if spec is not None:
        from wearsync.ble.bumble_backend import BumbleBleakClient

        extra = {
            "backend": BumbleBleakClient,
            "hci": spec,
            "mtu": watch.profile.limits.preferred_mtu,
        }

    def on_disconnect(_client: BleakClient) -> None:
        if disconnected is not None:
            disconnected()

    lock = _locks.setdefault(watch.address.upper(), asyncio.Lock())
    async with lock:
        with ble_errors(address=watch.address, operation="connect"):
            client = await establish_connection(
                BleakClient,
                watch.device,
                watch.name or watch.address,
                disconnected_callback=on_disconnect,
                max_attempts=attempts,
                pair=pair,
                **extra,
            )
        try:
            yield client
        finally:
            try:
                with ble_errors(address=watch.address, operation="disconnect"):
                    await client.disconnect()
            except Exception as exc:  # the link may already be gone; nothing to undo
                log.debug("disconnect from %s: %s", watch.address, exc)


async def bond_ltk(address: str, *, hci: HciSpec | None = None) -> bytes | None:
    """The long-term key of our bond with ``address``, or ``None`` without one.

    Only our bumble backend (an HCI transport) exposes its keys; bleak's platform backends keep
    them in the operating system (BlueZ's /var/lib/bluetooth, CoreBluetooth, WinRT), out of
    reach, so with them this is always ``None``.
    """
    spec = resolve_hci(hci)
    if spec is None:
        return None
    from wearsync.ble.bumble_backend.central import get_central

    with ble_errors(address=address, operation="read bond"):
        central = await get_central(spec)
        keystore = central.device.keystore
        if keystore is None:
            return None
        wanted = address.upper()
        for name, keys in await keystore.get_all():
            if name.split("/")[0].upper() == wanted and keys.ltk is not None:
                return bytes(keys.ltk.value)
    return None


async def pair(client: BleakClient, *, address: str) -> None:
    """Pair (and bond) on an open connection."""
    with ble_errors(address=address, operation="pair"):
        await client.pair()
