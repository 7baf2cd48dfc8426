"""The GATT face of the simulated watch: the Interval Timer Service and the Current Time Service.

This module is bytes and ATT: it decodes each write with the codecs of
:mod:`codec`, hands the value to a :class:`TimerBackend` (the watch), and answers
with the backend's :class:`~codec.AttError` code as an ATT Error Response (§11).
Notifications (Session Status, live events, replays) go out through a
:class:`~sim.notifier.Notifier`, in the order the watch produced them.

Security (§2.2, §2.3). bumble's attribute permissions can only answer "insufficient
encryption" (0x0F) or "insufficient authentication" (0x05) regardless of bonds, so the
protected characteristics are declared open to bumble and check the link themselves, before
anything else: an unencrypted link gets 0x05 when the watch holds no bond with the peer and
0x0F when it does. Every encrypted link here is bonded, since the watch always pairs with
bonding. The CCCDs of Session Status and Event Log are the service's own descriptors with the
same check on write; their values are stored with the bond and restored when a bonded client's
link is encrypted again.

Timer Info snapshots (§2.4): at an ATT_MTU below 41 a Read Request is followed by Read Blob
Requests; the watch serves those from the value it produced for the Read Request.

CTS errors (§10.1): a write of the wrong length gets 0x0D (Invalid Attribute Value Length), a
field out of range 0xFF (Out of Range), a Current Time with an unknown date 0x80 (Data field
ignored, and the clock is not set).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Final, Protocol, TypeVar

from bumble import att, gatt
from bumble.device import Connection, Device
from bumble.gatt_server import Server as GattServer

from wearsync.watches.wearsync_timer.codec import (
    AttError,
    AttErrorCode,
    BatchFlags,
    ControlRequest,
    CurrentTime,
    DecodeError,
    EventBatch,
    EventRecord,
    Feature,
    LocalTimeInformation,
    PauseSession,
    ProgramChunk,
    ReplayEvents,
    ResumeSession,
    SessionStatusValue,
    StartEntry,
    StartSession,
    StopSession,
    TimerInfo,
    UnknownOpcodeError,
    cts_to_utc,
    events_per_batch,
    parse_control,
)
from wearsync.watches.wearsync_timer.codec import uuids as U
from wearsync.watches.wearsync_timer.codec.events import (
    EVENT_RECORD_SIZE,
    EVENT_RECORD_SIZE_ENTRIES,
)
from wearsync.watches.wearsync_timer.sim.flash import Flash
from wearsync.watches.wearsync_timer.sim.notifier import Notifier, notifying

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_P = gatt.Characteristic.Properties
_OPEN = att.Attribute.Permissions.READABLE | att.Attribute.Permissions.WRITEABLE
_CCCD = gatt.GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR
_CTS_DATA_FIELD_IGNORED: Final = 0x80
_INVALID_LENGTH: Final = 0x0D
_OUT_OF_RANGE: Final = 0xFF
_UNLIKELY_ERROR: Final = 0x0E
#: Opcodes that exist only with a feature bit (§3.2).
_FEATURE_OF: Final[dict[type, Feature]] = {
    StartSession: Feature.SESSION_CONTROL,
    StopSession: Feature.SESSION_CONTROL,
    PauseSession: Feature.PAUSE_RESUME,
    ResumeSession: Feature.PAUSE_RESUME,
    ReplayEvents: Feature.EVENT_REPLAY,
    StartEntry: Feature.ENTRIES,
}


class TimerBackend(Protocol):
    """The watch as the GATT layer sees it; every method is synchronous and raises
    :class:`AttError` to refuse."""

    features: Feature

    def timer_info(self, connection: Connection | None) -> TimerInfo:
        """The Timer Info value, STAGING as seen by ``connection``."""
        ...

    def stage(self, connection: Connection, chunk: ProgramChunk) -> None:
        """Accept a Program write (§6.2)."""
        ...

    def control(self, connection: Connection, request: ControlRequest) -> None:
        """Carry out a Control Point request other than REPLAY_EVENTS (§7)."""
        ...

    def session_status(self) -> SessionStatusValue:
        """The Session Status value now."""
        ...

    def backlog(self) -> Sequence[EventRecord]:
        """The unacknowledged events, oldest first."""
        ...

    def current_time(self) -> CurrentTime:
        """The Current Time value: the local time, or all unknown if the clock is not set."""
        ...

    def local_time(self) -> LocalTimeInformation:
        """The Local Time Information value last written."""
        ...

    def set_local_time(self, value: LocalTimeInformation) -> None:
        """Keep the time zone for the next Current Time write (§10.2)."""
        ...

    def set_utc(self, utc: datetime) -> None:
        """Set the watch's UTC clock (§10.2)."""
        ...

    def connection_closed(self, connection: Connection) -> None:
        """Forget what belonged to ``connection`` (its staging, §6.2)."""
        ...


