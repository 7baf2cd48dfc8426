"""``wearsync serve``: keep the watch in sync on a schedule and serve the calendar feed."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import timedelta
from typing import Annotated

import typer

from wearsync.cli.common import HciOption, new_app
from wearsync.cli.feed import HostOption, PortOption, PublicUrlOption, RoutineOption

app = new_app()


@app.command()
def serve(
    routine: RoutineOption = "foot-care",
    device: Annotated[
        str | None,
        typer.Option(
            "--device", "-d", help="Watch name or address (default: the one synced last)."
        ),
    ] = None,
    sync_every: Annotated[
        str, typer.Option("--sync-every", help="How often to sync, e.g. 30s, 15m, 1h.")
    ] = "15m",
    retry: Annotated[
        str,
        typer.Option("--retry", help="First retry after a failed sync (doubles up to the above)."),
    ] = "30s",
    hci: HciOption = None,
    host: HostOption = None,
    port: PortOption = None,
    public_url: PublicUrlOption = None,
    no_feed: Annotated[bool, typer.Option("--no-feed", help="Do not serve the feed.")] = False,
) -> None:
    """Sync the watch every --sync-every (sooner when it comes back in range), serve the feed.

    Logs what it does on stderr; stops cleanly on Ctrl-C or SIGTERM.
    """
    from wearsync.sync.daemon import parse_interval

    every = parse_interval(sync_every)
    first_retry = parse_interval(retry, "--retry")
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    asyncio.run(
        _serve(routine, device, every, first_retry, hci, host, port, public_url, not no_feed)
    )


async def _serve(
    routine: str,
    device: str | None,
    every: timedelta,
    retry: timedelta,
    hci: str | None,
    host: str | None,
    port: int | None,
    public_url: str | None,
    with_feed: bool,
) -> None:
    from wearsync.cli.feed import feed_links, start_feed
    from wearsync.store import Store
    from wearsync.sync.daemon import SyncDaemon
    from wearsync.watches.registry import driver_for, load_profiles

    log = logging.getLogger("wearsync.serve")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with Store.open() as store:
        server = source = None
        if with_feed:
            server, source, tokens = await start_feed(store, routine, host, port, public_url)
            links = feed_links(server, tokens)
            log.info("serving the calendar feed at %s", links.page)
            log.info("subscribe: %s", links.webcal)
        daemon = SyncDaemon(
            store=store,
            routine=routine,
            profiles=load_profiles(),
            drivers=driver_for,
            every=every,
            retry=retry,
            device=device,
            hci=hci,
            on_synced=lambda _report: source.notify() if source is not None else None,
        )
        log.info("syncing every %s", every)
        try:
            await daemon.run(stop)
        finally:
            if server is not None:
                await server.stop()
    log.info("stopped")
