"""The watch's outgoing notifications, sent one at a time in the order the watch made them.

Session Status changes, live events and replays all go through one queue drained by one
task, so a client sees them in the order they happened (§8.1, §9.5): a replay's batches, then
the events recorded while it was asked for, flagged LIVE. Events recorded at one moment go out
together (§12.5 shows SESSION_STARTED and STEP_STARTED in one batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bumble import gatt
from bumble.device import Connection, Device

from wearsync.watches.wearsync_timer.codec import (
    BatchFlags,
    EventBatch,
    EventRecord,
    SessionStatusValue,
    events_per_batch,
)
from wearsync.watches.wearsync_timer.codec.events import EVENT_RECORD_SIZE

logger = logging.getLogger(__name__)

_NOTIFY_BIT: Final = 0x01


def notifying(
    device: Device, connection: Connection, characteristic: gatt.Characteristic[bytes]
) -> bool:
    """Whether ``connection`` enabled notifications of ``characteristic`` in its CCCD."""
    cccd = device.gatt_server.read_cccd(connection, characteristic)
    return bool(cccd and cccd[0] & _NOTIFY_BIT)


@dataclass
class _Job:
    status: bytes | None = None
    event: EventRecord | None = None
    replay_to: Connection | None = None
    replay: tuple[EventRecord, ...] = ()


class Notifier:
    """Queues and sends the notifications of Session Status and Event Log.

    Args:
        device: the watch's bumble device.
        session_status: the Session Status characteristic.
        event_log: the Event Log characteristic.
    """

    def __init__(
        self,
        device: Device,
        session_status: gatt.Characteristic[bytes],
        event_log: gatt.Characteristic[bytes],
        record_size: int = EVENT_RECORD_SIZE,
    ) -> None:
        self.device = device
        self.session_status = session_status
        self.event_log = event_log
        self.record_size = record_size
        self._jobs: deque[_Job] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task = asyncio.get_running_loop().create_task(self._send_forever())

    def status(self, status: SessionStatusValue) -> None:
        """Queue a Session Status notification to every subscribed client."""
        self._push(_Job(status=bytes(status)))

    def live(self, event: EventRecord) -> None:
        """Queue a live Event Log notification of ``event`` (§9.5.3)."""
        self._push(_Job(event=event))

    def replay(self, connection: Connection, events: tuple[EventRecord, ...]) -> None:
        """Queue the replay of ``events`` to ``connection`` (§9.5.2).

        A new replay restarts the replay: one not yet sent to the connection is replaced.
        """
        stale = [j for j in self._jobs if j.replay_to is connection]
        for job in stale:
            self._jobs.remove(job)
        self._push(_Job(replay_to=connection, replay=events))

    async def drain(self) -> None:
        """Wait until every queued notification has been handed to the radio."""
        while self._jobs or not self._idle.is_set():
            await self._idle.wait()
            await asyncio.sleep(0)

    async def close(self) -> None:
        """Stop sending; what is still queued is dropped."""
        self._jobs.clear()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._idle.set()

    def _push(self, job: _Job) -> None:
        self._jobs.append(job)
        self._idle.clear()
        self._wake.set()

    async def _send_forever(self) -> None:
        while True:
            if not self._jobs:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self._send(self._jobs.popleft())
            except Exception:
                # A client gone mid-notification must not stop the others' notifications.
                logger.exception("notification failed")

    async def _send(self, job: _Job) -> None:
        if job.status is not None:
            status = job.status
            await self._notify_all(self.session_status, lambda _c: [status])
        elif job.event is not None:
            live = [job.event, *self._take_live()]
            await self._notify_all(self.event_log, lambda c: _batches(c, live, self.record_size))
        elif job.replay_to is not None:
            await self._send_replay(job.replay_to, job.replay)

    def _take_live(self) -> list[EventRecord]:
        taken: list[EventRecord] = []
        while self._jobs and self._jobs[0].event is not None:
            event = self._jobs.popleft().event
            assert event is not None
            taken.append(event)
        return taken

    async def _notify_all(
        self,
        characteristic: gatt.Characteristic[bytes],
        values: Callable[[Connection], list[bytes]],
    ) -> None:
        for connection in list(self.device.connections.values()):
            if notifying(self.device, connection, characteristic):
                for value in values(connection):
                    await self.device.notify_subscriber(connection, characteristic, value)

    async def _send_replay(self, connection: Connection, events: tuple[EventRecord, ...]) -> None:
        room = events_per_batch(connection.att_mtu - 3, self.record_size)
        if room == 0:
            logger.warning("ATT_MTU %d is too small to replay events", connection.att_mtu)
            return
        chunks = [events[i : i + room] for i in range(0, len(events), room)] or [()]
        for n, chunk in enumerate(chunks):
            flags = BatchFlags.REPLAY_END if n == len(chunks) - 1 else BatchFlags.MORE
            value = bytes(EventBatch(flags, chunk, self.record_size))
            await self.device.notify_subscriber(connection, self.event_log, value)


def _batches(
    connection: Connection, events: Sequence[EventRecord], record_size: int
) -> list[bytes]:
    """LIVE batches of ``events`` that each fit one notification on ``connection``."""
    room = events_per_batch(connection.att_mtu - 3, record_size)
    if room == 0:
        logger.warning("ATT_MTU %d is too small to notify an event", connection.att_mtu)
        return []
    return [
        bytes(EventBatch(BatchFlags.LIVE, tuple(events[i : i + room]), record_size))
        for i in range(0, len(events), room)
    ]
