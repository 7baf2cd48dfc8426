"""``wearsync feed``: serve the calendar feed, print its subscribe links, rotate its secret token.

The feed's token, its revision ledger and the first day of the published schedule live in the
store's database (``$WEARSYNC_HOME/wearsync.db``), so ``feed url``, ``feed rotate``, ``export``
and a running ``feed serve`` all agree.
"""

from __future__ import annotations

import re
import sys
from datetime import date, time
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import BaseModel

from wearsync.cli.common import JsonOption, emit, new_app
from wearsync.errors import InputError

if TYPE_CHECKING:
    from wearsync.calendar.feed import FeedServer
    from wearsync.calendar.sources import RoutineFeedSource
    from wearsync.calendar.tokens import FeedTokens
    from wearsync.store import Store

app = new_app(help="Serve the calendar feed and manage its secret URL.")

BASE_URL_KEY = "calendar.base_url"
"""The setting where ``feed serve`` leaves the address it serves at, for ``feed url``."""

RoutineOption = Annotated[
    str,
    typer.Option(
        "--routine", "-r", help="A built-in routine name or a .toml file (default: foot-care)."
    ),
]
HostOption = Annotated[
    str | None,
    typer.Option("--host", help="Address to bind (default 127.0.0.1: this machine only)."),
]
PortOption = Annotated[
    int | None, typer.Option("--port", min=0, max=65535, help="Port (default 8765; 0: any free).")
]
PublicUrlOption = Annotated[
    str | None,
    typer.Option(
        "--public-url", help="The base URL subscribers reach the server at, if not host:port."
    ),
]


class FeedLinks(BaseModel):
    """The result of ``feed url``, ``feed rotate`` and ``feed serve``: where to subscribe."""

    http: str
    webcal: str
    page: str
    rotated: bool = False


class FirstDay(BaseModel):
    """The result of ``feed first-day``."""

    routine: str
    first_day: date


def parse_clock(text: str, option: str) -> time:
    """``18:00`` -> ``time(18, 0)``.

    Raises:
        InputError: ``text`` is not HH:MM.
    """
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise InputError(f"{option}: {text!r} is not a time of day (HH:MM)")
    return time(int(match.group(1)), int(match.group(2)))


def stored_base(store: Store, host: str | None, port: int | None, public_url: str | None) -> str:
    """The base URL to publish: --public-url, else --host/--port, else what the last
    ``feed serve`` used, else ``http://127.0.0.1:8765/``."""
    from wearsync.calendar.httputil import DEFAULT_HOST, DEFAULT_PORT, base_url

    if public_url:
        return public_url.rstrip("/") + "/"
    if host is None and port is None:
        kept = store.get_setting(BASE_URL_KEY)
        if kept:
            return kept
    return base_url(host or DEFAULT_HOST, DEFAULT_PORT if port is None else port)


def _links(base: str, token: str, *, rotated: bool = False) -> FeedLinks:
    from wearsync.calendar.httputil import webcal_url

    http = f"{base}feeds/{token}.ics"
    return FeedLinks(http=http, webcal=webcal_url(http), page=base, rotated=rotated)


def _render_links(links: FeedLinks) -> None:
    if links.rotated:
        typer.echo("New feed token; the old address no longer works. Subscribe again with:")
    typer.echo(f"subscribe: {links.webcal}")
    typer.echo(f"http:      {links.http}")
    typer.echo("Anyone with this address can read the calendar; 'wearsync feed rotate' revokes it.")


