"""``wearsync feed``: serve the calendar feed, print its subscribe links, rotate its secret token.

The feed's token, its revision ledger and the first day of the published schedule live in the
store's database (``$WEARSYNC_HOME/wearsync.db``), so ``feed url``, ``feed rotate``, ``export``
and a running ``feed serve`` all agree.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import BaseModel

from wearsync.cli.common import JsonOption, emit, new_app
from wearsync.errors import InputError

if TYPE_CHECKING:
    from wearsync.calendar.export import ExportedCalendar
    from wearsync.calendar.feed import FeedServer
    from wearsync.calendar.sources import RoutineFeedSource
    from wearsync.calendar.tokens import FeedTokens
    from wearsync.routine.model import Routine
    from wearsync.routine.occurrences import Plan
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
    """The result of ``feed url``, ``feed rotate`` and ``feed serve``: where to subscribe.

    ``reach`` says who can open the links: ``this computer``, ``local network`` or
    ``internet``.
    """

    http: str
    webcal: str
    page: str
    reach: str
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
    from wearsync.calendar.httputil import link_reach, webcal_url

    http = f"{base}feeds/{token}.ics"
    return FeedLinks(
        http=http, webcal=webcal_url(http), page=base, reach=link_reach(base), rotated=rotated
    )


_REACH_NOTES = {
    "this computer": (
        "This link works on this computer only. For a phone on the same network, serve with "
        "--host 0.0.0.0 and use the link that prints."
    ),
    "local network": (
        "A link on your local network: Apple Calendar and Thunderbird on a device on this "
        "network can subscribe. Google Calendar fetches feeds from Google's servers, so it "
        "needs a public link (--public-url, through a reverse proxy or tunnel)."
    ),
    "internet": "A public link: any calendar app can subscribe, Google Calendar included.",
}


def _render_links(links: FeedLinks) -> None:
    if links.rotated:
        typer.echo("New feed token; the old address no longer works. Subscribe again with:")
    typer.echo(f"subscribe: {links.webcal}")
    typer.echo(f"http:      {links.http}")
    typer.echo(_REACH_NOTES.get(links.reach, ""))
    typer.echo("Anyone with this address can read the calendar; 'wearsync feed rotate' revokes it.")


@app.command()
def url(
    host: HostOption = None,
    port: PortOption = None,
    public_url: PublicUrlOption = None,
    qr: Annotated[
        bool, typer.Option("--qr", help="Also draw the link as a QR code, for a phone's camera.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Print the feed's subscribe links (webcal:// and http://), making the token if needed."""
    from wearsync.calendar.tokens import FeedTokens
    from wearsync.store import Store

    with Store.open() as store:
        store.restrict_to_owner()  # the token is in it
        token = FeedTokens(store).current()
        links = _links(stored_base(store, host, port, public_url), token)
    emit(links, as_json, _render_links)
    if qr and not as_json:
        from wearsync.calendar.qr import terminal_qr

        typer.echo(terminal_qr(links.webcal), nl=False)


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
        store.restrict_to_owner()  # the token is in it
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
    from wearsync.calendar.tokens import parse_first_day, schedule_start, set_schedule_start
    from wearsync.records import utc_now
    from wearsync.routine.loader import load_routine
    from wearsync.store import Store

    loaded = load_routine(routine)
    with Store.open() as store:
        if day is not None:
            set_schedule_start(store, loaded.name, parse_first_day(day, "first-day"))
        today = utc_now().astimezone(loaded.schedule.zone).date()
        shown = schedule_start(store, loaded.name, today)
    result = FirstDay(routine=loaded.name, first_day=shown)
    emit(result, as_json, lambda r: typer.echo(f"{r.routine}: schedule counts from {r.first_day}"))


class CalDavResult(BaseModel):
    """What ``feed publish --caldav`` changed, by UID."""

    url: str
    created: list[str]
    updated: list[str]
    deleted: list[str]
    unchanged: int


class PublishResult(BaseModel):
    """The result of ``feed publish``."""

    routine: str
    etag: str
    caldav: CalDavResult | None = None
    directory: str | None = None
    written: bool | None = None


CalDavOption = Annotated[
    str | None,
    typer.Option(
        "--caldav",
        help="URL of an existing CalDAV calendar to write the events into (the password comes "
        "from $WEARSYNC_CALDAV_PASSWORD or the keyring, service wearsync-caldav).",
    ),
]
CalDavUserOption = Annotated[
    str | None,
    typer.Option("--user", envvar="WEARSYNC_CALDAV_USER", help="CalDAV user name (or in the URL)."),
]
PublishDirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Write <routine>.ics and its .etag into this folder."),
]


@dataclass(frozen=True)
class PublishTarget:
    """Where ``feed publish`` (or ``serve`` after each sync) sends the calendar."""

    caldav: str | None = None
    user: str | None = None
    password: str | None = None
    directory: Path | None = None


