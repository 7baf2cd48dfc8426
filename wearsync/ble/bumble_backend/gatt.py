"""Translate between bumble's GATT client proxies and bleak's GATT objects."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bumble import core
from bumble.gatt_client import ServiceProxy


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
