"""The shared central: one bumble ``Device`` per HCI transport, opened lazily.

bleak creates a scanner or client object per use, but a Bluetooth controller is a process-wide
resource: one HCI transport, one host stack, one address. :func:`get_central` therefore keeps
one :class:`BumbleCentral` per transport spec (and per event loop, because bumble objects are
bound to the loop they were made on). It also remembers what scanning learned, notably each
address's type (public or random), which bleak's string addresses do not carry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bumble import hci, pairing
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device
from bumble.host import Host
from bumble.keys import KeyStore, MemoryKeyStore
from bumble.transport import open_transport
from bumble.transport.common import Transport

from wearsync.ble.bumble_backend.exc import BumbleTransportError
from wearsync.ble.bumble_backend.gatt_cache import GattCache
from wearsync.ble.hci import (
    HciSpec,
    describe_hci_spec,
)

logger = logging.getLogger(__name__)

_NAME_TYPES = (
    AdvertisingData.Type.COMPLETE_LOCAL_NAME,
    AdvertisingData.Type.SHORTENED_LOCAL_NAME,
)


async def open_hci(hci_spec: HciSpec) -> Transport:
    """Open an HCI transport from a string spec or an in-process factory.

    Raises:
        BumbleTransportError: the transport could not be opened.
    """
    try:
        if isinstance(hci_spec, str):
            return await open_transport(hci_spec)
        return await hci_spec.open_hci_transport()
    except (OSError, ValueError) as exc:
        raise BumbleTransportError(describe_hci_spec(hci_spec), str(exc)) from exc


def just_works_pairing(_connection: Connection | None = None) -> pairing.PairingConfig:
    """LE Secure Connections, Just Works, with bonding.

    The identity address type is RANDOM because the devices here use random static
    addresses; with the default (public) the bond is filed under an address the peer never
    uses again and reconnections would not find their keys.
    """
    return pairing.PairingConfig(
        sc=True,
        mitm=False,
        bonding=True,
        identity_address_type=pairing.PairingConfig.AddressType.RANDOM,
        delegate=pairing.PairingDelegate(
            io_capability=pairing.PairingDelegate.IoCapability.NO_OUTPUT_NO_INPUT
        ),
    )


@dataclass
class SeenPeer:
    """What scanning learned about one advertiser.

    Attributes:
        address: the address with its type.
        name: the advertised local name, if any.
        advertisement: the latest advertisement.
    """

    address: hci.Address
    name: str | None
    advertisement: Advertisement


def address_key(address: hci.Address | str) -> str:
    """The upper-case ``AA:BB:CC:DD:EE:FF`` form used to index peers (no type suffix)."""
    if isinstance(address, hci.Address):
        return address.to_string(with_type_qualifier=False).upper()
    return address.split("/")[0].upper()


class BumbleCentral:
    """One host stack on one HCI transport, shared by every bleak object that uses it.

    Attributes:
        hci_spec: the transport spec it was opened with.
        device: the bumble device in the central role.
        peers: what scanning has learned, by address.
        connect_lock: serialises connection attempts (a controller initiates one at a time).
        connecting: set by the holder of ``connect_lock`` while it waits for a connection.
    """

    def __init__(
        self,
        hci_spec: HciSpec,
        transport: Transport,
        device: Device,
        gatt_cache: GattCache | None = None,
    ) -> None:
        self.hci_spec = hci_spec
        self.transport = transport
        self.device = device
        self.peers: dict[str, SeenPeer] = {}
        self.connect_lock = asyncio.Lock()
        #: GATT layouts of bonded peers by (address, service filter), checked against the
        #: peer's Database Hash before use (see the client's ``_discover``).
        self.gatt_cache = gatt_cache if gatt_cache is not None else GattCache()
        #: Bonded peers found to serve no Database Hash: not asked again.
        self.without_database_hash: set[tuple[str, tuple[str, ...]]] = set()
        self.connecting = False
        #: One entry per scanning user: whether it wants an active scan.
        self._scan_users: list[bool] = []
        #: How the controller scans now: None (not), True (active), False (passive).
        self._scanning: bool | None = None
        self._scan_lock = asyncio.Lock()
        self._closed = False
        self._background: set[asyncio.Future[None]] = set()
        device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        # bumble flushes when the transport is lost (e.g. the HCI server went away): it then
        # reports every connection as disconnected, and this central is beyond use.
        device.on(Device.EVENT_FLUSH, self._on_transport_lost)

    @classmethod
    async def open(
        cls,
        hci_spec: HciSpec,
        *,
        address: str | None = None,
        keystore: KeyStore | None = None,
        gatt_cache: GattCache | None = None,
    ) -> BumbleCentral:
        """Open the transport and power the controller on.

        Args:
            hci_spec: where the controller is.
            address: the random static address to use; a fresh one by default.
            keystore: where bonds are kept; in memory by default.
            gatt_cache: where bonded peers' GATT layouts are kept; in memory by default.

        Raises:
            BumbleTransportError: the transport or the controller failed.
        """
        transport = await open_hci(hci_spec)
        own_address = (
            hci.Address(address, hci.Address.RANDOM_DEVICE_ADDRESS)
            if address
            else hci.Address.generate_static_address()
        )
        device = Device(
            name="wearsync",
            address=own_address,
            host=Host(transport.source, transport.sink),
        )
        device.keystore = keystore or MemoryKeyStore()
        device.pairing_config_factory = just_works_pairing
        try:
            await asyncio.wait_for(device.power_on(), timeout=10.0)
        except Exception as exc:
            await transport.close()
            raise BumbleTransportError(describe_hci_spec(hci_spec), repr(exc)) from exc
        logger.debug("central %s up on %s", own_address, describe_hci_spec(hci_spec))
        return cls(hci_spec, transport, device, gatt_cache)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    # -- scanning -------------------------------------------------------------------------

    async def start_scanning(self, *, active: bool = True) -> None:
        """Start scanning unless another user already did (reference counted).

        The controller scans actively while any user wants scan responses, and passively
        (no SCAN_REQ on air) otherwise; a change of mode restarts the scan.
        """
        async with self._scan_lock:
            self._scan_users.append(active)
            await self._apply_scan_mode()

    async def stop_scanning(self, *, active: bool = True) -> None:
        """Stop one user's scan (started with the same ``active``); the last one stops it."""
        async with self._scan_lock:
            if active in self._scan_users:
                self._scan_users.remove(active)
            elif self._scan_users:
                self._scan_users.pop()
            else:
                return
            await self._apply_scan_mode()

    async def _apply_scan_mode(self) -> None:
        wanted = None if not self._scan_users else any(self._scan_users)
        if wanted == self._scanning or self._closed:
            return
        if self._scanning is not None:
            await self.device.stop_scanning()
        self._scanning = wanted
        if wanted is not None:
            await self.device.start_scanning(active=wanted, filter_duplicates=False)

    def on_advertisement(self, listener: Callable[[Advertisement], None]) -> Callable[[], None]:
        """Call ``listener`` for every advertisement; returns a function that unregisters it."""
        self.device.on(Device.EVENT_ADVERTISEMENT, listener)
        return lambda: self.device.remove_listener(Device.EVENT_ADVERTISEMENT, listener)

    async def find_peer(self, address: str, scan_seconds: float) -> SeenPeer | None:
        """Scan passively until ``address`` advertises, for at most ``scan_seconds`` (its
        address type is all a connection needs: no scan request is sent for it)."""
        key = address_key(address)
        found: asyncio.Future[SeenPeer] = asyncio.get_running_loop().create_future()

        def listener(advertisement: Advertisement) -> None:
            if address_key(advertisement.address) == key and not found.done():
                found.set_result(self.peers[key])

        unregister = self.on_advertisement(listener)
        await self.start_scanning(active=False)
        try:
            return await asyncio.wait_for(found, scan_seconds)
        except TimeoutError:
            return None
        finally:
            unregister()
            await self.stop_scanning(active=False)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        names = [
            value.decode("utf-8", "replace")
            for ad_type, value in advertisement.data.ad_structures
            if ad_type in _NAME_TYPES
        ]
        key = address_key(advertisement.address)
        previous = self.peers.get(key)
        name = names[0] if names else (previous.name if previous else None)
        self.peers[key] = SeenPeer(advertisement.address, name, advertisement)

    # -- connections ----------------------------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        # A connection that completes when nobody is connecting any more (a cancel that
        # lost the race with the connection) would otherwise linger as a zombie. bumble's own
        # is_le_connecting is set only after the command status returns, too late to tell.
        if connection.role == hci.Role.CENTRAL and not self.connecting:
            logger.warning("dropping unexpected connection to %s", connection.peer_address)
            task = asyncio.ensure_future(self._drop(connection))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    @staticmethod
    async def _drop(connection: Connection) -> None:
        with contextlib.suppress(Exception):
            await connection.disconnect()

    # -- lifecycle ------------------------------------------------------------------------

    def _on_transport_lost(self) -> None:
        logger.warning("HCI transport %s lost", describe_hci_spec(self.hci_spec))
        self._closed = True

    async def close(self) -> None:
        """Disconnect every link and close the transport."""
        if self._closed:
            return
        self._closed = True
        for connection in list(self.device.connections.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.disconnect(), timeout=1.0)
        with contextlib.suppress(Exception):
            await self.transport.close()


