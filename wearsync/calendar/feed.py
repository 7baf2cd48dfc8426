"""The feed server: the calendar over HTTP at a secret URL, for calendar apps to subscribe to.

``GET /feeds/<token>.ics`` serves the calendar (``?history=all|recent|none`` and
``?view=combined|schedule|history`` pick a variant) with a strong ETag and Last-Modified, and
answers ``304 Not Modified`` to a matching If-None-Match (or, without one, an If-Modified-Since
not older than the calendar). HEAD is supported. The body is built once per change of the
source's revision (or of the hour: the history window and the missed marks move with the
clock), and served from memory, gzipped too for clients that ask.

Everything else is a plain 404 that says nothing about why: an unknown, malformed or old
token, a traversal attempt, an oversized path. The request target is matched as sent, never
percent-decoded, so ``%2e%2e`` or ``%2f`` cannot reach anything. Tokens are compared with
``hmac.compare_digest``. Nothing is logged per request, so tokens do not end up in logs.

Requests whose ``Host`` is not one of the server's own names or addresses (the bound host,
``localhost``, ``127.0.0.1``, ``[::1]``, the public URL's host, this machine's name and LAN
address when bound to a wildcard) get ``421 Misdirected Request``: a DNS-rebinding page in the
user's browser reaches 127.0.0.1 with its own name in Host and must not read the secret link.

``/`` is a small page with the subscribe links (webcal:// and http://), shown with the token
only to requests from a loopback address: on the default bind (127.0.0.1) that is whoever is
at the machine, and when the server is exposed with another host, people on the network see
the page without the secret. (A reverse proxy on the same machine makes every request look
local: do not forward ``/`` through one.)

Every answer is decided once, by :meth:`FeedServer.answer`; aiohttp parses and serves every
request. (A calendar is polled every few hours: aiohttp's rate is far more than enough, and a
hand-written HTTP parser in front of it disagreed with aiohttp on edge cases.)
"""

from __future__ import annotations

import asyncio
import gzip
import html
import logging
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from wearsync.calendar.connections import BACKLOG, ConnectionGuard, connection_ceiling
from wearsync.calendar.export import CalendarView, ExportedCalendar, ExportOptions, build_calendar
from wearsync.calendar.history import HistoryMode, HistoryRenderer
from wearsync.calendar.httputil import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    Answer,
    accepts_gzip,
    base_url,
    etag_matches,
    host_allowed,
    is_loopback,
    not_modified_since,
    server_names,
    webcal_url,
)
from wearsync.calendar.ports import EventLedger, FeedSource
from wearsync.calendar.qr import svg_qr
from wearsync.calendar.tokens import FeedTokens
from wearsync.errors import WearSyncError
from wearsync.records import utc_now

log = logging.getLogger(__name__)

MAX_TARGET = 1024
"""Longest request target looked at; anything longer is a 404 without further parsing."""
MAX_LINE = 16 * 1024
"""aiohttp's limit on the request line. Longer lines get aiohttp's own 400; between
:data:`MAX_TARGET` and this, the answer is the usual 404."""
KEEPALIVE_SECONDS = 15.0
"""How long a connection may stay idle (before its first request or between requests): calendar
apps poll every half hour or more, so holding connections longer only costs descriptors."""

_FEED_PATH = re.compile(r"/feeds/([A-Za-z0-9_-]{1,128})\.ics")
_CALENDAR_TYPE = "text/calendar; charset=utf-8"
_CACHE_CONTROL = "private, no-cache"  # store, but revalidate (cheap: 304s)
_NOT_FOUND_HEADERS = (
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
)


NOT_FOUND = Answer(404, _NOT_FOUND_HEADERS, b"Not Found")
MISDIRECTED = Answer(421, _NOT_FOUND_HEADERS, b"Misdirected Request")


