"""A simulated host-timed watch: InfiniTime's alert and time services, or a plain alert band.

:class:`SimInfiniTime` is a bumble peripheral with the services a PineTime running InfiniTime
offers a companion for cues: Immediate Alert (0x1802, Alert Level written without response),
Alert Notification (0x1811, New Alert written with response, in InfiniTime's text layout) and
Current Time (0x1805, Current Time and Local Time Information). It advertises as InfiniTime
does: the name and the DFU service UUID. With ``kind="band"`` it is a fitness band instead:
Immediate Alert only, advertised by its service UUID.

It records every alert with its arrival time, both on the event loop's clock (what the
companion schedules against) and on the watch's own clock, which runs ``speed`` times faster
than real time from the last time set through the Current Time Service, so an accelerated
session can be checked in watch time. Values that do not decode are kept in
:attr:`SimInfiniTime.malformed` and do not alert, as the firmware would show nothing useful.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from bumble import att, gatt
from bumble.device import Connection

from wearsync.ble.hci import HciSpec
from wearsync.protocol import uuids as U
from wearsync.protocol.cts import CurrentTime, LocalTimeInformation, cts_to_utc
from wearsync.protocol.errors import DecodeError
from wearsync.sim.link import VirtualLink
from wearsync.sim.peripheral import HostedPeripheral, Peripheral, start_peripheral
from wearsync.sim.simulated import RunningWatch, SimOptions, refuse_options
from wearsync.watches.host_timed.codec import (
    ALERT_LEVEL,
    ALERT_NOTIFICATION_SERVICE,
    IMMEDIATE_ALERT_SERVICE,
    NEW_ALERT,
    AlertLevel,
    AlertLevelValue,
    NewAlert,
)

logger = logging.getLogger(__name__)

#: InfiniTime's DFU service, the one UUID it advertises.
INFINITIME_DFU_SERVICE: Final = "00001530-1212-efde-1523-785feabcd123"
#: InfiniTime's notification event characteristic (call buttons), part of its ANS.
INFINITIME_NOTIFICATION_EVENT: Final = "00020001-78fc-48fe-8e23-433b3a1942d0"
_P = gatt.Characteristic.Properties
_A = gatt.Characteristic

WatchKind = Literal["infinitime", "band"]


@dataclass(frozen=True)
class ReceivedAlert:
    """One alert the watch received.

    Attributes:
        level: the Alert Level written (Immediate Alert), else ``None``.
        alert: the New Alert written (Alert Notification), else ``None``.
        loop_time: event loop time of arrival, seconds.
        wall_time: ``time.time()`` at arrival (to compare with the companion's records).
        watch_time: the watch's clock at arrival.
    """

    level: AlertLevel | None
    alert: NewAlert | None
    loop_time: float
    wall_time: float
    watch_time: datetime


class SimInfiniTime(HostedPeripheral):
    """A simulated InfiniTime watch (or alert band) advertising on ``hci``.

    Use as ``async with SimInfiniTime(link) as watch:``.

    Args:
        hci: where to attach it (a VirtualLink or an HCI transport).
        kind: ``infinitime`` (IAS, ANS, CTS) or ``band`` (IAS only).
        name: the advertised name (``InfiniTime``, or ``Band xxxx`` for a band).
        speed: how much faster than real time the watch's clock runs.
        local_time_information: offer Local Time Information (newer InfiniTime releases).
        reject_alerts: answer New Alert writes with this ATT error code (a watch that refuses).
        on_alert: called with every alert as it arrives.
        advertising_interval_ms: short intervals connect fast.

    Attributes:
        alerts: every alert received, in order.
        malformed: written values that did not decode.
        clock_writes: every Current Time written.
        local_time: the Local Time Information last written.
    """

    def __init__(
        self,
        hci: HciSpec,
        *,
        kind: WatchKind = "infinitime",
        name: str | None = None,
        speed: float = 1.0,
        local_time_information: bool = True,
        reject_alerts: int | None = None,
        advertising_interval_ms: float = 20.0,
        on_alert: Callable[[ReceivedAlert], None] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.hci = hci
        self.kind: WatchKind = kind
        self.name = name or (
            "InfiniTime" if kind == "infinitime" else f"Band {secrets.token_hex(2)}"
        )
        self.speed = speed
        self.reject_alerts = reject_alerts
        self.on_alert = on_alert
        self.advertising_interval_ms = advertising_interval_ms
        self.alerts: list[ReceivedAlert] = []
        self.malformed: list[bytes] = []
        self.clock_writes: list[CurrentTime] = []
        self.local_time: LocalTimeInformation | None = None
        self._arrived = asyncio.Event()
        self._peripheral: Peripheral | None = None
        self._clock_base = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
        self._clock_since = time.monotonic()
        self._services = self._build(local_time_information)

    def _build(self, local_time_information: bool) -> list[gatt.Service]:
        level: gatt.Characteristic[bytes] = gatt.Characteristic(
            str(ALERT_LEVEL),
            _P.WRITE_WITHOUT_RESPONSE,
            _A.WRITEABLE,
            gatt.CharacteristicValue[bytes](write=self._on_alert_level),
        )
        services = [gatt.Service(str(IMMEDIATE_ALERT_SERVICE), [level])]
        if self.kind == "band":
            return services
        new_alert: gatt.Characteristic[bytes] = gatt.Characteristic(
            str(NEW_ALERT),
            _P.WRITE,
            _A.WRITEABLE,
            gatt.CharacteristicValue[bytes](write=self._on_new_alert),
        )
        event: gatt.Characteristic[bytes] = gatt.Characteristic(
            INFINITIME_NOTIFICATION_EVENT, _P.NOTIFY, _A.READABLE, b""
        )
        current: gatt.Characteristic[bytes] = gatt.Characteristic(
            str(U.CURRENT_TIME),
            _P.READ | _P.WRITE,
            _A.READABLE | _A.WRITEABLE,
            gatt.CharacteristicValue[bytes](read=self._read_time, write=self._on_current_time),
        )
        times = [current]
        if local_time_information:
            times.append(
                gatt.Characteristic(
                    str(U.LOCAL_TIME_INFORMATION),
                    _P.READ | _P.WRITE,
                    _A.READABLE | _A.WRITEABLE,
                    gatt.CharacteristicValue[bytes](
                        read=self._read_local_time, write=self._on_local_time
                    ),
                )
            )
        services.append(gatt.Service(str(ALERT_NOTIFICATION_SERVICE), [new_alert, event]))
        services.append(gatt.Service(str(U.CURRENT_TIME_SERVICE), times))
        return services

    async def start(self) -> None:
        """Power on and advertise."""
        advertised = (
            [INFINITIME_DFU_SERVICE]
            if self.kind == "infinitime"
            else [str(IMMEDIATE_ALERT_SERVICE)]
        )
        self._peripheral = await start_peripheral(
            self.hci,
            name=self.name,
            services=self._services,
            service_uuids=advertised,
            advertising_interval_ms=self.advertising_interval_ms,
        )

    async def close(self) -> None:
        """Power off."""
        if self._peripheral is not None:
            await self._peripheral.close()
            self._peripheral = None

    def drop_link(self) -> int:
        """Walk out of range: every connection is lost at once (only on a VirtualLink)."""
        if not isinstance(self.hci, VirtualLink):
            raise RuntimeError("dropping the link needs an in-process VirtualLink")
        return self.hci.drop_connections_of(self.peripheral.address)

    # -- the watch's clock -----------------------------------------------------------------

    def watch_time(self) -> datetime:
        """The watch's clock now (UTC), running ``speed`` times faster than real time."""
        elapsed = (time.monotonic() - self._clock_since) * self.speed
        return self._clock_base + timedelta(seconds=elapsed)

    def _local_offset(self) -> timedelta:
        offset = self.local_time.utc_offset if self.local_time is not None else None
        return offset or timedelta(0)

    def _read_time(self, _connection: Connection) -> bytes:
        local = (self.watch_time() + self._local_offset()).replace(tzinfo=None)
        return bytes(CurrentTime.from_datetime(local))

    def _read_local_time(self, _connection: Connection) -> bytes:
        return bytes(self.local_time or LocalTimeInformation(0))

    def _reject(self) -> None:
        if self.reject_alerts is not None:
            raise att.ATT_Error(error_code=self.reject_alerts)

    def _on_current_time(self, _connection: Connection, value: bytes) -> None:
        try:
            current = CurrentTime.from_bytes(value)
        except DecodeError:
            self.malformed.append(bytes(value))
            raise att.ATT_Error(error_code=att.ATT_INVALID_ATTRIBUTE_LENGTH_ERROR) from None
        self.clock_writes.append(current)
        utc = cts_to_utc(current, self.local_time or LocalTimeInformation(0))
        if utc is not None:
            self._clock_base = utc
            self._clock_since = time.monotonic()

    def _on_local_time(self, _connection: Connection, value: bytes) -> None:
        try:
            self.local_time = LocalTimeInformation.from_bytes(value)
        except DecodeError:
            self.malformed.append(bytes(value))
            raise att.ATT_Error(error_code=att.ATT_INVALID_ATTRIBUTE_LENGTH_ERROR) from None

    # -- alerts ----------------------------------------------------------------------------

    def _arrival(self, level: AlertLevel | None, alert: NewAlert | None) -> None:
        received = ReceivedAlert(
            level=level,
            alert=alert,
            loop_time=asyncio.get_running_loop().time(),
            wall_time=time.time(),
            watch_time=self.watch_time(),
        )
        self.alerts.append(received)
        if self.on_alert is not None:
            self.on_alert(received)
        self._arrived.set()

    def _on_alert_level(self, _connection: Connection, value: bytes) -> None:
        # Written without response: there is no way to refuse, only to ignore.
        try:
            decoded = AlertLevelValue.from_bytes(value)
        except DecodeError:
            self.malformed.append(bytes(value))
            return
        self._arrival(decoded.level, None)

    def _on_new_alert(self, _connection: Connection, value: bytes) -> None:
        self._reject()
        try:
            decoded = NewAlert.from_bytes(value)
        except DecodeError:
            self.malformed.append(bytes(value))
            raise att.ATT_Error(error_code=att.ATT_INVALID_ATTRIBUTE_LENGTH_ERROR) from None
        self._arrival(None, decoded)

    async def wait_for_alerts(self, count: int) -> list[ReceivedAlert]:
        """Wait until ``count`` alerts arrived (bound it with ``asyncio.timeout``)."""
        while len(self.alerts) < count:
            self._arrived.clear()
            await self._arrived.wait()
        return list(self.alerts)


class HostTimedSim(RunningWatch):
    """A :class:`SimInfiniTime` as ``wearsync sim`` runs it."""

    def __init__(self, watch: SimInfiniTime) -> None:
        super().__init__(watch)
        self.watch = watch

    def summary(self) -> dict[str, Any]:
        """What it received so far."""
        return {"kind": self.watch.kind, "alerts": len(self.watch.alerts)}


def alert_line(alert: ReceivedAlert) -> dict[str, Any]:
    """An alert the watch shows (and vibrates for), as one output line."""
    line: dict[str, Any] = {"type": "alert", "watch_time": alert.watch_time.isoformat()}
    if alert.level is not None:
        line["level"] = alert.level.name.lower()
    if alert.alert is not None:
        line["title"], line["body"] = alert.alert.parts()
    return line


async def start_for_cli(options: SimOptions, *, kind: WatchKind) -> HostTimedSim:
    """Power the watch on ``options.link`` (it keeps nothing across restarts)."""
    refuse_options(options, f"the simulated {kind}", wearer=False, features=False)
    watch = SimInfiniTime(
        options.link,
        kind=kind,
        name=options.name,
        speed=options.speed,
        on_alert=lambda a: options.emit(alert_line(a)),
    )
    await watch.start()
    return HostTimedSim(watch)