_registries: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[object, asyncio.Task[BumbleCentral]]
] = weakref.WeakKeyDictionary()


def _registry() -> dict[object, asyncio.Task[BumbleCentral]]:
    loop = asyncio.get_running_loop()
    registry = _registries.get(loop)
    if registry is None:
        registry = _registries[loop] = {}
    return registry


def _key(hci_spec: HciSpec) -> object:
    return hci_spec if isinstance(hci_spec, str) else id(hci_spec)


def _usable(task: asyncio.Task[BumbleCentral]) -> bool:
    return not task.cancelled() and task.exception() is None and not task.result().closed


def _identity(hci_spec: HciSpec) -> tuple[str | None, KeyStore | None, GattCache | None]:
    """A lasting address, bond store and GATT cache for a transport other processes share.

    A companion must come back as the same device with the same keys, or every run would pair
    anew: for a named transport (``tcp-client:``, ``usb:``) the central's random static address,
    its bonds and its bonded peers' GATT layouts are kept in the data directory
    (``central.json``, ``bonds.json``, ``gatt_cache.json``). An in-process link is a test's:
    it keeps them in memory.
    """
    if not isinstance(hci_spec, str):
        return None, None, None
    from wearsync.paths import data_dir, private_dir, tighten, write_private_text

    folder = private_dir(data_dir())
    identity = folder / "central.json"
    tighten(identity)
    address: str | None = None
    try:
        address = str(json.loads(identity.read_text())["address"])
    except (OSError, ValueError, KeyError, TypeError):
        address = hci.Address.generate_static_address().to_string(with_type_qualifier=False)
        write_private_text(identity, json.dumps({"address": address}))
    return (
        address,
        _private_key_store(address, folder / "bonds.json"),
        GattCache(folder / "gatt_cache.json"),
    )


