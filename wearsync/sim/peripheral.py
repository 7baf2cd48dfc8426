"""A generic bumble peripheral: a GATT server that advertises and takes connections.

The simulated watch builds its GATT database and calls :func:`start_peripheral`; tests use the
same helper with a small database of their own. The peripheral attaches to any HCI transport:
a :class:`~wearsync.sim.link.VirtualLink` in the same process, or a bumble transport string.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Self

from bumble import core, gatt, hci
from bumble.core import AdvertisingData
from bumble.device import Connection, Device
from bumble.host import Host
from bumble.keys import KeyStore, MemoryKeyStore
from bumble.transport.common import Transport

from wearsync.ble.hci import HciSpec, just_works_pairing, open_hci
from wearsync.sim.link import LEGACY_ADV_MAX

logger = logging.getLogger(__name__)

#: Flags AD: LE General Discoverable, BR/EDR not supported.
_ADV_FLAGS = bytes([0x06])


def build_advertising_data(
    service_uuids: Sequence[str] = (), manufacturer_data: bytes | None = None
) -> bytes:
    """Legacy advertising data: the flags, the service UUID lists and, if given, one
    Manufacturer Specific Data value (company id first), at most 31 bytes in all.

    Raises:
        ValueError: the UUIDs do not fit a legacy advertising PDU (a conformant controller
            refuses more than 31 bytes).
    """
    uuids = [core.UUID(u) for u in service_uuids]
    short = b"".join(bytes(u) for u in uuids if len(bytes(u)) == 2)
    long = b"".join(bytes(u) for u in uuids if len(bytes(u)) == 16)
    structures: list[tuple[int, bytes]] = [(AdvertisingData.Type.FLAGS, _ADV_FLAGS)]
    if short:
        structures.append((AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, short))
    if long:
        structures.append((AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, long))
    if manufacturer_data is not None:
        structures.append((AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA, manufacturer_data))
    data = bytes(AdvertisingData(structures))
    if len(data) > LEGACY_ADV_MAX:
        raise ValueError(f"advertising data is {len(data)} bytes, over {LEGACY_ADV_MAX}")
    return data


def build_scan_response(name: str) -> bytes:
    """The scan response: the complete local name, or as much of it as fits (shortened)."""
    raw = name.encode("utf-8")
    room = LEGACY_ADV_MAX - 2
    if len(raw) <= room:
        kind, value = AdvertisingData.Type.COMPLETE_LOCAL_NAME, raw
    else:
        cut = raw[:room].decode("utf-8", "ignore").encode("utf-8")
        kind, value = AdvertisingData.Type.SHORTENED_LOCAL_NAME, cut
    return bytes(AdvertisingData([(kind, value)]))


class Peripheral:
    """A running peripheral: its bumble device, connections and transport.

    Attributes:
        device: the bumble device (GATT server in ``device.gatt_server``).
        transport: the HCI transport it runs on.
        connections: the live connections, in the order they were made.
    """

    def __init__(self, device: Device, transport: Transport) -> None:
        self.device = device
        self.transport = transport
        self.connections: list[Connection] = []
        self._connected = asyncio.Event()
        device.on(Device.EVENT_CONNECTION, self._on_connection)

    @property
    def address(self) -> str:
        """The address it advertises with, as bleak writes it (``AA:BB:...``)."""
        return self.device.random_address.to_string(with_type_qualifier=False)

    @property
    def connection(self) -> Connection | None:
        """The most recent live connection, if any."""
        return self.connections[-1] if self.connections else None

    def _on_connection(self, connection: Connection) -> None:
        self.connections.append(connection)
        self._connected.set()

        def on_disconnection(_reason: int) -> None:
            if connection in self.connections:
                self.connections.remove(connection)
            if not self.connections:
                self._connected.clear()

        connection.on(Connection.EVENT_DISCONNECTION, on_disconnection)

    async def disconnect_all(
        self, reason: int = hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR
    ) -> None:
        """Disconnect every central, as the watch would on purpose."""
        for connection in list(self.connections):
            with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error):
                await connection.disconnect(reason)

    async def set_advertising_data(self, data: bytes) -> None:
        """Change what it advertises, now if it is advertising, else from the next restart."""
        device = self.device
        device.advertising_data = data
        if device.legacy_advertising_set is not None:
            await device.legacy_advertising_set.set_advertising_data(data)
        elif device.legacy_advertiser is not None:
            await device.send_sync_command(
                hci.HCI_LE_Set_Advertising_Data_Command(advertising_data=data)
            )

    async def notify(self, characteristic: gatt.Characteristic[bytes], value: bytes) -> None:
        """Set a characteristic's value and notify every central subscribed to notifications."""
        characteristic.value = value
        await self.device.notify_subscribers(characteristic, value)

    async def indicate(self, characteristic: gatt.Characteristic[bytes], value: bytes) -> None:
        """Set a characteristic's value and indicate it; returns once every subscriber
        confirmed."""
        characteristic.value = value
        await self.device.indicate_subscribers(characteristic, value)

    async def close(self) -> None:
        """Stop advertising, disconnect and close the transport."""
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()
        await self.disconnect_all()
        with contextlib.suppress(Exception):
            await self.transport.close()


