"""The watch's event log: events kept until acknowledged, with a capacity (§9.4).

Pure bookkeeping over :class:`~codec.EventRecord`; the watch persists it through
:mod:`wearsync.watches.wearsync_timer.sim.flash` after every change and serves it over GATT.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from wearsync.watches.wearsync_timer.codec import AttError, AttErrorCode, EventId, EventRecord


@dataclass
class EventLog:
    """Unacknowledged events, oldest first, and what the log must remember about the past.

    Attributes:
        capacity: the most events held (Timer Info ``event_capacity``).
        events: the unacknowledged events, oldest first.
        lost: events were dropped for lack of room since the last ACK_EVENTS (EVENTS_LOST).
        newest: the id of the newest event ever recorded, acknowledged or not; ACK_EVENTS
            beyond it fails.
    """

    capacity: int = 256
    events: list[EventRecord] = field(default_factory=list)
    lost: bool = False
    newest: EventId | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.capacity <= 0xFFFF:
            raise ValueError(f"event capacity {self.capacity} is outside 1..65535")
        # A log loaded from flash written with a larger capacity keeps only the newest events.
        self._trim()

    def append(self, event: EventRecord) -> None:
        """Record ``event``; when full, drop the oldest unacknowledged one and set :attr:`lost`."""
        self.events.append(event)
        if self.newest is None or event.id > self.newest:
            self.newest = event.id
        self._trim()

    def ack(self, boot_id: int, seq: int) -> int:
        """Remove every event up to and including ``(boot_id, seq)`` and clear :attr:`lost`.

        Returns:
            How many events were removed (0 when they were already gone).

        Raises:
            AttError: ``ACK_OUT_OF_RANGE`` if the id is past the newest event ever recorded;
                then nothing changes.
        """
        upto = EventId(boot_id, seq)
        if self.newest is None or upto > self.newest:
            newest = (
                "none" if self.newest is None else f"({self.newest.boot_id}, {self.newest.seq})"
            )
            raise AttError(
                AttErrorCode.ACK_OUT_OF_RANGE, f"({boot_id}, {seq}) is past the newest, {newest}"
            )
        before = len(self.events)
        self.events = [e for e in self.events if e.id > upto]
        self.lost = False
        return before - len(self.events)

    def extend(self, events: Iterable[EventRecord]) -> None:
        """Record several events in order."""
        for event in events:
            self.append(event)

    def _trim(self) -> None:
        overflow = len(self.events) - self.capacity
        if overflow > 0:
            del self.events[:overflow]
            self.lost = True
