"""The client side of the standard alert and time services, for host-timed watches.

A watch without a timer service can still be buzzed on command and have its clock set:
:class:`AlertClient` writes Immediate Alert's Alert Level (without response, as IAS specifies),
Alert Notification's New Alert (with or without response, whichever the watch's characteristic
declares; InfiniTime declares write with response), and the Current Time Service's Local Time
Information and Current Time. The values are the pure codecs of :mod:`codec`
and :mod:`wearsync.protocol.cts`; deciding *when* to buzz is :mod:`driver`'s.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from wearsync.ble.errors import BleError, ble_errors
from wearsync.protocol import uuids as U
from wearsync.protocol.cts import clock_values
from wearsync.watches.host_timed.codec import (
    ALERT_LEVEL,
    NEW_ALERT,
    AlertLevel,
    AlertLevelValue,
    NewAlert,
)

if TYPE_CHECKING:
    from wearsync.ble.types import BleClient, GattCharacteristic

log = logging.getLogger(__name__)

#: GAP Device Name, readable on every device: what :meth:`AlertClient.flush` reads.
DEVICE_NAME = U.sig_uuid(0x2A00)


class MissingServiceError(BleError):
    """The watch lacks the service the profile says it has.

    Attributes:
        service: the missing service's name.
    """

    def __init__(self, service: str, *, address: str) -> None:
        super().__init__(
            f"{address} does not offer the {service}",
            address=address,
            hint="The profile that matched this watch does not fit it; check "
            "'wearsync devices scan' and the profile's [driver] alert setting.",
        )
        self.service = service


class AlertClient:
    """Buzzes one connected watch and sets its clock.

    Args:
        client: a connected bleak client (any backend).
        address: the watch's address, for error messages.

    Attributes:
        writes: ATT writes sent.
    """

    def __init__(self, client: BleClient, *, address: str) -> None:
        self.client = client
        self.address = address
        self.writes = 0

    def _char(self, uuid: object) -> GattCharacteristic | None:
        return self.client.services.get_characteristic(str(uuid))

    @property
    def has_immediate_alert(self) -> bool:
        """Whether the watch offers Alert Level (Immediate Alert Service)."""
        return self._char(ALERT_LEVEL) is not None

    @property
    def has_new_alert(self) -> bool:
        """Whether the watch accepts New Alert (Alert Notification Service)."""
        return self._char(NEW_ALERT) is not None

    @property
    def has_current_time(self) -> bool:
        """Whether the watch's clock can be set through the Current Time Service."""
        return self._char(U.CURRENT_TIME) is not None

    async def _write(
        self, uuid: object, value: bytes, *, service: str, prefer_response: bool
    ) -> None:
        char = self._char(uuid)
        if char is None:
            raise MissingServiceError(service, address=self.address)
        # Use what the characteristic declares: IAS's Alert Level is write-without-response
        # only, InfiniTime's New Alert is write-with-response only.
        props = set(char.properties)
        if prefer_response:
            response = "write" in props or "write-without-response" not in props
        else:
            response = "write-without-response" not in props
        with ble_errors(address=self.address, operation=f"write {service}"):
            await self.client.write_gatt_char(char, value, response=response)
        self.writes += 1

    async def alert_level(self, level: AlertLevel) -> None:
        """Write Alert Level: the watch alerts mildly or strongly (or stops, with NONE).

        Raises:
            MissingServiceError: no Immediate Alert Service.
            LinkLostError: the link went down.
        """
        value = bytes(AlertLevelValue(level))
        await self._write(
            ALERT_LEVEL, value, service="Immediate Alert Service", prefer_response=False
        )

    async def new_alert(self, alert: NewAlert) -> None:
        """Write New Alert: the watch vibrates and shows the text.

        Raises:
            MissingServiceError: no Alert Notification Service.
            LinkLostError: the link went down.
        """
        await self._write(
            NEW_ALERT, bytes(alert), service="Alert Notification Service", prefer_response=True
        )

    async def flush(self) -> None:
        """Return once every write sent so far has reached the watch.

        A write without response returns when it is queued; disconnecting right after it can
        lose it. A read waits for its answer, which the watch sends after what came before,
        so reading the GAP Device Name (every device has it) is a barrier.
        """
        char = self._char(DEVICE_NAME)
        if char is None:
            return
        with ble_errors(address=self.address, operation="flush writes"):
            await self.client.read_gatt_char(char)

    async def set_time(self, now: datetime) -> None:
        """Set the watch's clock to aware local time ``now``.

        Local Time Information is written first when the watch has it (older InfiniTime
        releases only have Current Time, which states the local wall-clock time).

        Raises:
            MissingServiceError: no Current Time characteristic.
            EncodeError: ``now``'s offset cannot be stated in Local Time Information.
        """
        local, current = clock_values(now)
        if self._char(U.LOCAL_TIME_INFORMATION) is not None:
            await self._write(
                U.LOCAL_TIME_INFORMATION,
                bytes(local),
                service="Current Time Service",
                prefer_response=True,
            )
        await self._write(
            U.CURRENT_TIME, bytes(current), service="Current Time Service", prefer_response=True
        )
