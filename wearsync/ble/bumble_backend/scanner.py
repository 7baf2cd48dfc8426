"""``BumbleBleakScanner``: bleak's scanner interface over a bumble central."""

from __future__ import annotations

import logging
from typing import Any, Literal

from bleak.backends.scanner import (
    AdvertisementData,
    AdvertisementDataCallback,
    BaseBleakScanner,
)
from bumble.core import AdvertisingData
from bumble.device import Advertisement

from wearsync.ble.bumble_backend.central import BumbleCentral, address_key, get_central
from wearsync.ble.bumble_backend.gatt import bleak_uuid
from wearsync.ble.hci import HciSpec, resolve_hci_spec

logger = logging.getLogger(__name__)

_T = AdvertisingData.Type
_UUID_LIST_TYPES = {
    _T.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    _T.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    _T.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    _T.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    _T.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
    _T.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
}
_SERVICE_DATA_TYPES = {
    _T.SERVICE_DATA_16_BIT_UUID: 2,
    _T.SERVICE_DATA_32_BIT_UUID: 4,
    _T.SERVICE_DATA_128_BIT_UUID: 16,
}


def to_advertisement_data(advertisement: Advertisement) -> AdvertisementData:
    """Convert a bumble advertisement (advertising data plus any scan response) for bleak.

    Repeated fields, as a scan response may repeat the advertising data, are merged.
    """
    local_name: str | None = None
    manufacturer_data: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    service_uuids: list[str] = []
    tx_power: int | None = None
    for ad_type, value in advertisement.data.ad_structures:
        if ad_type in (_T.COMPLETE_LOCAL_NAME, _T.SHORTENED_LOCAL_NAME):
            # A complete name wins over a shortened one.
            if local_name is None or ad_type == _T.COMPLETE_LOCAL_NAME:
                local_name = value.decode("utf-8", "replace")
        elif ad_type in _UUID_LIST_TYPES:
            size = _UUID_LIST_TYPES[ad_type]
            for offset in range(0, len(value) - size + 1, size):
                text = bleak_uuid(AdvertisingData.uuid_list_to_objects(value[offset:], size)[0])
                if text not in service_uuids:
                    service_uuids.append(text)
        elif ad_type in _SERVICE_DATA_TYPES and len(value) >= _SERVICE_DATA_TYPES[ad_type]:
            size = _SERVICE_DATA_TYPES[ad_type]
            key = bleak_uuid(AdvertisingData.uuid_list_to_objects(value[:size], size)[0])
            service_data[key] = bytes(value[size:])
        elif ad_type == _T.MANUFACTURER_SPECIFIC_DATA and len(value) >= 2:
            manufacturer_data[int.from_bytes(value[:2], "little")] = bytes(value[2:])
        elif ad_type == _T.TX_POWER_LEVEL and len(value) == 1:
            tx_power = int.from_bytes(value, "little", signed=True)
    return AdvertisementData(
        local_name=local_name,
        manufacturer_data=manufacturer_data,
        service_data=service_data,
        service_uuids=service_uuids,
        tx_power=tx_power,
        rssi=advertisement.rssi,
        platform_data=(advertisement,),
    )


class BumbleBleakScanner(BaseBleakScanner):
    """A bleak scanner backend that scans through a bumble host stack.

    Use it through bleak: ``BleakScanner(backend=BumbleBleakScanner, hci=...)``.

    Args:
        detection_callback: called for every advertisement that passes the filter.
        service_uuids: only report advertisers that list one of these services.
        scanning_mode: ``"active"`` (default) or ``"passive"``.
        hci: the HCI transport: a bumble transport string such as
            ``tcp-client:127.0.0.1:PORT`` or ``usb:0``, or an in-process factory such as a
            :class:`wearsync.sim.link.VirtualLink`. Defaults to ``$WEARSYNC_HCI``.
        **kwargs: options of other backends (``bluez``, ``cb``), ignored.

    ``BLEDevice.details`` is the bumble ``Advertisement``; its ``address`` carries the type.
    """

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        *,
        hci: HciSpec | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._hci = resolve_hci_spec(hci)
        self._active = scanning_mode != "passive"
        self._central: BumbleCentral | None = None
        self._unregister: Any = None

    async def start(self) -> None:
        """Start scanning; ``seen_devices`` is cleared first, as bleak requires."""
        if self._central is not None:
            return
        central = await get_central(self._hci)
        self.seen_devices = {}
        self._unregister = central.on_advertisement(self._on_advertisement)
        self._central = central
        await central.start_scanning(active=self._active)

    async def stop(self) -> None:
        """Stop scanning (the controller keeps scanning while another scanner needs it)."""
        central, self._central = self._central, None
        if central is None:
            return
        if self._unregister is not None:
            self._unregister()
            self._unregister = None
        await central.stop_scanning(active=self._active)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        data = to_advertisement_data(advertisement)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        address = address_key(advertisement.address)
        device = self.create_or_update_device(
            address, address, data.local_name, advertisement, data
        )
        self.call_detection_callbacks(device, data)
