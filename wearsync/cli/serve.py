"""``wearsync serve``: keep the watch in sync on a schedule and serve the calendar feed."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from wearsync.cli.common import HciOption, new_app
from wearsync.cli.feed import (
    CalDavOption,
    CalDavUserOption,
    HostOption,
    PortOption,
    PublicUrlOption,
    PublishDirOption,
    RoutineOption,
    publish_target,
)

if TYPE_CHECKING:
    from wearsync.cli.feed import PublishTarget

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
    publish_caldav: CalDavOption = None,
    publish_user: CalDavUserOption = None,
    publish_dir: PublishDirOption = None,
) -> None:
    """Sync the watch every --sync-every (sooner when it comes back in range), serve the feed.

    Logs what it does on stderr; stops cleanly on Ctrl-C or SIGTERM.
    """
    from wearsync.sync.daemon import parse_interval

    every = parse_interval(sync_every)
    first_retry = parse_interval(retry, "--retry")
    # Checked (and the password found) before anything starts, not at the first sync.
    target = publish_target(publish_caldav, publish_user, publish_dir)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    asyncio.run(
        _serve(
            routine, device, every, first_retry, hci, host, port, public_url, not no_feed, target
        )
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
    target: PublishTarget | None = None,
) -> None:
    from wearsync.cli.feed import feed_links, publish_after_sync, redact, start_feed
    from wearsync.store import Store
    from wearsync.sync.daemon import SyncDaemon
    from wearsync.watches.registry import driver_for, load_profiles, watch_at

    log = logging.getLogger("wearsync.serve")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with Store.open() as store:
        server = source = None
        if with_feed:
            server, source, tokens = await start_feed(store, routine, host, port, public_url)
            # Logs outlive the token (journals, bug reports): name the link, never the secret.
            log.info("serving the calendar feed at %s", server.url)
            log.info(
                "subscribe: %s (run 'wearsync feed url' for the link)",
                redact(feed_links(server, tokens).webcal, tokens.current()),
            )
        publishing: set[asyncio.Task[None]] = set()

        def synced() -> None:
            if source is not None:
                source.notify()
            if target is not None:
                task = loop.create_task(publish_after_sync(store, routine, target))
                publishing.add(task)  # keep a reference until it is done
                task.add_done_callback(publishing.discard)

        daemon = SyncDaemon(
            store=store,
            routine=routine,
            profiles=load_profiles(),
            drivers=driver_for,
            watch_at=watch_at,
            every=every,
            retry=retry,
            device=device,
            hci=hci,
            on_synced=lambda _report: synced(),
        )
        log.info("syncing every %s", every)
        try:
            await daemon.run(stop)
        finally:
            if server is not None:
                await server.stop()
    log.info("stopped")
