"""A hostile watch: the simulated watch with a GATT face that breaks docs/protocol.md on purpose.

:class:`HostileWatch` is a real :class:`SimWatch` (bumble GATT server on the virtual link,
bonding, flash, event log), whose :class:`HostileTimerService` answers some procedures with
values a broken or malicious firmware could send: garbage and oversized Event Log values,
replays that never end, a Timer Info that claims impossible sizes. What it misbehaves in is
set per watch with :class:`Hostility`; everything else is the honest simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from bumble.device import Connection

from wearsync.watches.wearsync_timer.codec import (
    BatchFlags,
    EventBatch,
    EventRecord,
    ReplayEvents,
    TimerInfo,
    events_per_batch,
    parse_control,
)
from wearsync.watches.wearsync_timer.sim.notifier import notifying
from wearsync.watches.wearsync_timer.sim.timer_service import TimerService
from wearsync.watches.wearsync_timer.sim.watch import SimWatch


class Replay(Enum):
    """How the watch answers REPLAY_EVENTS (§9.5.2)."""

    HONEST = "honest"
    #: Garbage values first (random bytes, a bad record size, a partial record, 600 bytes),
    #: then the honest replay.
    GARBAGE_FIRST = "garbage-first"
    #: The honest batches, all flagged MORE, then silence: REPLAY_END never comes.
    NO_END = "no-end"
    #: MORE batches repeating the backlog, for as long as the link lasts.
    MORE_FOREVER = "more-forever"
    #: Records from a boot after the current one, which cannot exist, then the honest replay.
    FUTURE_BOOT = "future-boot"


@dataclass
class Hostility:
    """What a :class:`HostileWatch` does wrong.

    Attributes:
        info: rewrites each Timer Info value before it is encoded (None: honest).
        raw_info: bytes served instead of Timer Info (None: honest).
        event_log_read: bytes served for a Read of Event Log (None: honest).
        replay: how REPLAY_EVENTS is answered.
        sent: how many hostile notifications went out (a test checks it misbehaved).
    """

    info: Callable[[TimerInfo], TimerInfo] | None = None
    raw_info: bytes | None = None
    event_log_read: bytes | None = None
    replay: Replay = Replay.HONEST
    sent: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


#: Event Log values that are not batches of §9.2.
GARBAGE: tuple[bytes, ...] = (
    b"",
    b"\x00",
    os.urandom(57),
    bytes([0x01, 0x05]) + bytes(20),  # a record size under 28
    bytes([0x01, 28]) + bytes(30),  # a partial record
    bytes([0x01, 28]) + bytes(28 * 21 + 2),  # 600 bytes: more than an attribute value holds
)


class HostileTimerService(TimerService):
    """The timer service with the misbehaviour of its watch's :class:`Hostility`."""

    @property
    def hostility(self) -> Hostility:
        backend = self.backend
        assert isinstance(backend, HostileWatch)
        return backend.hostility

    async def _read_info(self, connection: Connection) -> bytes:
        if self.hostility.raw_info is not None:
            return self.hostility.raw_info
        return await super()._read_info(connection)

    async def _read_events(self, connection: Connection) -> bytes:
        await self._require_bond(connection)
        if self.hostility.event_log_read is not None:
            return self.hostility.event_log_read
        return await super()._read_events(connection)

    async def _write_control(self, connection: Connection, value: bytes) -> None:
        mode = self.hostility.replay
        if mode is Replay.HONEST or not isinstance(_parsed(value), ReplayEvents):
            await super()._write_control(connection, value)
            return
        await self._require_bond(connection)
        assert self.device is not None
        assert notifying(self.device, connection, self.event_log)
        task = asyncio.get_running_loop().create_task(self._misreplay(connection, mode))
        self.hostility.tasks.add(task)
        task.add_done_callback(self.hostility.tasks.discard)

    async def _misreplay(self, connection: Connection, mode: Replay) -> None:
        # Sent from a task after the Write Response, as the honest notifier does.
        await asyncio.sleep(0)
        room = events_per_batch(connection.att_mtu - 3)
        events = tuple(self.backend.backlog())
        chunks = [events[i : i + room] for i in range(0, len(events), room)] or [()]
        with contextlib.suppress(Exception):  # the client may hang up at any moment
            if mode is Replay.GARBAGE_FIRST:
                for value in GARBAGE:
                    await self._send(connection, value)
                await self._honest(connection, chunks)
            elif mode is Replay.FUTURE_BOOT:
                future = replace(events[0], boot_id=events[0].boot_id + 5, seq=0)
                await self._send(connection, bytes(EventBatch(BatchFlags.MORE, (future,))))
                await self._honest(connection, chunks)
            elif mode is Replay.NO_END:
                for chunk in chunks:
                    await self._send(connection, bytes(EventBatch(BatchFlags.MORE, chunk)))
            elif mode is Replay.MORE_FOREVER:
                # "Forever" is until the client hangs up; the cap only keeps a client that
                # fails to stop from hanging the test run.
                while self._still_connected(connection) and self.hostility.sent < 200_000:
                    for chunk in chunks:
                        await self._send(connection, bytes(EventBatch(BatchFlags.MORE, chunk)))
                        await asyncio.sleep(0)

    def _still_connected(self, connection: Connection) -> bool:
        assert self.device is not None
        return any(c is connection for c in self.device.connections.values())

    async def _honest(self, connection: Connection, chunks: list[tuple[EventRecord, ...]]) -> None:
        for n, chunk in enumerate(chunks):
            flags = BatchFlags.REPLAY_END if n == len(chunks) - 1 else BatchFlags.MORE
            await self.device.notify_subscriber(
                connection, self.event_log, bytes(EventBatch(flags, chunk))
            )

    async def _send(self, connection: Connection, value: bytes) -> None:
        assert self.device is not None
        self.hostility.sent += 1
        await self.device.notify_subscriber(connection, self.event_log, value)


def _parsed(value: bytes) -> object:
    try:
        return parse_control(value)
    except Exception:
        return None


class HostileWatch(SimWatch):
    """A :class:`SimWatch` serving :class:`HostileTimerService`; set :attr:`hostility`."""

    service_class = HostileTimerService

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hostility = Hostility()

    def timer_info(self, connection: Connection | None) -> TimerInfo:
        honest = super().timer_info(connection)
        rewrite = self.hostility.info
        return honest if rewrite is None else rewrite(honest)

    async def close(self) -> None:
        for task in list(self.hostility.tasks):
            task.cancel()
        await super().close()