_FEATURE_OF_OPCODE: Final[dict[int, Feature]] = {
    int(getattr(cls, "opcode")): feature  # noqa: B009 - every request class has one
    for cls, feature in _FEATURE_OF.items()
}


def record_size_of(features: Feature) -> int:
    """Bytes per event record a watch with ``features`` sends: 29 with ENTRIES (§9.1)."""
    return EVENT_RECORD_SIZE_ENTRIES if features & Feature.ENTRIES else EVENT_RECORD_SIZE


def _refuse(code: int) -> att.ATT_Error:
    return att.ATT_Error(error_code=code)


class TimerService:
    """The GATT database of the watch and the notifications it sends.

    Args:
        backend: the watch.
        flash: where CCCD values of bonded clients are kept.
    """

    def __init__(self, backend: TimerBackend, flash: Flash) -> None:
        self.backend = backend
        self.flash = flash
        self.device: Device | None = None
        self.notifier: Notifier | None = None
        self._snapshots: dict[Connection, tuple[bytes, int]] = {}
        self.timer_info = self._characteristic(U.TIMER_INFO, _P.READ, read=self._read_info)
        self.program = self._characteristic(
            U.PROGRAM, _P.WRITE | _P.WRITE_WITHOUT_RESPONSE, write=self._write_program
        )
        self.control_point = self._characteristic(
            U.CONTROL_POINT, _P.WRITE, write=self._write_control
        )
        self.session_status = self._characteristic(
            U.SESSION_STATUS, _P.READ | _P.NOTIFY, read=self._read_status, secure_cccd=True
        )
        self.event_log = self._characteristic(
            U.EVENT_LOG, _P.READ | _P.NOTIFY, read=self._read_events, secure_cccd=True
        )
        self.services = [
            gatt.Service(
                str(U.TIMER_SERVICE),
                [
                    self.timer_info,
                    self.program,
                    self.control_point,
                    self.session_status,
                    self.event_log,
                ],
            )
        ]
        if backend.features & Feature.CURRENT_TIME_SERVICE:
            self.current_time = self._characteristic(
                U.CURRENT_TIME,
                _P.READ | _P.WRITE | _P.NOTIFY,
                read=self._read_current_time,
                write=self._write_current_time,
            )
            self.local_time = self._characteristic(
                U.LOCAL_TIME_INFORMATION,
                # Write Without Response lets a client send it ahead of Current Time and
                # confirm both with one Write Response (docs/protocol.md §10.2).
                _P.READ | _P.WRITE | _P.WRITE_WITHOUT_RESPONSE,
                read=self._read_local_time,
                write=self._write_local_time,
            )
            self.services.append(
                gatt.Service(str(U.CURRENT_TIME_SERVICE), [self.current_time, self.local_time])
            )

    # -- building the database ------------------------------------------------------------

    def _characteristic(
        self,
        uuid: object,
        properties: gatt.Characteristic.Properties,
        *,
        read: Callable[[Connection], Awaitable[bytes]] | None = None,
        write: Callable[[Connection, bytes], Awaitable[None]] | None = None,
        secure_cccd: bool = False,
    ) -> gatt.Characteristic[bytes]:
        characteristic: gatt.Characteristic[bytes] = gatt.Characteristic(
            str(uuid), properties, _OPEN, gatt.CharacteristicValue(read=read, write=write)
        )
        if secure_cccd:
            characteristic.descriptors = [self._cccd(characteristic)]
        return characteristic

    def _cccd(self, characteristic: gatt.Characteristic[bytes]) -> gatt.Descriptor:
        async def read(connection: Connection) -> bytes:
            return bytes(self._server.read_cccd(connection, characteristic))

        async def write(connection: Connection, value: bytes) -> None:
            await self._require_bond(connection)
            self._server.write_cccd(connection, characteristic, value)
            if connection.is_encrypted:
                self.flash.save_cccd(str(connection.peer_address), str(characteristic.uuid), value)

        return gatt.Descriptor(_CCCD, _OPEN, att.AttributeValue(read=read, write=write))

    @property
    def _server(self) -> GattServer:
        assert self.device is not None, "the service is not attached to a device"
        return self.device.gatt_server

    # -- lifecycle ------------------------------------------------------------------------

    def attach(self, device: Device, connections: Sequence[Connection] = ()) -> None:
        """Start serving on ``device`` (its services already added) and sending notifications."""
        self.device = device
        self.notifier = Notifier(
            device, self.session_status, self.event_log, record_size_of(self.backend.features)
        )
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        for connection in connections:
            self._on_connection(connection)

    async def close(self) -> None:
        """Stop sending notifications; what is still queued is dropped."""
        if self.notifier is not None:
            await self.notifier.close()

    async def drain(self) -> None:
        """Wait until every queued notification has been handed to the radio."""
        if self.notifier is not None:
            await self.notifier.drain()

    def notify_status(self, status: SessionStatusValue) -> None:
        """Notify Session Status to every subscribed client."""
        if self.notifier is not None:
            self.notifier.status(status)

    def notify_event(self, event: EventRecord) -> None:
        """Notify a live event to every subscribed client (§9.5.3)."""
        if self.notifier is not None:
            self.notifier.live(event)

    def _on_connection(self, connection: Connection) -> None:
        def on_disconnection(_reason: int) -> None:
            self._snapshots.pop(connection, None)
            # bumble handles a received write in a task of its own, which may not have run
            # when the link loss is reported. A watch finishes what it received before it
            # notices the loss, so forget the connection only after such pending work.
            loop = asyncio.get_running_loop()
            loop.call_soon(self.backend.connection_closed, connection)

        def on_encryption_change() -> None:
            if connection.is_encrypted:
                self._restore_cccds(connection)

        connection.on(Connection.EVENT_DISCONNECTION, on_disconnection)
        connection.on(Connection.EVENT_CONNECTION_ENCRYPTION_CHANGE, on_encryption_change)

    def _restore_cccds(self, connection: Connection) -> None:
        # GATT keeps a bonded client's CCCDs across connections (§2.3).
        stored = self.flash.load_cccds(str(connection.peer_address))
        for characteristic in (self.session_status, self.event_log):
            value = stored.get(str(characteristic.uuid))
            if value is not None:
                self._server.write_cccd(connection, characteristic, value)

    # -- security -------------------------------------------------------------------------

    async def _require_bond(self, connection: Connection) -> None:
        """Refuse an unencrypted link: 0x05 without a bond, 0x0F with one (§2.3)."""
        if connection.is_encrypted:
            return
        keystore = connection.device.keystore
        bonded = keystore is not None and await keystore.get(str(connection.peer_address))
        code = (
            AttErrorCode.INSUFFICIENT_ENCRYPTION
            if bonded
            else AttErrorCode.INSUFFICIENT_AUTHENTICATION
        )
        raise _refuse(code)

    # -- Interval Timer Service -----------------------------------------------------------

    async def _read_info(self, connection: Connection) -> bytes:
        held = self._snapshots.get(connection)
        if held is not None:
            # A Read Blob continuing the Read Request of this snapshot (§2.4).
            value, served = held
            served += min(connection.att_mtu - 1, len(value) - served)
            if served >= len(value):
                del self._snapshots[connection]
            else:
                self._snapshots[connection] = (value, served)
            return value
        value = bytes(self.backend.timer_info(connection))
        if len(value) > connection.att_mtu - 1:
            self._snapshots[connection] = (value, connection.att_mtu - 1)
        return value

    async def _write_program(self, connection: Connection, value: bytes) -> None:
        await self._require_bond(connection)
        try:
            chunk = ProgramChunk.from_bytes(value)
        except DecodeError as exc:
            logger.info("program chunk refused: %s", exc)
            raise _refuse(AttErrorCode.INVALID_PARAMETER) from exc
        self._call(lambda: self.backend.stage(connection, chunk))

    async def _write_control(self, connection: Connection, value: bytes) -> None:
        await self._require_bond(connection)
        needed_op = _FEATURE_OF_OPCODE.get(value[0]) if value else None
        if needed_op is not None and not self.backend.features & needed_op:
            # an opcode whose feature is clear is unknown, whatever its length (§7.1)
            raise _refuse(AttErrorCode.OPCODE_NOT_SUPPORTED)
        try:
            request = parse_control(value)
        except UnknownOpcodeError as exc:
            raise _refuse(AttErrorCode.OPCODE_NOT_SUPPORTED) from exc
        except DecodeError as exc:
            raise _refuse(AttErrorCode.INVALID_PARAMETER) from exc
        needed = _FEATURE_OF.get(type(request))
        if needed is not None and not self.backend.features & needed:
            raise _refuse(AttErrorCode.OPCODE_NOT_SUPPORTED)
        logger.debug("control point: %s", request)
        if isinstance(request, ReplayEvents):
            assert self.device is not None and self.notifier is not None
            if not notifying(self.device, connection, self.event_log):
                raise _refuse(AttErrorCode.CCCD_IMPROPERLY_CONFIGURED)
            self.notifier.replay(connection, tuple(self.backend.backlog()))
            return
        self._call(lambda: self.backend.control(connection, request))

    async def _read_status(self, connection: Connection) -> bytes:
        await self._require_bond(connection)
        return bytes(self.backend.session_status())

    async def _read_events(self, connection: Connection) -> bytes:
        await self._require_bond(connection)
        size = record_size_of(self.backend.features)
        room = events_per_batch(connection.att_mtu - 1, size)
        events = tuple(self.backend.backlog())
        more = len(events) > room
        flags = BatchFlags.MORE if more else BatchFlags(0)
        return bytes(EventBatch(flags, events[:room], size))

    @staticmethod
    def _call(action: Callable[[], None]) -> None:
        try:
            action()
        except AttError as exc:
            logger.info("refused: %s", exc)
            raise _refuse(int(exc.code)) from exc
        except Exception as exc:
            # A bug in the watch must still answer the request, or the client waits 30 s.
            logger.exception("request failed inside the watch")
            raise _refuse(_UNLIKELY_ERROR) from exc

    # -- Current Time Service -------------------------------------------------------------

    async def _read_current_time(self, _connection: Connection) -> bytes:
        return bytes(self.backend.current_time())

    async def _write_current_time(self, connection: Connection, value: bytes) -> None:
        await self._require_bond(connection)
        current = self._decode_cts(CurrentTime.from_bytes, value, 10)
        utc = cts_to_utc(current, self.backend.local_time())
        if utc is None:
            raise _refuse(_CTS_DATA_FIELD_IGNORED)
        self.backend.set_utc(utc)

    async def _read_local_time(self, _connection: Connection) -> bytes:
        return bytes(self.backend.local_time())

    async def _write_local_time(self, connection: Connection, value: bytes) -> None:
        await self._require_bond(connection)
        self.backend.set_local_time(self._decode_cts(LocalTimeInformation.from_bytes, value, 2))

    @staticmethod
    def _decode_cts(decode: Callable[[bytes], _T], value: bytes, size: int) -> _T:
        if len(value) != size:
            raise _refuse(_INVALID_LENGTH)
        try:
            return decode(value)
        except DecodeError as exc:
            raise _refuse(_OUT_OF_RANGE) from exc
