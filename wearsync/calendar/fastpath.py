"""A fast path in front of aiohttp for the requests calendar apps poll with.

aiohttp's per-request machinery (request and response objects, header multidicts, the stream
writer) caps a constant ``304`` at about a fifth of what the loop itself can carry. Calendar
apps poll with the plainest requests there are (``GET /feeds/<token>.ics HTTP/1.1``, a Host, an
If-None-Match), so this protocol answers those itself, from the same
:meth:`~wearsync.calendar.feed.FeedServer.answer` that the aiohttp handler uses, and writes the
response bytes directly.

It is strict and hands over rather than guess: the first request it does not fully understand
(not GET or HEAD, not HTTP/1.1, no Host, a body or the headers announcing one, Expect or
Upgrade, obsolete line folding, bytes outside visible ASCII, a head over 8190 bytes) makes
it give the connection, with every byte it has not consumed, to aiohttp's own protocol, which
parses from there as if it had had the connection all along. Requests it does answer have no
body, so where one ends is never in doubt.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from http import HTTPStatus

from wearsync.calendar.httputil import Answer, HttpDate

MAX_HEAD = 8190
"""The largest request head answered here: aiohttp's own limit on a header field, so that a
head one path accepts the other would too. Larger heads go to aiohttp, which applies its
limits (a 10 kB path still gets the feed's 404; a 20 kB field gets aiohttp's 400)."""
MAX_FIELDS = 100

AnswerFn = Callable[[str, str, Mapping[str, str], str | None], Answer]

# One pass checks the whole head: the request line, then fields of visible ASCII with no
# folding. Per-line matching costs several times more, and this runs on every request.
_HEAD = re.compile(
    rb"(GET|HEAD) (/[!-~]*) HTTP/1\.1((?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*[ -~\t]*)*)"
)
_HAND_OVER = frozenset({"content-length", "transfer-encoding", "expect", "upgrade"})
_NO_LENGTH = frozenset({204, 304})


def parse_head(head: bytes) -> tuple[str, str, dict[str, str], bool] | None:
    """Parse a request head (without its final CRLF CRLF), or None if it is not plain.

    Returns:
        ``(method, target, fields, close)``: fields by lower-case name (repeats joined with
        ``", "``), and whether the client asked to close the connection.
    """
    match = _HEAD.fullmatch(head)
    if match is None:
        return None
    lines = match.group(3).decode("ascii").split("\r\n")
    if len(lines) > MAX_FIELDS + 1:
        return None
    fields: dict[str, str] = {}
    for line in lines[1:]:  # lines[0] is the empty text before the first CRLF
        name, _, value = line.partition(":")
        name = name.lower()
        if name in _HAND_OVER:
            return None
        value = value.strip(" \t")
        fields[name] = f"{fields[name]}, {value}" if name in fields else value
    if "host" not in fields:
        return None
    close = "close" in (t.strip().lower() for t in fields.get("connection", "").split(","))
    return match.group(1).decode(), match.group(2).decode("ascii"), fields, close


class FastPath:
    """Makes protocols for the listening socket and keeps track of their connections.

    Args:
        answer: decides the response to a request (``FeedServer.answer``).
        fallback: makes the aiohttp protocol a connection is handed to (an ``aiohttp.web.Server``).
        idle_seconds: how long an idle keep-alive connection is kept open.
    """

    def __init__(
        self,
        answer: AnswerFn,
        fallback: Callable[[], asyncio.Protocol],
        *,
        idle_seconds: float,
    ) -> None:
        self._answer = answer
        self._fallback = fallback
        self._idle = idle_seconds
        self._date = HttpDate()
        self._connections: set[_Connection] = set()
        self._sweeper: asyncio.TimerHandle | None = None

    def protocol(self) -> asyncio.Protocol:
        """A protocol for one new connection."""
        return _Connection(self)

    def close_all(self) -> None:
        """Close every connection still held here (those handed to aiohttp are its own)."""
        for connection in list(self._connections):
            connection.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

    def render(self, answer: Answer, *, head_only: bool, close: bool) -> list[bytes]:
        """The response bytes: status line and fields, then the body unless HEAD or 304."""
        tail = f"Date: {self._date.now()}\r\n"
        if close:
            tail += "Connection: close\r\n"
        head = _fixed_head(answer) + tail.encode("latin-1") + b"\r\n"
        if head_only or answer.status in _NO_LENGTH or not answer.body:
            return [head]
        return [head, answer.body]

    def _track(self, connection: _Connection) -> None:
        self._connections.add(connection)
        if self._sweeper is None:
            loop = asyncio.get_running_loop()
            self._sweeper = loop.call_later(self._idle / 4, self._sweep)

    def _forget(self, connection: _Connection) -> None:
        self._connections.discard(connection)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        cutoff = loop.time() - self._idle
        for connection in list(self._connections):
            if connection.last_active < cutoff:
                connection.close()
        self._sweeper = loop.call_later(self._idle / 4, self._sweep) if self._connections else None


@lru_cache(maxsize=64)
def _fixed_head(answer: Answer) -> bytes:
    """The part of a response head that does not change between requests (all but Date)."""
    # Answers are frozen and kept by the server between builds, so each is rendered once.
    lines = [f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in answer.headers)
    if answer.status not in _NO_LENGTH:
        lines.append(f"Content-Length: {len(answer.body)}\r\n")
    lines.append("Server: wearsync\r\n")
    return "".join(lines).encode("latin-1")


class _Connection(asyncio.Protocol):
    """One client connection, until it closes or goes to aiohttp."""

    def __init__(self, owner: FastPath) -> None:
        self._owner = owner
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._remote: str | None = None
        self._paused = False
        self.last_active = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._remote = str(peer[0]) if peer else None
        self.last_active = asyncio.get_running_loop().time()
        self._owner._track(self)

    def data_received(self, data: bytes) -> None:
        self.last_active = asyncio.get_running_loop().time()
        self._buffer += data
        self._serve()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._owner._forget(self)

    def pause_writing(self) -> None:
        # A client that does not read: stop answering (and reading) until its buffer drains.
        self._paused = True
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        if self._transport is not None:
            self._transport.resume_reading()
            self._serve()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _serve(self) -> None:
        while not self._paused and self._transport is not None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    self._hand_over()
                return
            parsed = parse_head(bytes(self._buffer[:end])) if end <= MAX_HEAD else None
            if parsed is None:
                self._hand_over()
                return
            del self._buffer[: end + 4]
            method, target, fields, close = parsed
            answer = self._owner._answer(method, target, fields, self._remote)
            self._transport.writelines(
                self._owner.render(answer, head_only=method == "HEAD", close=close)
            )
            if close:
                self._transport.close()
                return

    def _hand_over(self) -> None:
        transport = self._transport
        assert transport is not None
        self._transport = None
        self._owner._forget(self)
        protocol = self._owner._fallback()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if self._buffer:
            protocol.data_received(bytes(self._buffer))
            self._buffer.clear()