def publish_target(
    caldav: str | None, user: str | None, directory: Path | None
) -> PublishTarget | None:
    """Check the publish options and find the credentials; None when none was given.

    Raises:
        PublishError: a bad URL, no user name, no password.
    """
    from wearsync.calendar.publish import PublishError, caldav_password, check_caldav_url

    if caldav is None:
        return None if directory is None else PublishTarget(directory=directory)
    url, url_user = check_caldav_url(caldav)
    name = user or url_user
    if not name:
        raise PublishError(
            "--caldav: no user name", hint="pass --user, or set WEARSYNC_CALDAV_USER"
        )
    return PublishTarget(url, name, caldav_password(name, url), directory)


def build_feed(store: Store, ref: str) -> tuple[str, ExportedCalendar]:
    """The default feed of routine ``ref`` (what ``feed serve`` serves), as (name, calendar)."""
    from wearsync.calendar.export import ExportOptions, build_calendar
    from wearsync.calendar.tokens import schedule_start
    from wearsync.records import utc_now
    from wearsync.routine.loader import load_routine
    from wearsync.sync.history import routine_plans

    loaded = load_routine(ref)
    now = utc_now()
    first = schedule_start(store, loaded.name, now.astimezone(loaded.schedule.zone).date())
    exported = build_calendar(
        loaded,
        [s for s in store.sessions() if s.routine == loaded.name],
        start=first,
        ledger=store.calendar_ledger(),
        now=now,
        options=ExportOptions(url=stored_base(store, None, None, None)),
        plans=routine_plans(store, loaded, now=now),
    )
    return loaded.name, exported


def send(name: str, exported: ExportedCalendar, target: PublishTarget) -> PublishResult:
    """Publish a built calendar (blocking network and file I/O; no database access, so it can
    run in a thread).

    Raises:
        PublishError: the calendar could not be published.
    """
    from wearsync.calendar.publish import publish_caldav, publish_dir, split_events

    result = PublishResult(routine=name, etag=exported.etag.strip('"'))
    if target.caldav is not None and target.user and target.password:
        report = publish_caldav(
            target.caldav, target.user, target.password, split_events(exported.body)
        )
        result.caldav = CalDavResult(
            url=target.caldav,
            created=report.created,
            updated=report.updated,
            deleted=report.deleted,
            unchanged=report.unchanged,
        )
    if target.directory is not None:
        result.directory = str(target.directory)
        result.written = publish_dir(target.directory, name, exported.body, exported.etag)
    return result


async def publish_after_sync(store: Store, routine: str, target: PublishTarget) -> None:
    """Publish once more (for ``wearsync serve``, after a sync): the calendar is built on the
    event loop's thread, which owns the store's connection, and sent from a worker thread. A
    failure is logged in one line, without the password; the next sync tries again."""
    import asyncio
    import logging

    from wearsync.errors import WearSyncError

    log = logging.getLogger("wearsync.serve")
    try:
        name, exported = build_feed(store, routine)
        result = await asyncio.to_thread(send, name, exported, target)
    except WearSyncError as exc:
        log.warning("publish: %s", exc.message)
        return
    if result.caldav is not None:
        c = result.caldav
        log.info(
            "published to %s: %d created, %d updated, %d removed",
            c.url,
            len(c.created),
            len(c.updated),
            len(c.deleted),
        )
    if result.directory is not None and result.written:
        log.info("published %s.ics to %s", result.routine, result.directory)


@app.command()
def publish(
    routine: RoutineOption = "foot-care",
    caldav: CalDavOption = None,
    user: CalDavUserOption = None,
    directory: PublishDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the feed's events into a CalDAV calendar, or the feed as static files."""
    from wearsync.store import Store

    target = publish_target(caldav, user, directory)
    if target is None:
        raise InputError("publish: say where: --caldav URL and/or --dir DIR")
    with Store.open() as store:
        name, exported = build_feed(store, routine)
    emit(send(name, exported, target), as_json, _render_published)


def _render_published(result: PublishResult) -> None:
    if result.caldav is not None:
        c = result.caldav
        typer.echo(
            f"{c.url}: {len(c.created)} created, {len(c.updated)} updated, "
            f"{len(c.deleted)} removed, {c.unchanged} unchanged"
        )
    if result.directory is not None:
        state = "written" if result.written else "already current"
        typer.echo(f"{result.directory}: {result.routine}.ics {state}")


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
    from wearsync.calendar.sources import RoutineFeedSource
    from wearsync.calendar.tokens import FeedTokens
    from wearsync.sync.history import routine_plans

    conn = store.conn

    def data_version() -> int:
        # Changes whenever another connection (e.g. 'wearsync sync') commits.
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    def plans(current: Routine, now: datetime) -> list[Plan]:
        # The plans adherence counts against (the push log), so the marks agree with it.
        return routine_plans(store, current, now=now)

    source = RoutineFeedSource(routine, store, store, changes=data_version, plans=plans)
    source.routine()  # fail now, with the routine's own error, rather than on a request
    store.restrict_to_owner()  # the token is in it
    tokens = FeedTokens(store)
    server = FeedServer(
        source,
        ledger=store.calendar_ledger(),
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


def redact(url: str, token: str) -> str:
    """``url`` with the feed token replaced by ``<token>``, for logs."""
    return url.replace(token, "<token>")


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