async def start_peripheral(
    hci_spec: HciSpec,
    *,
    name: str,
    services: Sequence[gatt.Service],
    service_uuids: Sequence[str] = (),
    address: str | None = None,
    advertising_interval_ms: float = 20.0,
    keystore: KeyStore | None = None,
    manufacturer_data: bytes | None = None,
) -> Peripheral:
    """Power a peripheral on, install its GATT services and start advertising.

    It advertises its services (flags and UUIDs, at most 31 bytes) with the name in the scan
    response, as a real peripheral must. It keeps advertising (connectable) whenever no central
    is connected, pairs with Just
    Works (LE Secure Connections, bonding, random identity address) and accepts ATT MTUs up to
    517.

    Args:
        hci_spec: a :class:`~wearsync.sim.link.VirtualLink` or a bumble transport string.
        name: the advertised complete local name (and GAP device name).
        services: the GATT services to serve.
        service_uuids: service UUIDs to advertise (bleak-style strings).
        address: a random static address; a fresh one by default.
        advertising_interval_ms: the advertising interval; short intervals connect fast.
        keystore: where bonds are kept; in memory by default.
        manufacturer_data: a Manufacturer Specific Data value to advertise (company id
            first); change it later with :meth:`Peripheral.set_advertising_data`.
    """
    transport = await open_hci(hci_spec)
    own_address = (
        hci.Address(address, hci.Address.RANDOM_DEVICE_ADDRESS)
        if address
        else hci.Address.generate_static_address()
    )
    device = Device(name=name, address=own_address, host=Host(transport.source, transport.sink))
    device.keystore = keystore or MemoryKeyStore()
    device.pairing_config_factory = just_works_pairing
    device.add_services(services)
    peripheral = Peripheral(device, transport)
    await device.power_on()
    await device.start_advertising(
        own_address_type=hci.OwnAddressType.RANDOM,
        auto_restart=True,
        advertising_data=build_advertising_data(service_uuids, manufacturer_data),
        scan_response_data=build_scan_response(name),
        advertising_interval_min=advertising_interval_ms,
        advertising_interval_max=advertising_interval_ms,
    )
    logger.debug("peripheral %s advertising as %s", name, peripheral.address)
    return peripheral


class HostedPeripheral:
    """Base of a simulated wearable built around one :class:`Peripheral`.

    Subclasses set ``_peripheral`` in :meth:`start` and clear it in :meth:`close`; this gives
    them the context manager and the ``peripheral``/``address`` accessors.
    """

    #: How errors name the device ("the simulated Bangle.js").
    what = "the simulated watch"
    _peripheral: Peripheral | None = None

    async def start(self) -> None:
        """Power on and advertise."""
        raise NotImplementedError

    async def close(self) -> None:
        """Switch off."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def peripheral(self) -> Peripheral:
        """The running bumble peripheral."""
        if self._peripheral is None:
            raise RuntimeError(f"{self.what} is not started")
        return self._peripheral

    @property
    def address(self) -> str:
        """The address it advertises with, as bleak writes it."""
        return self.peripheral.address
