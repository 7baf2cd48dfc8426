"""Translate between bumble's GATT client proxies and bleak's GATT objects."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bumble import core
from bumble.gatt import GATT_DATABASE_HASH_CHARACTERISTIC
from bumble.gatt_client import CharacteristicProxy, Client, DescriptorProxy, ServiceProxy


def bleak_uuid(value: core.UUID) -> str:
    """A bumble UUID as bleak writes it: 128-bit, lower case, with dashes."""
    # bumble keeps UUID bytes little-endian; uuid.UUID wants them big-endian.
    return str(uuid.UUID(bytes=value.to_bytes(force_128=True)[::-1]))


def build_collection(
    services: Iterable[ServiceProxy],
    max_write_without_response_size: Callable[[], int],
) -> BleakGATTServiceCollection:
    """Build bleak's service collection from discovered bumble proxies.

    Args:
        services: services whose characteristics and descriptors are already discovered.
        max_write_without_response_size: returns the current ATT MTU minus 3.
    """
    collection = BleakGATTServiceCollection()
    for service in services:
        bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
        collection.add_service(bleak_service)
        for characteristic in service.characteristics:
            properties = sorted(gatt_char_props_to_strs(int(characteristic.properties)))
            bleak_characteristic = BleakGATTCharacteristic(
                characteristic,
                characteristic.handle,
                bleak_uuid(characteristic.uuid),
                properties,
                max_write_without_response_size,
                bleak_service,
            )
            collection.add_characteristic(bleak_characteristic)
            for descriptor in characteristic.descriptors:
                collection.add_descriptor(
                    BleakGATTDescriptor(
                        descriptor,
                        descriptor.handle,
                        bleak_uuid(descriptor.type),
                        bleak_characteristic,
                    )
                )
    return collection


@dataclass(frozen=True)
class CachedDescriptor:
    handle: int
    type: bytes


@dataclass(frozen=True)
class CachedCharacteristic:
    handle: int
    end_group_handle: int
    uuid: bytes
    properties: int
    descriptors: tuple[CachedDescriptor, ...]


@dataclass(frozen=True)
class CachedService:
    handle: int
    end_group_handle: int
    uuid: bytes
    characteristics: tuple[CachedCharacteristic, ...]


@dataclass(frozen=True)
class GattLayout:
    """A peer's discovered GATT layout and the Database Hash it had (Core 5.1 robust caching).

    UUIDs are kept as bumble's little-endian bytes.
    """

    database_hash: bytes
    services: tuple[CachedService, ...]

    @property
    def hash_handle(self) -> int | None:
        """The value handle of the Database Hash characteristic, if it was discovered."""
        wanted = bytes(GATT_DATABASE_HASH_CHARACTERISTIC)
        for service in self.services:
            for characteristic in service.characteristics:
                if characteristic.uuid == wanted:
                    return characteristic.handle
        return None

    @classmethod
    def of(cls, database_hash: bytes, services: Iterable[ServiceProxy]) -> GattLayout:
        """Snapshot discovered services."""
        return cls(
            database_hash,
            tuple(
                CachedService(
                    s.handle,
                    s.end_group_handle,
                    bytes(s.uuid),
                    tuple(
                        CachedCharacteristic(
                            c.handle,
                            c.end_group_handle,
                            bytes(c.uuid),
                            int(c.properties),
                            tuple(CachedDescriptor(d.handle, bytes(d.type)) for d in c.descriptors),
                        )
                        for c in s.characteristics
                    ),
                )
                for s in services
            ),
        )

    def restore(self, client: Client) -> list[ServiceProxy]:
        """Proxies on ``client`` for the cached layout, as discovery would have made them."""
        services: list[ServiceProxy] = []
        for s in self.services:
            service = ServiceProxy(  # type: ignore[no-untyped-call]
                client, s.handle, s.end_group_handle, core.UUID.from_bytes(s.uuid)
            )
            for c in s.characteristics:
                characteristic: CharacteristicProxy[bytes] = CharacteristicProxy(
                    client, c.handle, c.end_group_handle, core.UUID.from_bytes(c.uuid), c.properties
                )
                characteristic.descriptors = [
                    DescriptorProxy(client, d.handle, core.UUID.from_bytes(d.type))
                    for d in c.descriptors
                ]
                characteristic.descriptors_discovered = True  # subscribe() finds the CCCD
                service.characteristics.append(characteristic)
            services.append(service)
        client.services.extend(services)
        return services
