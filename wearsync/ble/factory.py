"""The one place that chooses a Bluetooth backend and makes bleak objects.

Order of choice: the ``hci`` argument, else ``$WEARSYNC_HCI``, else bleak's platform backend
(BlueZ, CoreBluetooth, WinRT) for a real watch on the computer's own adapter. With an HCI
transport, the bumble backend is used, so the same plain bleak code runs against the
simulator (``tcp-client:127.0.0.1:PORT`` or an in-process ``VirtualLink``) or a USB dongle
(``usb:0``).

bleak and bumble are imported on first use so that importing :mod:`wearsync.ble` stays cheap.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from wearsync.ble.errors import DeviceNotFoundError, ble_errors
from wearsync.ble.hci import HCI_ENV_VAR

if TYPE_CHECKING:
    from bleak import BleakClient, BleakScanner
    from bleak.backends.device import BLEDevice
    from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback

    from wearsync.ble.hci import HciSpec

log = logging.getLogger(__name__)

#: Environment variable naming the HCI transport (same as the backend's).


def resolve_hci(hci: HciSpec | None = None) -> HciSpec | None:
    """The HCI transport to use: ``hci``, else ``$WEARSYNC_HCI``, else ``None`` (platform).

    An empty ``$WEARSYNC_HCI`` counts as unset.
    """
    if hci is not None:
        return hci
    return os.environ.get(HCI_ENV_VAR) or None


def make_scanner(
    *,
    hci: HciSpec | None = None,
    detection_callback: AdvertisementDataCallback | None = None,
    service_uuids: Iterable[str] | None = None,
    scanning_mode: Literal["active", "passive"] = "active",
) -> BleakScanner:
    """Make a :class:`bleak.BleakScanner` on the chosen backend.

    Args:
        hci: HCI transport for the bumble backend; see :func:`resolve_hci`.
        detection_callback: called with ``(BLEDevice, AdvertisementData)`` per advertisement.
        service_uuids: only report devices advertising one of these services.
        scanning_mode: ``"active"`` or ``"passive"`` (no scan requests: only the advertising
            data is seen, never a scan response). On bleak's platform backends passive needs
            platform options (:func:`passive_platform_options`); where the platform cannot
            scan passively (CoreBluetooth) the scan is active instead.
    """
    from bleak import BleakScanner

    uuids = list(service_uuids) if service_uuids is not None else None
    spec = resolve_hci(hci)
    if spec is None:
        extra: dict[str, Any] = {}
        if scanning_mode == "passive":
            options = passive_platform_options(sys.platform)
            if options is None:
                log.info("this platform cannot scan passively: scanning actively")
                scanning_mode = "active"
            else:
                extra = options
        return BleakScanner(detection_callback, uuids, scanning_mode, **extra)
    from wearsync.ble.bumble_backend import BumbleBleakScanner

    return BleakScanner(
        detection_callback, uuids, scanning_mode, backend=BumbleBleakScanner, hci=spec
    )


#: Flags AD values a discoverable LE device advertises (general or limited discoverable, with
#: or without "BR/EDR not supported"): the BlueZ advertisement monitor patterns that let a
#: passive scan report any such device (Core Supplement Part A, 1.3).
_DISCOVERABLE_FLAGS = (0x01, 0x02, 0x05, 0x06)


def passive_platform_options(platform: str) -> dict[str, Any] | None:
    """What bleak's platform backend needs to scan passively, or ``None`` if it cannot.

    - BlueZ (``linux``) scans passively only through an advertisement monitor, which needs
      ``or_patterns`` (bleak raises otherwise): one pattern per discoverable Flags value.
    - CoreBluetooth (``darwin``) has no passive scanning (bleak raises): ``None``.
    - WinRT and Android take ``scanning_mode="passive"`` as it is: no options.
    """
    if platform == "darwin":
        return None
    if not platform.startswith("linux"):
        return {}
    from bleak.args.bluez import OrPattern
    from bleak.assigned_numbers import AdvertisementDataType

    patterns = [OrPattern(0, AdvertisementDataType.FLAGS, bytes([f])) for f in _DISCOVERABLE_FLAGS]
    return {"bluez": {"or_patterns": patterns}}


def make_client(
    device: BLEDevice | str,
    *,
    hci: HciSpec | None = None,
    disconnected_callback: Callable[[BleakClient], None] | None = None,
    timeout: float = 10.0,
    pair: bool = False,
    services: Iterable[str] | None = None,
    mtu: int | None = None,
    address_type: Literal["public", "random"] | None = None,
) -> BleakClient:
    """Make a :class:`bleak.BleakClient` on the chosen backend (not connected yet).

    Args:
        device: a ``BLEDevice`` from a scanner made here, or an address.
        hci: HCI transport for the bumble backend; see :func:`resolve_hci`.
        disconnected_callback: called with the client whenever the link goes down.
        timeout: connect timeout in seconds.
        pair: pair (and bond) while connecting.
        services: only discover these service UUIDs.
        mtu: ATT MTU to request (bumble backend only; platform stacks negotiate their own).
        address_type: ``"public"`` or ``"random"`` to connect to an address string without
            scanning first (bumble backend only).
    """
    from bleak import BleakClient

    spec = resolve_hci(hci)
    extra: dict[str, Any] = {}
    if spec is not None:
        from wearsync.ble.bumble_backend import BumbleBleakClient

        extra = {"backend": BumbleBleakClient, "hci": spec, "address_type": address_type}
        if mtu is not None:
            extra["mtu"] = mtu
    return BleakClient(
        device,
        disconnected_callback,
        list(services) if services is not None else None,
        timeout=timeout,
        pair=pair,
        **extra,
    )


async def find_device(
    *,
    name: str | None = None,
    address: str | None = None,
    service_uuid: str | None = None,
    hci: HciSpec | None = None,
    scan_seconds: float = 10.0,
) -> BLEDevice:
    """Scan until a device matching every given criterion advertises.

    Args:
        name: advertised local name.
        address: device address (case-insensitive).
        service_uuid: a service UUID the device advertises.
        hci: HCI transport for the bumble backend; see :func:`resolve_hci`.
        scan_seconds: how long to scan at most.

    Raises:
        DeviceNotFoundError: nothing matched within ``scan_seconds``.
        BleError: the scan itself failed (e.g. no Bluetooth).
    """
    from bleak.uuids import normalize_uuid_str

    wanted_uuid = normalize_uuid_str(service_uuid) if service_uuid else None
    wanted_address = address.upper() if address else None

    def matches(device: BLEDevice, data: AdvertisementData) -> bool:
        return (
            (name is None or data.local_name == name)
            and (wanted_address is None or device.address.upper() == wanted_address)
            and (wanted_uuid is None or wanted_uuid in data.service_uuids)
        )

    scanner = make_scanner(hci=hci, service_uuids=[wanted_uuid] if wanted_uuid else None)
    with ble_errors(address=address, operation="scan"):
        async with scanner:
            try:
                async with asyncio.timeout(scan_seconds):
                    async for device, data in scanner.advertisement_data():
                        if matches(device, data):
                            return device
            except TimeoutError:
                pass
    wanted = name or address or service_uuid or "any device"
    raise DeviceNotFoundError(f"{wanted} not found within {scan_seconds:g} s", address=address)