@app.command()
def url(
    host: HostOption = None,
    port: PortOption = None,
    public_url: PublicUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the feed's subscribe links (webcal:// and http://), making the token if needed."""
    from wearsync.calendar.tokens import FeedTokens
    from wearsync.store import Store

    with Store.open() as store:
        token = FeedTokens(store).current()
        links = _links(stored_base(store, host, port, public_url), token)
    emit(links, as_json, _render_links)


@app.command()
def rotate(
    host: HostOption = None,
    port: PortOption = None,
    public_url: PublicUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace the feed's secret token: the old address stops working at once."""
    from wearsync.calendar.tokens import FeedTokens
    from wearsync.store import Store

    with Store.open() as store:
        token = FeedTokens(store).rotate()
        links = _links(stored_base(store, host, port, public_url), token, rotated=True)
    emit(links, as_json, _render_links)


@app.command("first-day")
def first_day(
    day: Annotated[
        str | None, typer.Argument(help="The new first day (YYYY-MM-DD); omit to show it.")
    ] = None,
    routine: RoutineOption = "foot-care",
    as_json: JsonOption = False,
) -> None:
    """Show or set the day the published schedule counts from (every N days from it)."""
    from wearsync.calendar.tokens import schedule_start, set_schedule_start
    from wearsync.records import utc_now
    from wearsync.routine.loader import load_routine
    from wearsync.store import Store

    loaded = load_routine(routine)
    with Store.open() as store:
        if day is not None:
            try:
                chosen = date.fromisoformat(day)
            except ValueError as exc:
                raise InputError(f"{day!r} is not a date (YYYY-MM-DD)") from exc
            set_schedule_start(store, loaded.name, chosen)
        today = utc_now().astimezone(loaded.schedule.zone).date()
        shown = schedule_start(store, loaded.name, today)
    result = FirstDay(routine=loaded.name, first_day=shown)
    emit(result, as_json, lambda r: typer.echo(f"{r.routine}: schedule counts from {r.first_day}"))


@app.command()
def serve(
    routine: RoutineOption = "foot-care",
    host: HostOption = None,
    port: PortOption = None,
    public_url: PublicUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Serve the calendar feed until interrupted (Ctrl-C or SIGTERM)."""
    import asyncio

    asyncio.run(_serve(routine, host, port, public_url, as_json))


async def start_feed(
    store: Store, routine: str, host: str | None, port: int | None, public_url: str | None
) -> tuple[FeedServer, RoutineFeedSource, FeedTokens]:
    """Start the feed server for ``routine`` on ``store``; the caller stops it.

    Also records where it serves, for ``feed url``.
    """
    from wearsync.calendar.feed import FeedServer
    from wearsync.calendar.httputil import DEFAULT_HOST, DEFAULT_PORT
    from wearsync.calendar.ledger import SqliteEventLedger
    from wearsync.calendar.sources import RoutineFeedSource
    from wearsync.calendar.tokens import FeedTokens

    conn = store.conn

    def data_version() -> int:
        # Changes whenever another connection (e.g. 'wearsync sync') commits.
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    source = RoutineFeedSource(routine, store, store, changes=data_version)
    source.routine()  # fail now, with the routine's own error, rather than on a request
    tokens = FeedTokens(store)
    server = FeedServer(
        source,
        ledger=SqliteEventLedger(conn),
        tokens=tokens,
        host=host or DEFAULT_HOST,
        port=DEFAULT_PORT if port is None else port,
        public_url=public_url,
    )
    _mount_pages(server, source, store)
    await server.start()
    store.set_setting(BASE_URL_KEY, server.url)
    return server, source, tokens


def _mount_pages(server: FeedServer, source: RoutineFeedSource, store: Store) -> None:
    from wearsync.web.data import StorePageSource
    from wearsync.web.pages import WebPages
    from wearsync.web.tokens import page_tokens

    WebPages(server, StorePageSource(source, store), tokens=page_tokens(store)).mount()


def feed_links(server: FeedServer, tokens: FeedTokens) -> FeedLinks:
    """The subscribe links of a running feed server."""
    return _links(server.url, tokens.current())


async def _serve(
    routine: str, host: str | None, port: int | None, public_url: str | None, as_json: bool
) -> None:
    import asyncio
    import signal

    from wearsync.store import Store

    with Store.open() as store:
        server, _source, tokens = await start_feed(store, routine, host, port, public_url)
        try:
            emit(feed_links(server, tokens), as_json, _render_serving)
            sys.stdout.flush()  # whoever reads our output (a pipe) learns the port now
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        finally:
            await server.stop()
    if not as_json:
        typer.echo("stopped", err=True)


def _render_serving(links: FeedLinks) -> None:
    typer.echo(f"serving the calendar feed at {links.page} (Ctrl-C to stop)")
    _render_links(links)


class PageLink(BaseModel):
    """The result of ``feed page-url``: the secret link to the web pages."""

    page: str
    rotated: bool = False


@app.command("page-url")
def page_url(
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Replace the pages' token; the old link stops.")
    ] = False,
    host: HostOption = None,
    port: PortOption = None,
    public_url: PublicUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the secret link to the web pages (routine, adherence, history, subscribe)."""
    from wearsync.store import Store
    from wearsync.web.tokens import page_tokens

    with Store.open() as store:
        tokens = page_tokens(store)
        token = tokens.rotate() if rotate else tokens.current()
        base = stored_base(store, host, port, public_url)
    emit(PageLink(page=f"{base}web/{token}/", rotated=rotate), as_json, _render_page_link)


def _render_page_link(link: PageLink) -> None:
    if link.rotated:
        typer.echo("New page token; the old link no longer works.")
    typer.echo(f"pages: {link.page}")
    typer.echo("Anyone with this link can read the routine and history; --rotate revokes it.")
