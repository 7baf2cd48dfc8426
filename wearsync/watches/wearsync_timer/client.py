"""The client side of the WearSync Interval Timer Service over a connected bleak client.

Every method is one procedure of docs/protocol.md §12 in terms of the pure codecs of
:mod:`codec`; nothing here decides *whether* to push or acknowledge (that is
:mod:`wearsync.sync`). Notifications are queued as raw bytes by the bleak callback and decoded by
the consumer, so a malformed value from a device is logged and dropped, never raised inside
bleak's callback.

A watch is not trusted to follow the protocol. Values longer than an attribute can be, and
notifications beyond :data:`MAX_QUEUED_VALUES` not yet consumed, are dropped on arrival; events
from a boot after the watch's current one cannot exist and are dropped; a replay is bounded by
the events the watch said it holds and by a deadline, and one that overruns either raises
:class:`ProtocolViolationError` with nothing stored or acknowledged. A Timer Info or Event Log
read that does not decode raises it too, naming the watch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from wearsync.ble.errors import LinkLostError, ble_errors
from wearsync.sync.reports import SyncError
from wearsync.watches.wearsync_timer.codec import (
    AckEvents,
    BatchFlags,
    Commit,
    DecodeError,
    EventBatch,
    EventRecord,
    Feature,
    ReplayEvents,
    SessionStatusValue,
    StartEntry,
    StartSession,
    StopSession,
    TimerInfo,
    UnsupportedVersionError,
    clock_values,
    program_chunks,
    program_crc,
)
from wearsync.watches.wearsync_timer.codec import uuids as U
from wearsync.watches.wearsync_timer.codec.transfer import MAX_ATTRIBUTE_SIZE

if TYPE_CHECKING:
    from wearsync.ble.types import BleClient, GattCharacteristic

log = logging.getLogger(__name__)

#: Queued by :meth:`TimerClient.link_lost` to wake whoever waits for a notification.
_LINK_LOST: Final = b"<link lost>"

#: How long to wait for the next replay batch before giving up (the watch sends them at once).
REPLAY_BATCH_TIMEOUT_S: Final = 5.0
#: A whole replay's deadline: this, plus :data:`REPLAY_SECONDS_PER_EVENT` per event the watch
#: reports. 65535 events at 20 a batch and one batch per 7.5 ms connection event take 25 s.
REPLAY_BASE_DEADLINE_S: Final = 30.0
REPLAY_SECONDS_PER_EVENT: Final = 0.002
#: Records a replay may carry beyond the backlog Timer Info reported: live events recorded
#: while it runs (a session going on during a sync).
REPLAY_SLACK_EVENTS: Final = 256
#: Event Log values received but not yet consumed; a watch flooding notifications past this
#: while nobody reads them has the excess dropped, so memory stays bounded.
MAX_QUEUED_VALUES: Final = 4096

_ADVICE: Final = (
    "the watch's firmware does not follow docs/protocol.md; nothing was stored or "
    "acknowledged, so sync again, and report it to the firmware's authors if it persists"
)


class ProtocolViolationError(SyncError):
    """The watch sent something docs/protocol.md rules out: an undecodable read, a replay that
    does not end. Nothing of it is stored or acknowledged.

    Attributes:
        address: the watch's address.
    """

    def __init__(self, address: str, problem: str) -> None:
        super().__init__(f"{address}: {problem}", hint=_ADVICE)
        self.address = address


@dataclass(frozen=True)
class Replay:
    """The backlog collected by a replay.

    Attributes:
        events: every event received (replayed or live), in log order, without duplicates.
        rejected: notifications that could not be decoded (logged and dropped).
    """

    events: tuple[EventRecord, ...]
    rejected: int


class TimerClient:
    """Speaks the timer service to one connected watch.

    Args:
        client: a connected bleak client (any backend).
        address: the watch's address, for error messages.
    """

    def __init__(self, client: BleClient, *, address: str) -> None:
        self.client = client
        self.address = address
        # Unbounded so that _LINK_LOST always fits; _on_event_value bounds what a watch adds.
        self._events: asyncio.Queue[bytes] = asyncio.Queue()
        self._status_listeners: list[Callable[[SessionStatusValue], None]] = []
        self._event_listeners: list[Callable[[EventRecord], None]] = []
        self._notifying = False
        self._status_notifying = False
        self.rejected_notifications = 0

    @property
    def mtu(self) -> int:
        """The negotiated ATT MTU."""
        return int(self.client.mtu_size)

    async def _read(self, uuid: object) -> bytes:
        with self._errors("read"):
            return bytes(await self.client.read_gatt_char(str(uuid)))

    async def _write(self, uuid: object, value: bytes, *, operation: str) -> None:
        with self._errors(operation):
            await self.client.write_gatt_char(str(uuid), value, response=True)

    def _errors(self, operation: str) -> AbstractContextManager[None]:
        # ATT error responses become GattError with the code; the sync layer reads the code.
        return ble_errors(address=self.address, operation=operation)

    # §12.1 / §12.2 ----------------------------------------------------------------------------

    async def read_info(self) -> TimerInfo:
        """Read Timer Info (one round trip).

        Raises:
            UnsupportedVersionError: the watch speaks another protocol version.
            ProtocolViolationError: the watch sent a malformed value.
        """
        value = await self._read(U.TIMER_INFO)
        try:
            info = TimerInfo.from_bytes(value)
        except UnsupportedVersionError:
            raise
        except DecodeError as exc:
            raise ProtocolViolationError(self.address, f"unreadable Timer Info: {exc}") from exc
        if info.unacked_events > info.event_capacity:
            log.warning(
                "%s: Timer Info claims %d unacknowledged events in a log of %d",
                self.address,
                info.unacked_events,
                info.event_capacity,
            )
        return info

    async def push_program(self, program: bytes) -> None:
        """Stage ``program`` in MTU-sized chunks and commit it (§12.1).

        One Write Request per chunk (one for the foot routine at MTU 247), then COMMIT. A cut
        link before the COMMIT's response leaves the old program on the watch (§6).

        Raises:
            GattError: the watch refused a chunk or the commit (``code`` says why, §11).
        """
        for chunk in program_chunks(program, self.mtu):
            await self._write(U.PROGRAM, bytes(chunk), operation="stage program")
        await self._write(
            U.CONTROL_POINT, bytes(Commit(program_crc(program))), operation="commit program"
        )

    # §12.6 ------------------------------------------------------------------------------------

    async def set_clock(self, now: datetime) -> None:
        """Write Local Time Information then Current Time for the aware local time ``now``.

        When the watch allows it, Local Time Information goes as a Write Command: ATT serves
        one bearer in order, so the Write Response to Current Time confirms both and the clock
        costs one round trip instead of two (docs/protocol.md §10.2, §12.6).
        """
        local, current = clock_values(now)
        char = self.client.services.get_characteristic(str(U.LOCAL_TIME_INFORMATION))
        ahead = char is not None and "write-without-response" in char.properties
        with self._errors("set time zone"):
            await self.client.write_gatt_char(
                str(U.LOCAL_TIME_INFORMATION), bytes(local), response=not ahead
            )
        await self._write(U.CURRENT_TIME, bytes(current), operation="set clock")

    async def set_local_time(self, now: datetime) -> None:
        """Write Local Time Information alone for aware local ``now`` (§5.9, §12.8).

        A Write Command where the watch allows it (no round trip: the next request's response
        confirms it, ATT serving the bearer in order), else a Write Request.
        """
        local, _current = clock_values(now)
        char = self.client.services.get_characteristic(str(U.LOCAL_TIME_INFORMATION))
        ahead = char is not None and "write-without-response" in char.properties
        with self._errors("set time zone"):
            await self.client.write_gatt_char(
                str(U.LOCAL_TIME_INFORMATION), bytes(local), response=not ahead
            )

    # §9, §12.3, §12.4 -------------------------------------------------------------------------

    async def enable_notifications(self, *, status: bool = True) -> None:
        """Subscribe to Event Log (and Session Status) notifications, once per connection.

        A sync needs only the Event Log (for the replay); a live session also wants Session
        Status. Each subscription is a CCCD write, so one round trip.
        """
        with self._errors("subscribe"):
            if not self._notifying:
                await self.client.start_notify(str(U.EVENT_LOG), self._on_event_value)
                self._notifying = True
            if status and not self._status_notifying:
                await self.client.start_notify(str(U.SESSION_STATUS), self._on_status_value)
                self._status_notifying = True

    def on_status(self, listener: Callable[[SessionStatusValue], None]) -> None:
        """Call ``listener`` with every Session Status notification."""
        self._status_listeners.append(listener)

    def on_event(self, listener: Callable[[EventRecord], None]) -> None:
        """Call ``listener`` with each event :meth:`next_live_events` receives."""
        self._event_listeners.append(listener)

    def _on_event_value(self, _char: GattCharacteristic, value: bytearray) -> None:
        # Checked here, before anything is kept: a hostile watch must not fill memory.
        if len(value) > MAX_ATTRIBUTE_SIZE:
            self._reject(f"an Event Log value of {len(value)} bytes (at most {MAX_ATTRIBUTE_SIZE})")
            return
        if self._events.qsize() >= MAX_QUEUED_VALUES:
            self._reject(f"an Event Log value beyond {MAX_QUEUED_VALUES} unread ones")
            return
        self._events.put_nowait(bytes(value))

    def _reject(self, what: str) -> None:
        self.rejected_notifications += 1
        log.warning("%s: dropped %s", self.address, what)

    def _on_status_value(self, _char: GattCharacteristic, value: bytearray) -> None:
        try:
            status = SessionStatusValue.from_bytes(bytes(value))
        except DecodeError as exc:
            self.rejected_notifications += 1
            log.warning("%s: dropped a malformed Session Status: %s", self.address, exc)
            return
        for listener in self._status_listeners:
            listener(status)

    def _decode_batch(self, value: bytes) -> EventBatch | None:
        try:
            return EventBatch.from_bytes(value)
        except DecodeError as exc:
            self._reject(f"a malformed Event Log value: {exc}")
            return None

    def _keep(
        self,
        events: tuple[EventRecord, ...],
        into: dict[tuple[int, int], EventRecord],
        *,
        boot_id: int | None,
    ) -> None:
        for event in events:
            if boot_id is not None and event.boot_id > boot_id:
                # Boot ids only grow (§9.4): a record from a later boot than the watch's own
                # is made up, and storing it would shadow the real one when that boot comes.
                self._reject(
                    f"event {event.boot_id}/{event.seq} from a boot after the current {boot_id}"
                )
                continue
            into[(event.boot_id, event.seq)] = event

    async def replay(self, info: TimerInfo, *, deadline_s: float | None = None) -> Replay:
        """Collect the unacknowledged backlog (§12.3 by replay, §9.5.1 by reads otherwise).

        Events are returned in log order and de-duplicated by id; nothing is acknowledged.
        Events are accepted from the current boot and earlier ones only (``info.boot_id``).

        Args:
            info: the Timer Info read at the start of this sync.
            deadline_s: how long the whole replay may take (default: from the backlog size).

        Raises:
            LinkLostError: the link went down during the replay.
            ProtocolViolationError: the replay carried more records than the watch reported,
                or did not end by the deadline, or the Event Log read did not decode.
        """
        rejected_before = self.rejected_notifications
        seen: dict[tuple[int, int], EventRecord] = {}
        if info.features & Feature.EVENT_REPLAY:
            # Only a replay needs the Event Log's notifications (§9.5.2); reads do not.
            await self.enable_notifications(status=False)
            self._drain_queue(seen, boot_id=info.boot_id)
            await self._write(U.CONTROL_POINT, bytes(ReplayEvents()), operation="replay events")
            await self._collect_replay(info, seen, deadline_s)
        else:
            self._keep(await self._read_backlog(), seen, boot_id=info.boot_id)
        self._drain_queue(seen, boot_id=info.boot_id)
        ordered = tuple(seen[k] for k in sorted(seen))
        if info.unacked_events and not ordered:
            log.warning(
                "%s: Timer Info claimed %d unacknowledged events; the replay had none",
                self.address,
                info.unacked_events,
            )
        return Replay(ordered, self.rejected_notifications - rejected_before)

    async def _collect_replay(
        self, info: TimerInfo, seen: dict[tuple[int, int], EventRecord], deadline_s: float | None
    ) -> None:
        # The watch holds at most event_capacity events; a hostile Timer Info may claim more
        # unacknowledged ones than that, so the smaller bounds what an honest replay sends.
        limit = min(info.unacked_events, info.event_capacity) + REPLAY_SLACK_EVENTS
        if deadline_s is None:
            deadline_s = REPLAY_BASE_DEADLINE_S + REPLAY_SECONDS_PER_EVENT * limit
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadline_s
        records = batches = 0
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise ProtocolViolationError(
                    self.address, f"the event replay did not end within {deadline_s:g} s"
                )
            try:
                async with asyncio.timeout(min(REPLAY_BATCH_TIMEOUT_S, left)):
                    value = await self._events.get()
            except TimeoutError:
                if loop.time() >= deadline:
                    continue  # reported as a deadline overrun above
                log.warning("%s: replay ended without REPLAY_END", self.address)
                return
            if value is _LINK_LOST:
                raise LinkLostError(
                    f"link lost with {self.address} during replay", address=self.address
                )
            batches += 1
            batch = self._decode_batch(value)
            records += 0 if batch is None else len(batch.events)
            # Every batch but the last carries a record, so batches are bounded by records.
            if records > limit or batches > limit:
                raise ProtocolViolationError(
                    self.address,
                    f"the event replay went on past {limit} events (Timer Info reported "
                    f"{info.unacked_events} of {info.event_capacity})",
                )
            if batch is None:
                continue
            self._keep(batch.events, seen, boot_id=info.boot_id)
            if batch.flags & BatchFlags.REPLAY_END:
                return

    async def _read_backlog(self) -> tuple[EventRecord, ...]:
        # Reads do not consume events; without acknowledging between reads the same oldest
        # batch comes back, so read once here and let the caller ack and sync again.
        value = await self._read(U.EVENT_LOG)
        try:
            return EventBatch.from_bytes(value).events
        except DecodeError as exc:
            raise ProtocolViolationError(self.address, f"unreadable Event Log: {exc}") from exc

    def _drain_queue(
        self, into: dict[tuple[int, int], EventRecord], *, boot_id: int | None = None
    ) -> None:
        while not self._events.empty():
            value = self._events.get_nowait()
            if value is _LINK_LOST:
                continue
            batch = self._decode_batch(value)
            if batch is not None:
                self._keep(batch.events, into, boot_id=boot_id)

    def link_lost(self) -> None:
        """Tell waiters that the link is gone (call from the disconnected callback)."""
        self._events.put_nowait(_LINK_LOST)

    async def next_live_events(self) -> list[EventRecord]:
        """Wait for the next Event Log notification and return its events (wrap in a timeout).

        Raises:
            LinkLostError: the link went down while waiting.
        """
        value = await self._events.get()
        if value is _LINK_LOST:
            raise LinkLostError(f"link lost with {self.address}", address=self.address)
        batch = self._decode_batch(value)
        events = list(batch.events) if batch is not None else []
        for event in events:
            for listener in self._event_listeners:
                listener(event)
        return events

    async def ack(self, boot_id: int, seq: int) -> None:
        """Acknowledge every event up to and including ``(boot_id, seq)`` (§12.4)."""
        await self._write(
            U.CONTROL_POINT, bytes(AckEvents(boot_id, seq)), operation="acknowledge events"
        )

    # §12.5 ------------------------------------------------------------------------------------

    async def start_session(self, identity: bytes, entry: int = 0) -> None:
        """Start the committed program, which must have ``identity``, or its entry ``entry``
        (START_ENTRY, §7.7; only on a watch with feature ENTRIES)."""
        request = StartEntry(identity, entry) if entry else StartSession(identity)
        await self._write(U.CONTROL_POINT, bytes(request), operation="start session")

    async def stop_session(self) -> None:
        """End a running or paused session (§7.5); succeeds when idle too."""
        await self._write(U.CONTROL_POINT, bytes(StopSession()), operation="stop session")

    async def read_status(self) -> SessionStatusValue:
        """Read Session Status."""
        return SessionStatusValue.from_bytes(await self._read(U.SESSION_STATUS))
