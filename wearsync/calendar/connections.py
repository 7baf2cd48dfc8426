"""A ceiling on the feed server's open connections, below the process's file-descriptor limit.

Each connection holds a file descriptor. Without a ceiling, a few hundred idle connections use up
``RLIMIT_NOFILE``: every ``accept()`` then fails with EMFILE, the server answers nobody, and
asyncio logs a traceback for each failure. :class:`ConnectionGuard` keeps the count below the
limit with room to spare (for the database, the log and asyncio's own descriptors, and for a
whole backlog accepted at once); when a new connection would pass the ceiling, the connection
that has been quiet longest is closed, so a real request still gets through a flood of idle
sockets. The condition is logged once per episode, not once per connection.

aiohttp closes connections that stay idle (no request yet, or between keep-alive requests) after
its keep-alive timeout; the guard only has to act while that timeout has not run out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
from collections import OrderedDict
from typing import Any

from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

log = logging.getLogger("wearsync.calendar.feed")

BACKLOG = 16
"""The listen backlog. asyncio accepts up to this many connections per wake-up, and a
connection reaches the guard (and a closed one frees its descriptor) a loop iteration or two
later, so up to a few backlogs of descriptors are in flight beyond the guard's count."""
RESERVE = 4 * BACKLOG + 32
"""Descriptors kept free beyond those open when the server starts: the accepts and closes in
flight, and some for the database, logging and whatever the process opens later."""
MAX_CONNECTIONS = 512
"""The ceiling when the descriptor limit allows more (a calendar feed needs few)."""


def open_descriptors() -> int:
    """How many file descriptors the process has open (Linux and macOS; else a guess)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder))
        except OSError:
            continue
    return 64


def connection_ceiling(limit: int | None = None) -> int:
    """The most connections to keep open: ``limit`` (default :data:`MAX_CONNECTIONS`), lowered
    to what the soft ``RLIMIT_NOFILE`` leaves after the open descriptors and :data:`RESERVE`."""
    wanted = MAX_CONNECTIONS if limit is None else limit
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    room = soft - open_descriptors() - RESERVE
    return max(1, min(wanted, room))


class ConnectionGuard:
    """Counts open connections and closes the quietest one past the ceiling.

    Args:
        ceiling: the most connections kept open (see :func:`connection_ceiling`).
    """

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        # Least recently active first: data_received moves a connection to the end.
        self._open: OrderedDict[_GuardedHandler, asyncio.Transport] = OrderedDict()
        self._warned = False
        self.evicted = 0

    @property
    def count(self) -> int:
        """Connections open now."""
        return len(self._open)

    def factory(self, server: Server, **kwargs: Any) -> _GuardedHandler:
        """A protocol for one new connection, served by aiohttp's ``server``."""
        return _GuardedHandler(self, server, loop=asyncio.get_running_loop(), **kwargs)

    def opened(self, handler: _GuardedHandler, transport: asyncio.Transport) -> None:
        self._open[handler] = transport
        while len(self._open) > self.ceiling:
            quiet, quiet_transport = next(iter(self._open.items()))
            del self._open[quiet]
            self.evicted += 1
            quiet_transport.abort()  # an idle connection has nothing to flush
            if not self._warned:
                self._warned = True
                log.warning(
                    "feed: %d connections open, the most this process's file-descriptor "
                    "limit allows; closing the longest idle ones",
                    self.ceiling,
                )

    def active(self, handler: _GuardedHandler) -> None:
        if handler in self._open:
            self._open.move_to_end(handler)

    def closed(self, handler: _GuardedHandler) -> None:
        self._open.pop(handler, None)
        if self._warned and len(self._open) <= self.ceiling // 2:
            self._warned = False  # the episode is over; log the next one again

    def close_all(self) -> None:
        """Close every open connection (on shutdown)."""
        for transport in list(self._open.values()):
            transport.abort()
        self._open.clear()


class _GuardedHandler(RequestHandler):
    """aiohttp's connection handler, reporting to a :class:`ConnectionGuard`."""

    def __init__(self, guard: ConnectionGuard, server: Server, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self._guard = guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert isinstance(transport, asyncio.Transport)
        self._guard.opened(self, transport)

    def data_received(self, data: bytes) -> None:
        self._guard.active(self)
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._guard.closed(self)
        super().connection_lost(exc)
