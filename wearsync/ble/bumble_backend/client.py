"""``BumbleBleakClient``: bleak's client interface over a bumble central.

Every GATT call runs against the peer over real ATT, and every bumble failure is turned into
the bleak exception a bleak user expects: ATT error responses become
:class:`bleak.exc.BleakGATTProtocolError` with ``.code``, link loss (which bumble reports as a
cancelled future) becomes :class:`.BumbleLinkLostError`, timeouts become
:class:`.BumbleTimeoutError` (also a builtin ``TimeoutError``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import att, core
from bumble.device import Advertisement, Connection, Peer
from bumble.gatt import GATT_DATABASE_HASH_CHARACTERISTIC
from bumble.gatt_client import CharacteristicProxy, Client
from bumble.hci import (
    Address,
    HCI_Error,
    HCI_LE_Create_Connection_Cancel_Command,
    OwnAddressType,
)

from wearsync.ble.bumble_backend.central import BumbleCentral, address_key, get_central
from wearsync.ble.bumble_backend.dbhash import database_hash, read_hashed_attributes
from wearsync.ble.bumble_backend.exc import (
    BumbleBackendError,
    BumbleLinkLostError,
    BumblePairingError,
    BumbleTimeoutError,
)
from wearsync.ble.bumble_backend.gatt import GattLayout, build_collection
from wearsync.ble.hci import HciSpec, resolve_hci_spec

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: ATT MTU requested after connecting unless told otherwise (fits a 251-byte LE packet).
DEFAULT_MTU = 247
#: The largest ATT MTU GATT allows asking for.
MAX_MTU = 517
#: The ATT MTU before any exchange.
MIN_MTU = att.ATT_DEFAULT_MTU
#: The longest attribute value GATT allows (Core Vol 3, Part F, 3.2.9).
MAX_ATTRIBUTE_LENGTH = 512

AddressType = Literal["public", "random"]


def _bleak_error(operation: str, exc: BaseException) -> BleakError:
    """Map a bumble failure to the bleak exception for it."""
    if isinstance(exc, BleakError):
        return exc
    if isinstance(exc, att.ATT_Error):
        return BleakGATTProtocolError(int(exc.error_code))
    if isinstance(exc, core.TimeoutError | TimeoutError):
        return BumbleTimeoutError(operation)
    if isinstance(exc, HCI_Error):
        return BumbleBackendError(f"{operation} failed: {exc}")
    if isinstance(exc, core.ConnectionError):
        return BumbleBackendError(f"{operation} failed: {exc}")
    return BumbleBackendError(f"{operation} failed: {exc!r}")


class BumbleBleakClient(BaseBleakClient):
    """A bleak client backend that drives a peripheral through a bumble host stack.

    Use it through bleak:
    ``BleakClient(device_or_address, backend=BumbleBleakClient, hci=...)``.

    Args:
        address_or_ble_device: a ``BLEDevice`` from :class:`.BumbleBleakScanner` (its address
            type is known) or an address string (resolved by scanning unless
            ``address_type`` is given).
        hci: the HCI transport (see :class:`.BumbleBleakScanner`); defaults to
            ``$WEARSYNC_HCI``.
        mtu: the ATT MTU to request after connecting, 23..517.
        address_type: ``"public"`` or ``"random"`` to connect to a string address without
            scanning for it first.
        services: only discover these services (bleak passes normalised UUIDs).
        disconnected_callback: called (via the event loop) whenever the link goes down.
        timeout: default connect timeout in seconds.
        **kwargs: options of other backends (``bluez``, ``winrt``), ignored.
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        hci: HciSpec | None = None,
        mtu: int = DEFAULT_MTU,
        address_type: AddressType | None = None,
        services: set[str] | None = None,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=disconnected_callback,
            timeout=timeout,
            **kwargs,
        )
        if not MIN_MTU <= mtu <= MAX_MTU:
            raise ValueError(f"mtu must be within {MIN_MTU}..{MAX_MTU}, got {mtu}")
        self.address = address_key(self.address)
        self._hci = resolve_hci_spec(hci)
        self._requested_mtu = mtu
        self._service_filter = services
        self._peer_address: Address | None = None
        self._advertised_name: str | None = None
        if isinstance(address_or_ble_device, BLEDevice):
            self._advertised_name = address_or_ble_device.name
            details = address_or_ble_device.details
            if isinstance(details, Advertisement):
                self._peer_address = details.address
        if self._peer_address is None and address_type is not None:
            kind = (
                Address.PUBLIC_DEVICE_ADDRESS
                if address_type == "public"
                else Address.RANDOM_DEVICE_ADDRESS
            )
            self._peer_address = Address(self.address, kind)
        self._central: BumbleCentral | None = None
        self._connection: Connection | None = None
        self._gatt: Client | None = None
        self._link_lost: asyncio.Future[int] | None = None
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}

    # -- identity ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The advertised name, else the address with dashes (as bleak documents)."""
        if self._advertised_name:
            return self._advertised_name
        if self._central is not None:
            seen = self._central.peers.get(self.address)
            if seen is not None and seen.name:
                return seen.name
        return self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU (23 until the exchange, or when not connected)."""
        return self._connection.att_mtu if self._connection is not None else MIN_MTU

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self._connection is not None

    # -- connecting -----------------------------------------------------------------------

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange the MTU, restore encryption if bonded, pair if asked, discover.

        Args:
            pair: pair (and bond) after connecting if the link is not encrypted yet.
            **kwargs: ``timeout`` overrides the constructor's timeout.

        Raises:
            BleakDeviceNotFoundError: a string address was not seen advertising in time.
            BumbleTimeoutError: the connection was not established in time.
            BleakError: any other failure; the link is closed again.
        """
        if self.is_connected:
            return
        timeout = float(kwargs.get("timeout", self._timeout))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        central = self._central = await get_central(self._hci)
        peer_address = await self._resolve_address(central, scan_seconds=timeout)
        connection = await self._establish(
            central, peer_address, connect_seconds=deadline - loop.time()
        )
        try:
            await self._setup(connection, pair)
        except BaseException:
            # A link that is already gone never confirms a disconnect: only ask a live one,
            # and never wait on it for long.
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.disconnect(), timeout=2.0)
            raise

    async def _resolve_address(self, central: BumbleCentral, *, scan_seconds: float) -> Address:
        if self._peer_address is not None:
            return self._peer_address
        seen = central.peers.get(self.address)
        if seen is None:
            seen = await central.find_peer(self.address, scan_seconds)
        if seen is None:
            raise BleakDeviceNotFoundError(
                self.address, f"Device with address {self.address} was not found."
            )
        self._advertised_name = self._advertised_name or seen.name
        return seen.address

    async def _establish(
        self, central: BumbleCentral, peer_address: Address, *, connect_seconds: float
    ) -> Connection:
        # bumble needs the time itself: on expiry it cancels the initiation in the controller.
        timeout = max(connect_seconds, 0.01)
        try:
            # The outer timeout is a safety net for controllers that ignore the cancel; the
            # central then drops any connection that completes late.
            async with asyncio.timeout(timeout + 1.0), central.connect_lock:
                central.connecting = True
                device = central.device
                resolver = device.address_resolver
                if not peer_address.is_resolvable:
                    # bumble looks for a bonded peer's identity address with an active scan
                    # of its own first (find_peer_by_identity_address): a SCAN_REQ on air and
                    # a scan for nothing, since a peer that advertises its identity address
                    # (public or static) is reached at it. Only a resolvable private address
                    # needs the resolver, and bumble never scans for one.
                    device.address_resolver = None
                try:
                    connection = await device.connect(
                        peer_address, own_address_type=OwnAddressType.RANDOM, timeout=timeout
                    )
                finally:
                    if device.address_resolver is None:  # unless bonds were refreshed meanwhile
                        device.address_resolver = resolver
                    central.connecting = False
        except (core.TimeoutError, TimeoutError) as exc:
            await self._cancel_initiation(central)
            raise BumbleTimeoutError("connect", timeout) from exc
        except asyncio.CancelledError:
            await self._cancel_initiation(central)
            raise
        except (core.BaseBumbleError, HCI_Error) as exc:
            raise _bleak_error("connect", exc) from exc
        self._attach(connection)
        return connection

    @staticmethod
    async def _cancel_initiation(central: BumbleCentral) -> None:
        # bumble cancels on its own timeout, but not when the wait around it is cancelled
        # or times out first; a controller left initiating refuses the next connect.
        # "Command disallowed" just means nothing was pending any more.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                central.device.send_sync_command(HCI_LE_Create_Connection_Cancel_Command()),
                timeout=1.0,
            )

    def _attach(self, connection: Connection) -> None:
        self._connection = connection
        self._gatt = connection.gatt_client
        self._link_lost = asyncio.get_running_loop().create_future()
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)

    async def _setup(self, connection: Connection, pair: bool) -> None:
        peer = Peer(connection)
        if self._requested_mtu > MIN_MTU:
            await self._guard("exchange MTU", peer.request_mtu(self._requested_mtu))
        if await self._is_bonded(connection):
            # A bonded peer expects the link encrypted with the stored key, as BlueZ and
            # CoreBluetooth do on reconnection; a peer that lost its bond refuses, and the
            # link then stays plain until pair() is called.
            try:
                await self._guard("encrypt", connection.encrypt())
            except BleakError as exc:
                logger.info("could not restore encryption with %s: %s", self.address, exc)
        if pair and not connection.is_encrypted:
            await self.pair()
        await self._discover(peer, bonded=connection.is_encrypted)

    async def _database_hash(self, peer: Peer, handle: int | None) -> bytes | None:
        """The peer's Database Hash (0x2B2A, Core 5.1); None without one.

        With the handle of a cached layout, one Read Request (if the database changed, that
        handle reads something else, or fails); otherwise Read Using Characteristic UUID.
        """
        try:
            if handle is not None:
                value = await self._guard(
                    "read the database hash",
                    peer.gatt_client.read_value(handle, no_long_read=True),
                )
                return bytes(value) if len(value) == 16 else None
            values = await self._guard(
                "read the database hash",
                peer.gatt_client.read_characteristics_by_uuid(
                    GATT_DATABASE_HASH_CHARACTERISTIC, None
                ),
            )
        except BleakError:
            return None
        return bytes(values[0]) if len(values) == 1 and len(values[0]) == 16 else None

    async def computed_database_hash(self) -> bytes:
        """The peer's Database Hash as computed from a full discovery of its attributes
        (:mod:`.dbhash`), to check what its 0x2B2A characteristic serves. Slow: one request per
        declaration.

        Raises:
            BleakError: not connected, or a request failed.
        """
        gatt = self._require_gatt("compute the database hash")
        attributes = await self._guard("discover attributes", read_hashed_attributes(gatt))
        return database_hash(attributes)

    async def _discover(self, peer: Peer, *, bonded: bool) -> None:
        """Discover, or on a bonded peer whose Database Hash is unchanged reuse the layout
        discovered before (robust caching: one round trip instead of a dozen)."""
        central = self._central
        key = (self.address.upper(), tuple(sorted(self._service_filter or ())))
        cached = central.gatt_cache.get(key) if central is not None and bonded else None
        database_hash = None
        if cached is not None:
            database_hash = await self._database_hash(peer, cached.hash_handle)
        if cached is not None and database_hash == cached.database_hash:
            services = cached.restore(peer.gatt_client)
            self.services = build_collection(services, lambda: self.mtu_size - 3)
            return
        uuids = [] if not self._service_filter else [core.UUID(u) for u in self._service_filter]
        services = await self._guard("discover services", peer.discover_services(uuids))
        for service in services:
            characteristics = await self._guard(
                "discover characteristics", service.discover_characteristics()
            )
            for characteristic in characteristics:
                await self._guard("discover descriptors", characteristic.discover_descriptors())
        self.services = build_collection(services, lambda: self.mtu_size - 3)
        if central is None or not bonded or key in central.without_database_hash:
            return
        database_hash = await self._database_hash(peer, None)
        if database_hash is not None:
            central.gatt_cache.put(key, GattLayout.of(database_hash, services))
        else:
            # Asked once per process: a watch without the hash is discovered every time.
            central.gatt_cache.pop(key)
            central.without_database_hash.add(key)

    def _on_disconnection(self, reason: int) -> None:
        logger.debug("link to %s lost, reason 0x%02X", self.address, reason)
        self._connection = None
        self._gatt = None
        self._subscriptions.clear()
        if self._link_lost is not None and not self._link_lost.done():
            self._link_lost.set_result(reason)
        callback = self._disconnected_callback
        if callback is not None:
            asyncio.get_running_loop().call_soon(callback)

    async def disconnect(self) -> None:
        """Disconnect; returns once the link is down. A no-op when not connected."""
        connection = self._connection
        if connection is None:
            return
        try:
            await asyncio.wait_for(connection.disconnect(), timeout=5.0)
        except (core.BaseBumbleError, HCI_Error, TimeoutError) as exc:
            if self._connection is not None:
                raise _bleak_error("disconnect", exc) from exc

    # -- pairing --------------------------------------------------------------------------

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Pair with LE Secure Connections (Just Works) and bond.

        Raises:
            BumblePairingError: the peer refused or pairing failed.
            BumbleLinkLostError: not connected.
        """
        connection = self._require("pair")
        try:
            await self._guard("pair", connection.pair())
        except (BumbleLinkLostError, BumbleTimeoutError):
            raise
        except BleakError as exc:
            cause = exc.__cause__
            reason = getattr(cause, "error_code", None)
            raise BumblePairingError(
                f"pairing with {self.address} failed: {cause or exc}",
                reason if isinstance(reason, int) else None,
            ) from exc

    async def unpair(self) -> None:
        """Forget the bond with the peer and disconnect, as bleak documents."""
        central = self._central or await get_central(self._hci)
        keystore = central.device.keystore
        if keystore is not None:
            for key in (self.address, f"{self.address}/P"):
                with contextlib.suppress(KeyError):
                    await keystore.delete(key)
        await self.disconnect()

    async def _is_bonded(self, connection: Connection) -> bool:
        keystore = connection.device.keystore
        if keystore is None:
            return False
        return await keystore.get(str(connection.peer_address)) is not None

    # -- GATT -----------------------------------------------------------------------------

    async def read_gatt_char(
        self,
        characteristic: BleakGATTCharacteristic,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """Read a characteristic value (long values are read with Read Blob)."""
        return await self._read(characteristic.handle, use_cached, "read characteristic")

    async def read_gatt_descriptor(
        self,
        descriptor: BleakGATTDescriptor,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """Read a descriptor value."""
        return await self._read(descriptor.handle, use_cached, "read descriptor")

    async def _read(self, handle: int, use_cached: bool, operation: str) -> bytearray:
        gatt = self._require_gatt(operation)
        if use_cached and handle in gatt.cached_values:
            return bytearray(gatt.cached_values[handle][1])
        return bytearray(await self._guard(operation, gatt.read_value(handle)))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        """Write a characteristic value.

        With ``response`` a value longer than MTU-3 goes out as a long (prepared) write.
        Without it the value must fit one packet: ``max_write_without_response_size``.

        Raises:
            BleakError: a write without response is too long (it would be dropped silently).
            BleakGATTProtocolError: the peer answered with an ATT error.
        """
        value = bytes(data)
        gatt = self._require_gatt("write characteristic")
        if not response and len(value) > self.mtu_size - 3:
            raise BleakError(
                f"write without response of {len(value)} bytes exceeds "
                f"max_write_without_response_size ({self.mtu_size - 3})"
            )
        await self._guard(
            "write characteristic",
            gatt.write_value(characteristic.handle, value, with_response=response),
        )

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        """Write a descriptor value (always with response)."""
        gatt = self._require_gatt("write descriptor")
        await self._guard(
            "write descriptor", gatt.write_value(descriptor.handle, bytes(data), with_response=True)
        )

    async def start_notify(
        self,
        characteristic: BleakGATTCharacteristic,
        callback: NotifyCallback,
        **kwargs: Any,
    ) -> None:
        """Enable notifications (or indications when that is all the characteristic has).

        Keyword Args:
            force_indicate (bool): use indications even if notifications are available.
        """
        gatt = self._require_gatt("start notify")
        proxy = self._proxy(characteristic)
        if characteristic.handle in self._subscriptions:
            await self.stop_notify(characteristic)

        def on_value(value: bytes) -> None:
            # bleak hands callbacks a bytearray; bumble delivers bytes.
            callback(bytearray(value))

        self._subscriptions[characteristic.handle] = on_value
        try:
            await self._guard(
                "start notify",
                gatt.subscribe(
                    proxy, on_value, prefer_notify=not kwargs.get("force_indicate", False)
                ),
            )
        except BaseException:
            self._subscriptions.pop(characteristic.handle, None)
            raise

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Disable notifications or indications and forget the callback."""
        gatt = self._require_gatt("stop notify")
        subscriber = self._subscriptions.pop(characteristic.handle, None)
        if subscriber is None:
            return
        await self._guard("stop notify", gatt.unsubscribe(self._proxy(characteristic), subscriber))

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _proxy(characteristic: BleakGATTCharacteristic) -> CharacteristicProxy[bytes]:
        proxy = characteristic.obj
        if not isinstance(proxy, CharacteristicProxy):
            raise BleakError(f"characteristic {characteristic.uuid} is not from this backend")
        return proxy

    def _require(self, operation: str) -> Connection:
        if self._connection is None:
            raise BumbleLinkLostError(operation)
        return self._connection

    def _require_gatt(self, operation: str) -> Client:
        self._require(operation)
        assert self._gatt is not None
        return self._gatt

    async def _guard(self, operation: str, awaitable: Awaitable[_T]) -> _T:
        """Run a bumble operation; fail fast with a bleak error if the link drops meanwhile.

        bumble cancels a pending ATT request when the link drops, and a request sent after
        the drop would wait 30 s for a response that never comes; racing every operation
        against the disconnection turns both into :class:`.BumbleLinkLostError` at once.
        """
        try:
            self._require(operation)
        except BaseException:
            if inspect.iscoroutine(awaitable):
                awaitable.close()  # never started: close it so it is not reported as leaked
            raise
        link_lost = self._link_lost
        assert link_lost is not None
        task = asyncio.ensure_future(awaitable)
        try:
            waiting: list[asyncio.Future[Any]] = [task, link_lost]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not task.done():
            task.cancel()
            raise BumbleLinkLostError(operation, link_lost.result())
        if task.cancelled():
            # Nobody cancelled us, so this is bumble aborting the request on link loss.
            raise BumbleLinkLostError(operation, link_lost.result() if link_lost.done() else None)
        exc = task.exception()
        if exc is not None:
            if isinstance(exc, asyncio.CancelledError):
                raise BumbleLinkLostError(operation) from exc
            raise _bleak_error(operation, exc) from exc
        return task.result()