def _private_key_store(namespace: str, path: Path) -> KeyStore:
    """bumble's JSON bond store, writing its file owner-only (it holds long-term keys).

    bumble writes the file with the process umask (usually 0644); the subclass replaces only
    how the file is written.
    """
    from bumble.keys import JsonKeyStore

    from wearsync.paths import tighten, write_private_text

    class PrivateJsonKeyStore(JsonKeyStore):
        async def save(self, db: dict[str, dict[str, dict[str, Any]]]) -> None:
            write_private_text(path, json.dumps(db, sort_keys=True, indent=4))

    tighten(path)
    store: KeyStore = PrivateJsonKeyStore(namespace=namespace, filename=str(path))
    return store


async def get_central(hci_spec: HciSpec) -> BumbleCentral:
    """The shared central for ``hci_spec`` in this event loop, opened on first use.

    Raises:
        BumbleTransportError: the transport could not be opened.
    """
    registry = _registry()
    key = _key(hci_spec)
    task = registry.get(key)
    if task is not None and task.done() and not _usable(task):
        task = None
    if task is None:
        address, keystore, gatt_cache = _identity(hci_spec)
        task = asyncio.ensure_future(
            BumbleCentral.open(hci_spec, address=address, keystore=keystore, gatt_cache=gatt_cache)
        )
        registry[key] = task
    try:
        return await asyncio.shield(task)
    except BumbleTransportError:
        registry.pop(key, None)
        raise


async def close_central(hci_spec: HciSpec) -> None:
    """Close the shared central for ``hci_spec``, if one is open in this loop."""
    task = _registry().pop(_key(hci_spec), None)
    if task is None:
        return
    with contextlib.suppress(Exception):
        central = await task
        await central.close()


async def close_centrals() -> None:
    """Close every shared central of this event loop (e.g. at the end of a test)."""
    registry = _registry()
    tasks = list(registry.values())
    registry.clear()
    for task in tasks:
        with contextlib.suppress(Exception):
            central = await task
            await central.close()