class _ClientErrors(logging.Filter):
    """Drops aiohttp's report of a malformed request: the client got its 400, and a stream of
    bad requests must not become a stream of tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, HttpProcessingError)


_HTTP_LOG = logging.getLogger("wearsync.calendar.feed.http")
_HTTP_LOG.addFilter(_ClientErrors())

PageHandler = Callable[[str, str, str, Mapping[str, str]], Answer]
"""Answers the requests under a mounted prefix: ``(method, path after the prefix, query,
headers) -> Answer``. It returns :data:`NOT_FOUND` for anything it does not know."""


@dataclass(frozen=True, slots=True)
class _Variant:
    view: CalendarView
    history: HistoryMode


@dataclass(frozen=True, slots=True)
class _Built:
    key: Hashable
    exported: ExportedCalendar
    gzipped: bytes
    etag_gz: str
    ok: Answer
    ok_gz: Answer
    not_modified: Answer
    not_modified_gz: Answer


class FeedServer:
    """Serves the calendar of a :class:`~wearsync.calendar.ports.FeedSource` over HTTP.

    Example::

        server = FeedServer(source, ledger=SqliteEventLedger(conn), tokens=FeedTokens(store))
        await server.start()
        print(server.feed_url())      # http://127.0.0.1:8765/feeds/<token>.ics
        ...
        server.invalidate()           # sessions changed in a way the source cannot see
        await server.stop()

    Args:
        source: gives the routine, sessions and start date, and a cheap revision.
        ledger: the revision ledger (SEQUENCE and LAST-MODIFIED across builds).
        tokens: the secret feed token.
        host: the address to bind (127.0.0.1 by default: only this machine).
        port: the port; 0 picks a free one (see :attr:`port` after :meth:`start`).
        public_url: the base URL people reach the server at, if not ``http://host:port/``
            (e.g. behind a reverse proxy); links in the calendar and on ``/`` use it.
        options: export options; ``url`` is set to the server's page, and the variant chosen
            by the query overrides ``view`` and ``history``.
        clock: the current time (for tests that pin it).
        max_connections: the most connections kept open (default 512), lowered to fit the
            process's file-descriptor limit (:mod:`wearsync.calendar.connections`).
    """

    def __init__(
        self,
        source: FeedSource,
        *,
        ledger: EventLedger,
        tokens: FeedTokens,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        public_url: str | None = None,
        options: ExportOptions | None = None,
        clock: Callable[[], datetime] = utc_now,
        max_connections: int | None = None,
    ) -> None:
        self._source = source
        self._ledger = ledger
        self._tokens = tokens
        self._host = host
        self._port = port
        self._public_url = public_url.rstrip("/") + "/" if public_url else None
        self._options = options or ExportOptions()
        self._clock = clock
        self._renderer = HistoryRenderer()
        self._cache: dict[_Variant, _Built] = {}
        self._generation = 0
        self._max_connections = max_connections
        self._guard: ConnectionGuard | None = None
        self._names: frozenset[str] = frozenset()
        self._qr_cache: tuple[str, str] | None = None
        self._listener: asyncio.Server | None = None
        self._web: web.Server | None = None
        self._base: tuple[int, str] | None = None
        self._mounts: tuple[tuple[str, PageHandler], ...] = ()

    # lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start serving.

        Raises:
            FeedServerError: the address cannot be bound (in use, not local, no permission).
        """
        handler_args: dict[str, Any] = {
            "max_line_size": MAX_LINE,
            "access_log": None,
            "keepalive_timeout": KEEPALIVE_SECONDS,
            "logger": _HTTP_LOG,
        }
        self._web = web.Server(self._handle, **handler_args)
        web_server = self._web
        guard = self._guard = ConnectionGuard(connection_ceiling(self._max_connections))
        loop = asyncio.get_running_loop()
        try:
            self._listener = await loop.create_server(
                lambda: guard.factory(web_server, **handler_args),
                self._host,
                self._port,
                backlog=BACKLOG,
            )
        except OSError as exc:
            raise FeedServerError(
                f"cannot listen on {self._host}:{self._port} ({exc.strerror or exc})",
                hint="pick another --port, or stop whatever is using it",
            ) from exc
        self._port = int(self._listener.sockets[0].getsockname()[1])
        self._names = server_names(self._host, self._public_url)

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.close()
        if self._guard is not None:
            self._guard.close_all()
        if self._web is not None:
            await self._web.shutdown(2.0)
        await listener.wait_closed()

    # addresses --------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port (the bound one once started, so port 0 becomes the real port)."""
        return self._port

    @property
    def url(self) -> str:
        """The server's page, e.g. ``http://127.0.0.1:8765/``."""
        if self._public_url:
            return self._public_url
        if self._base is None or self._base[0] != self._port:
            self._base = (self._port, base_url(self._host, self._port))
        return self._base[1]

    def feed_url(self) -> str:
        """The secret feed URL (``http://.../feeds/<token>.ics``); makes the token if needed."""
        return f"{self.url}feeds/{self._tokens.current()}.ics"

    def mount(self, prefix: str, handler: PageHandler) -> None:
        """Answer requests whose path starts with ``prefix`` (e.g. ``/web/``) with ``handler``.

        The limits on the target apply first; the handler sees the path as sent, after the
        prefix (so it, too, never sees a percent-decoded path).
        """
        self._mounts = (*self._mounts, (prefix, handler))

    def invalidate(self) -> None:
        """Drop the built calendars: the next request rebuilds from the source."""
        self._generation += 1

    # answers ----------------------------------------------------------------------------------

    def answer(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        remote: str | None,
        local: str | None = None,
    ) -> Answer:
        """Decide the response to one request.

        Args:
            method: the request method.
            target: the request target exactly as sent (not percent-decoded).
            headers: request header fields, looked up by lower-case name.
            remote: the peer's IP address.
            local: the address the request arrived at (one of this machine's).
        """
        if not host_allowed(headers.get("host"), self._names, local):
            # DNS rebinding: a web page whose name now points at 127.0.0.1 reaches this server
            # from the user's browser with its own name in Host. Nothing is answered to a name
            # that is not the server's.
            return MISDIRECTED
        if len(target) > MAX_TARGET:
            return NOT_FOUND
        path, _, query = target.partition("?")
        for prefix, handler in self._mounts:
            if path.startswith(prefix):
                return handler(method, path[len(prefix) :], query, headers)
        if path == "/":
            return self._index(remote) if method in ("GET", "HEAD") else NOT_FOUND
        match = _FEED_PATH.fullmatch(path)
        if match is None or not self._tokens.matches(match.group(1)):
            return NOT_FOUND
        if method not in ("GET", "HEAD"):
            return Answer(405, (("Allow", "GET, HEAD"),))
        variant = self._variant(query)
        if variant is None:
            return Answer(
                400,
                (("Content-Type", "text/plain; charset=utf-8"),),
                b"history must be recent, all or none; view must be combined, schedule or history",
            )
        built = self._built(variant)
        if built is None:
            return Answer(
                503,
                (("Content-Type", "text/plain; charset=utf-8"),),
                b"The calendar cannot be built; see the log.",
            )
        gz = accepts_gzip(headers.get("accept-encoding"))
        if_none_match = headers.get("if-none-match")
        if if_none_match is not None:
            if etag_matches(if_none_match, (built.exported.etag, built.etag_gz)):
                return built.not_modified_gz if gz else built.not_modified
        else:
            since = headers.get("if-modified-since")
            if since and not_modified_since(since, built.exported.last_modified):
                return built.not_modified_gz if gz else built.not_modified
        return built.ok_gz if gz else built.ok

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        local = str(sockname[0]) if sockname else None
        answer = self.answer(
            request.method, request.raw_path, request.headers, request.remote, local
        )
        response = web.Response(status=answer.status, body=answer.body or None)
        response.headers.extend(answer.headers)
        response.headers["Server"] = "wearsync"  # not aiohttp's, which names versions
        return response

    def _variant(self, query: str) -> _Variant | None:
        view, history = self._options.view, self._options.history
        if query:
            params = parse_qs(query, max_num_fields=8)
            try:
                if "history" in params:
                    history = HistoryMode(params["history"][-1])
                if "view" in params:
                    view = CalendarView(params["view"][-1])
            except ValueError:
                return None
        return _Variant(view, history)

    def _built(self, variant: _Variant) -> _Built | None:
        now = self._clock()
        # The hour is part of the key: the history window moves with the day, and an occurrence
        # is marked missed when its day ends (local midnight in the routine's zone, which the
        # server does not know), so a mark is at most an hour late.
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        key = (self._source.revision(), self._generation, hour, self.url)
        cached = self._cache.get(variant)
        if cached is not None and cached.key == key:
            return cached
        try:
            built = self._build(variant, key, now)
        except WearSyncError as exc:
            log.warning("feed: cannot rebuild the calendar: %s", exc.message)
            return cached  # keep serving the last good calendar, if any
        self._cache[variant] = built
        return built

    def _build(self, variant: _Variant, key: Hashable, now: datetime) -> _Built:
        snapshot = self._source.snapshot()
        options = replace(
            self._options,
            url=self.url,
            view=variant.view,
            history=variant.history,
            max_bytes=self._options.max_bytes if variant.history is HistoryMode.RECENT else None,
        )
        exported = build_calendar(
            snapshot.routine,
            snapshot.sessions,
            start=snapshot.start,
            ledger=self._ledger,
            now=now,
            options=options,
            renderer=self._renderer,
            plans=snapshot.plans,
        )
        suffix = "" if variant.view is CalendarView.COMBINED else f"-{variant.view}"
        gzipped = gzip.compress(exported.body, compresslevel=6, mtime=0)
        etag_gz = exported.etag[:-1] + '-gz"'
        validators = (
            ("Last-Modified", format_datetime(exported.last_modified, usegmt=True)),
            ("Cache-Control", _CACHE_CONTROL),
            ("Vary", "Accept-Encoding"),
        )
        content = (
            ("Content-Type", _CALENDAR_TYPE),
            ("Content-Disposition", f'inline; filename="{snapshot.routine.name}{suffix}.ics"'),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        )
        plain = (("ETag", exported.etag), *validators)
        packed = (("ETag", etag_gz), *validators)
        return _Built(
            key=key,
            exported=exported,
            gzipped=gzipped,
            etag_gz=etag_gz,
            ok=Answer(200, plain + content, exported.body),
            ok_gz=Answer(200, (*packed, *content, ("Content-Encoding", "gzip")), gzipped),
            not_modified=Answer(304, plain),
            not_modified_gz=Answer(304, packed),
        )

    def _index(self, remote: str | None) -> Answer:
        if is_loopback(remote):
            feed = self.feed_url()
            links = (
                f'<p><a href="{html.escape(webcal_url(feed))}">Subscribe (webcal)</a></p>'
                f"<p>Or add this address in your calendar app: <code>{html.escape(feed)}</code>"
                "</p><p>On a phone, scan this code:</p>"
                + self._qr(webcal_url(feed))
                + "<p>Anyone with this address can read the calendar. To revoke it, run "
                "<code>wearsync feed rotate</code>.</p>"
            )
        else:
            links = (
                "<p>The subscribe link is shown only on the computer running wearsync; "
                "there, run <code>wearsync feed url</code>.</p>"
            )
        page = (
            "<!doctype html><html><head><meta charset=utf-8>"
            "<title>wearsync calendar</title></head><body>"
            "<h1>wearsync calendar feed</h1>" + links + "</body></html>"
        )
        return Answer(
            200,
            (
                ("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "no-store"),
                ("Referrer-Policy", "no-referrer"),
                ("X-Content-Type-Options", "nosniff"),
                ("Content-Security-Policy", "default-src 'none'"),
            ),
            page.encode(),
        )

    def _qr(self, link: str) -> str:
        # Drawn once per link (the token or the address changes rarely), not per request.
        if self._qr_cache is None or self._qr_cache[0] != link:
            self._qr_cache = (link, svg_qr(link))
        return self._qr_cache[1]


class FeedServerError(WearSyncError):
    """The feed server cannot start."""
