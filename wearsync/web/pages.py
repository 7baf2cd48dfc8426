"""Answers the requests for the pages, mounted on the feed server under ``/web/``.

``/web/<token>/`` is the routine, then ``adherence``, ``history``, ``history.csv`` and
``subscribe``. A wrong, old or malformed token, an unknown page, or anything but GET and HEAD on
an unknown path gets the feed's own 404, the same body as any unknown path, so a guess learns
nothing. The token is compared in constant time and never logged.

A page reads only the sessions it shows (none for the routine, weeks for adherence, 90 days for
history, all for the CSV), and is rendered once per change of the store (the source's revision),
per new feed link and per minute (the next occurrences move), then served from memory.

Example::

    server = FeedServer(source, ledger=..., tokens=feed_tokens)
    pages = WebPages(server, StorePageSource(source, store), tokens=page_tokens(store))
    pages.mount()
    print(pages.url())   # http://127.0.0.1:8765/web/<token>/
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime, timedelta

from wearsync.calendar.feed import NOT_FOUND, FeedServer
from wearsync.calendar.httputil import Answer, webcal_url
from wearsync.calendar.tokens import TOKEN_PATTERN, FeedTokens
from wearsync.errors import WearSyncError
from wearsync.records import SessionRecord, utc_now
from wearsync.routine.compiler import TimerProgram, compile_routine
from wearsync.routine.model import Routine
from wearsync.web.adherence import WEEKS, WINDOW_DAYS, render_adherence
from wearsync.web.data import PageData, PageSource
from wearsync.web.history_page import PAGE_DAYS, render_csv, render_history
from wearsync.web.markup import csv_answer, html_answer
from wearsync.web.routine_page import render_routine
from wearsync.web.subscribe import qr_svg, render_subscribe

log = logging.getLogger(__name__)

PREFIX = "/web/"

_SESSION_DAYS: dict[str, int | None] = {
    "": 0,
    "subscribe": 0,
    # The weeks of the chart and the last 30 days, and a week before for the interval that
    # began before the window.
    "adherence": max(7 * WEEKS, WINDOW_DAYS) + 8,
    "history": PAGE_DAYS + 1,
    "history.csv": None,
}
"""How many days of sessions each page reads (0: none, None: all)."""
_PAGES = frozenset(_SESSION_DAYS)


class WebPages:
    """The pages of one routine, answered from a :class:`~wearsync.web.data.PageSource`.

    Args:
        server: the feed server the pages are mounted on (for the feed's link and the base URL).
        source: the routine, its first day, its sessions and the watches.
        tokens: the pages' token (:func:`wearsync.web.tokens.page_tokens`).
        clock: the current time (tests pin it).
    """

    def __init__(
        self,
        server: FeedServer,
        source: PageSource,
        *,
        tokens: FeedTokens,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._server = server
        self._source = source
        self._tokens = tokens
        self._clock = clock
        self._cache: dict[str, tuple[Hashable, Answer]] = {}
        self._qr: tuple[str, str] | None = None
        self._compiled: tuple[Routine, TimerProgram] | None = None

    def mount(self) -> None:
        """Answer ``/web/...`` on the feed server."""
        self._server.mount(PREFIX, self.answer)

    def url(self) -> str:
        """The secret link to the pages (makes the token if needed)."""
        return f"{self._server.url}{PREFIX[1:]}{self._tokens.current()}/"

    def answer(self, method: str, rest: str, query: str, headers: Mapping[str, str]) -> Answer:
        """The answer to one request, ``rest`` being the path after ``/web/``."""
        token, slash, name = rest.partition("/")
        if (
            not slash
            or name not in _PAGES
            or not TOKEN_PATTERN.fullmatch(token)
            or not self._tokens.matches(token)
        ):
            return NOT_FOUND
        if method not in ("GET", "HEAD"):
            return Answer(405, (("Allow", "GET, HEAD"),))
        return self.page(name)

    def page(self, name: str) -> Answer:
        """The page called ``name`` (``""`` for the routine), from memory when nothing moved."""
        now = self._clock()
        feed_url = self._server.feed_url()
        key = (self._source.revision(), now.replace(second=0, microsecond=0), feed_url)
        cached = self._cache.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            answer = self._render(name, self._data(name, now, feed_url))
        except WearSyncError as exc:
            log.warning("web: cannot render a page: %s", exc.message)
            if cached is not None:
                return cached[1]  # the last good page rather than none
            return Answer(
                503,
                (("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")),
                b"The page cannot be built; see the log.",
            )
        self._cache[name] = (key, answer)
        return answer

    def _data(self, name: str, now: datetime, feed_url: str) -> PageData:
        routine = self._source.routine()
        if self._compiled is None or self._compiled[0] != routine:
            self._compiled = (routine, compile_routine(routine))
        days = _SESSION_DAYS[name]
        sessions: Sequence[SessionRecord] = ()
        if days != 0:
            since = None if days is None else now - timedelta(days=days)
            sessions = self._source.sessions(since)
        today = now.astimezone(routine.schedule.zone).date()
        first_day, plans = self._source.plans(now) if name == "adherence" else (today, ())
        return PageData(
            routine=routine,
            program=self._compiled[1],
            sessions=sessions,
            devices={d.address: d for d in self._source.devices()} if sessions else {},
            start=self._source.first_day(today),
            plans=plans,
            first_day=first_day,
            now=now,
            feed_url=feed_url,
        )

    def _render(self, name: str, data: PageData) -> Answer:
        if name == "history.csv":
            return csv_answer(render_csv(data), f"{data.routine.name}-history.csv")
        if name == "adherence":
            return html_answer(render_adherence(data))
        if name == "history":
            return html_answer(render_history(data))
        if name == "subscribe":
            return html_answer(render_subscribe(data, self._qr_for(data.feed_url)))
        return html_answer(render_routine(data))

    def _qr_for(self, feed_url: str) -> str:
        # Drawn once per link (the feed's token or address changes rarely), not per render.
        link = webcal_url(feed_url)
        if self._qr is None or self._qr[0] != link:
            self._qr = (link, qr_svg(link))
        return self._qr[1]
