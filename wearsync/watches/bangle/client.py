"""A line transport over the Nordic UART Service, for the Bangle.js (Espruino) driver.

The Bangle.js is a JavaScript REPL on the end of the Nordic UART Service: the central writes
text to RX and reads what the watch prints from TX notifications. :class:`UartClient` turns that
into whole lines: it splits outgoing lines into ATT writes of at most ``mtu - 3`` bytes (written
*with* response, so the watch's small input buffer is never overrun), and reassembles the
notifications into lines parsed by :func:`~wearsync.watches.bangle.messages.parse_line`.

The bleak notification callback only queues the raw bytes; assembling and parsing happen in the
consumer (:meth:`UartClient.next_message`), so a malformed line from the watch is logged and
counted in :attr:`UartClient.rejected_lines`, never raised inside bleak's callback.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final, TypeVar

from wearsync.ble.errors import BleError, BleTimeoutError, LinkLostError, ble_errors
from wearsync.protocol.errors import DecodeError
from wearsync.watches.bangle.codec import chunk_for_mtu
from wearsync.watches.bangle.messages import Event, LineAssembler, WatchMessage, parse_line

if TYPE_CHECKING:
    from wearsync.ble.types import BleClient, GattCharacteristic

log = logging.getLogger(__name__)

#: The Nordic UART Service and its two characteristics (Nordic's 128-bit UUIDs).
NUS_SERVICE: Final = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
#: The central writes here (the watch's receive side).
NUS_RX: Final = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
#: The watch notifies what it prints here (its transmit side).
NUS_TX: Final = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"

#: Queued by :meth:`UartClient.link_lost` to wake whoever waits for a line.
_LINK_LOST: Final = b"<link lost>"

M = TypeVar("M", bound=WatchMessage)


class GarbledReplyError(BleError):
    """The watch answered, but only with lines that are not valid wearsync messages.

    Attributes:
        operation: what was asked.
        rejected: how many malformed lines arrived meanwhile.
    """

    def __init__(self, operation: str, rejected: int, *, address: str | None = None) -> None:
        super().__init__(
            f"the watch answered {operation} with {rejected} malformed line(s)",
            address=address,
            hint="Another app on the watch may be printing over Bluetooth, or the runner is "
            "damaged: close other apps (or restart the watch) and sync again.",
        )
        self.operation = operation
        self.rejected = rejected


class UartClient:
    """Lines to and from a watch over the Nordic UART Service.

    Args:
        client: a connected bleak client (any backend).
        address: the watch's address, for error messages.
        max_line: longest line accepted from the watch; longer ones are dropped.

    Attributes:
        rejected_lines: lines that claimed to be ours but were malformed (or overflowed).
        writes: ATT writes sent to RX.
    """

    def __init__(self, client: BleClient, *, address: str, max_line: int = 16384) -> None:
        self.client = client
        self.address = address
        self.rejected_lines = 0
        self.writes = 0
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self._assembler = LineAssembler(max_line)
        self._parsed: deque[WatchMessage] = deque()
        self._seen: set[tuple[int, int]] = set()
        self._event_listeners: list[Callable[[Event], None]] = []
        self._lost = False
        self._rx: GattCharacteristic | None = None

    @property
    def mtu(self) -> int:
        """The negotiated ATT MTU."""
        return int(self.client.mtu_size)

    async def start(self) -> None:
        """Find the UART characteristics and subscribe to what the watch prints.

        Raises:
            BleError: the watch has no Nordic UART Service (the profile does not fit it).
        """
        rx = self.client.services.get_characteristic(NUS_RX)
        tx = self.client.services.get_characteristic(NUS_TX)
        if rx is None or tx is None:
            raise BleError(
                f"{self.address} does not offer the Nordic UART Service",
                address=self.address,
                hint="This watch is not a Bangle.js; check which profile matched it "
                "('wearsync devices scan').",
            )
        self._rx = rx
        with ble_errors(address=self.address, operation="subscribe to UART"):
            await self.client.start_notify(tx, self._on_tx)

    def _on_tx(self, _char: GattCharacteristic, value: bytearray) -> None:
        self._chunks.put_nowait(bytes(value))

    def link_lost(self) -> None:
        """Tell waiters that the link is gone (call from the disconnected callback)."""
        self._lost = True
        self._chunks.put_nowait(_LINK_LOST)

    def on_event(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener`` with every event the watch prints, once per ``(boot, seq)``."""
        self._event_listeners.append(listener)

    # -- sending ---------------------------------------------------------------------------

    async def send(self, lines: Iterable[bytes], *, packed: bool = True) -> None:
        """Write ``lines`` to the watch, each ATT write at most ``mtu - 3`` bytes.

        Args:
            lines: whole lines, each ending with ``\\n``.
            packed: fill every write, letting a line start in the write that ended the one
                before (fewest writes); otherwise every line starts a new write, so a line
                the watch must run before the next arrives is never split across two lines'
                writes (the upload's Storage writes).

        Raises:
            LinkLostError: the link went down.
            BleError: the watch refused a write.
        """
        if self._rx is None:
            raise RuntimeError("call start() before send()")
        batches = [b"".join(lines)] if packed else list(lines)
        with ble_errors(address=self.address, operation="write to UART"):
            for batch in batches:
                for chunk in chunk_for_mtu(batch, self.mtu):
                    self._check_link()
                    await self.client.write_gatt_char(self._rx, chunk, response=True)
                    self.writes += 1

    def _check_link(self) -> None:
        if self._lost:
            raise LinkLostError(f"link lost with {self.address}", address=self.address)

    # -- receiving -------------------------------------------------------------------------

    async def next_message(self) -> WatchMessage:
        """The next message of ours the watch printed (bound the wait with a timeout).

        Raises:
            LinkLostError: the link went down while waiting.
        """
        while not self._parsed:
            # What arrived before the link went down is still handed out first.
            if self._lost and self._chunks.empty():
                self._check_link()
            chunk = await self._chunks.get()
            if chunk is _LINK_LOST:
                continue
            overflows = self._assembler.overflows
            for line in self._assembler.feed(chunk):
                self._parse(line)
            if self._assembler.overflows > overflows:
                self.rejected_lines += self._assembler.overflows - overflows
                log.warning("%s: dropped an overlong line from the watch", self.address)
        return self._parsed.popleft()

    def _parse(self, line: bytes) -> None:
        try:
            message = parse_line(line)
        except DecodeError as exc:
            self.rejected_lines += 1
            log.warning("%s: dropped a malformed line from the watch: %s", self.address, exc)
            return
        if message is None:  # not ours (a REPL echo, another app's output)
            return
        if isinstance(message, Event):
            # Listeners hear each event once, though a dump may replay one already seen live.
            key = (message.boot, message.seq)
            if key not in self._seen:
                self._seen.add(key)
                for listener in self._event_listeners:
                    listener(message)
        self._parsed.append(message)

    async def first(
        self, match: Callable[[WatchMessage], bool], *, within: float, operation: str
    ) -> WatchMessage | None:
        """Wait for a message ``match`` accepts; ``None`` after ``within`` seconds.

        Messages it does not accept are passed over (event listeners have heard them).

        Raises:
            LinkLostError: the link went down while waiting.
        """
        try:
            async with asyncio.timeout(within):
                while True:
                    message = await self.next_message()
                    if match(message):
                        return message
                    if not isinstance(message, Event):
                        log.debug("%s: %s passed over: %r", self.address, operation, message)
        except TimeoutError:
            return None

    async def require_first(
        self, match: Callable[[WatchMessage], bool], *, within: float, operation: str
    ) -> WatchMessage:
        """Like :meth:`first`, but no answer is an error.

        Raises:
            GarbledReplyError: only malformed lines came back.
            BleTimeoutError: nothing came back in time.
            LinkLostError: the link went down.
        """
        rejected = self.rejected_lines
        found = await self.first(match, within=within, operation=operation)
        if found is not None:
            return found
        if self.rejected_lines > rejected:
            raise GarbledReplyError(operation, self.rejected_lines - rejected, address=self.address)
        raise BleTimeoutError(
            f"the watch did not answer {operation} within {within:g} s",
            operation=operation,
            timeout=within,
            address=self.address,
            hint="Keep the watch close and awake, and sync again.",
        )

    async def require(
        self, kind: type[M], match: Callable[[M], bool], *, within: float, operation: str
    ) -> M:
        """:meth:`require_first` for a message of ``kind`` that ``match`` accepts."""
        found = await self.require_first(
            lambda m: isinstance(m, kind) and match(m), within=within, operation=operation
        )
        assert isinstance(found, kind)
        return found
