"""Reproduced attacks on the feed: DNS rebinding, the token in logs, a flood of idle connections,
first days outside what time-zone rules can describe. Real servers on 127.0.0.1, real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.calendar.factories import foot_care
from wearsync.calendar.feed import FeedServer
from wearsync.calendar.httputil import host_allowed, lan_address, server_names
from wearsync.calendar.sources import StaticFeedSource
from wearsync.calendar.tokens import TOKEN_KEY, FeedTokens
from wearsync.cli.app import app
from wearsync.store import Store

runner = CliRunner()


async def raw_get(port: int, target: str, host: str | None) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"GET {target} HTTP/1.1", "Connection: close"]
    if host is not None:
        lines.append(f"Host: {host}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    return int(data.split(b" ", 2)[1]), data


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[FeedServer, str]]:
    with Store.open(tmp_path / "wearsync.db") as store:
        tokens = FeedTokens(store)
        feed = FeedServer(
            StaticFeedSource(foot_care(), start=date(2025, 2, 14)),
            ledger=store.calendar_ledger(),
            tokens=tokens,
            port=0,
            public_url="https://cal.example.org/wearsync/",
        )
        await feed.start()
        try:
            yield feed, tokens.current()
        finally:
            await feed.stop()


async def test_dns_rebinding_never_sees_the_token(server: tuple[FeedServer, str]) -> None:
    feed, token = server
    port = feed.port
    for host in (f"evil.example:{port}", "evil.example", "127.0.0.1.evil.example", "", None):
        for target in ("/", f"/feeds/{token}.ics"):
            status, data = await raw_get(port, target, host)
            # No Host at all is aiohttp's own 400 (HTTP/1.1 requires one); any other name, 421.
            assert status == (400 if host is None else 421), (host, target)
            assert token.encode() not in data
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", f"[::1]:{port}"):
        status, data = await raw_get(port, "/", host)
        assert status == 200, host
        assert token.encode() in data  # the machine's own user still gets the link
    # The public URL's host is the server's too (a reverse proxy forwards it).
    assert (await raw_get(port, f"/feeds/{token}.ics", "cal.example.org"))[0] == 200


def test_server_names_for_a_wildcard_bind_include_the_lan_address() -> None:
    names = server_names("0.0.0.0", None)
    assert {"localhost", "127.0.0.1", "::1"} <= names
    lan = lan_address()
    if lan is not None:
        assert lan in names and host_allowed(f"{lan}:8765", names)
    assert host_allowed("192.0.2.7:8765", names, local="192.0.2.7")  # the address it came in on
    assert not host_allowed("attacker.example", names, local="127.0.0.1")
    assert not host_allowed("[::1", names)


async def test_serve_logs_the_link_without_the_token(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "WEARSYNC_HOME": str(home)}
    # No watch anywhere: the daemon's syncs fail and it retries, which is fine for this test.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wearsync",
        "serve",
        "--port",
        "0",
        "--hci",
        "tcp-client:127.0.0.1:9",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stderr is not None
    log = b""
    try:
        while b"subscribe:" not in log:
            line = await asyncio.wait_for(process.stderr.readline(), 30)
            assert line, log.decode()
            log += line
        process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.stderr.read(), 30)
        log += rest
        await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    with Store.open(home / "wearsync.db") as store:
        token = store.get_setting(TOKEN_KEY)
    assert token and token.encode() not in log
    assert b"/feeds/<token>.ics" in log


_FLOOD_SERVER = textwrap.dedent(
    """
    import asyncio, resource, sys
    from datetime import date
    from pathlib import Path
    from wearsync.calendar.feed import FeedServer
    from wearsync.calendar.sources import StaticFeedSource
    from wearsync.calendar.tokens import FeedTokens
    from wearsync.routine.loader import load_routine
    from wearsync.store import Store

    resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    async def main():
        store = Store.open(Path(sys.argv[1]))
        source = StaticFeedSource(load_routine("foot-care"), start=date(2025, 2, 14))
        tokens = FeedTokens(store)
        server = FeedServer(source, ledger=store.calendar_ledger(), tokens=tokens, port=0)
        await server.start()
        print(server.port, server.feed_url(), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


@pytest.mark.slow
async def test_an_idle_connection_flood_past_the_fd_limit(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _FLOOD_SERVER,
        str(tmp_path / "wearsync.db"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    idle: list[asyncio.StreamWriter] = []
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().split()
        port, url = int(first[0]), first[1]

        async def connect() -> None:
            # Bounded: a server that stopped accepting leaves connects hanging.
            opening = asyncio.open_connection("127.0.0.1", port)
            _reader, writer = await asyncio.wait_for(opening, 10)
            idle.append(writer)

        # Three times the soft limit of 256 descriptors, connected and silent.
        for _ in range(6):
            await asyncio.gather(*(connect() for _ in range(128)), return_exceptions=True)
        path = url.split(str(port), 1)[1]
        status, data = await asyncio.wait_for(raw_get(port, path, f"127.0.0.1:{port}"), 30)
        assert status == 200 and b"BEGIN:VCALENDAR" in data
    finally:
        for writer in idle:
            writer.close()
        process.terminate()
        await process.wait()
    errors = (await process.stderr.read()).decode()
    assert "Traceback" not in errors
    lines = [line for line in errors.splitlines() if line.strip()]
    assert len(lines) == 1 and "file-descriptor limit" in lines[0], errors[:2000]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_first_day_out_of_range_is_one_line(
    day: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path / "home"))
    set_day = runner.invoke(app, ["feed", "first-day", day])
    assert set_day.exit_code == 2
    assert set_day.stderr.splitlines()[0] == (
        f"error: first-day: {day} is outside 1970-01-01..2199-12-31"
    )
    # A value that reached the store anyway (an older wearsync, a hand edit) is reported, and
    # kept, when the calendar is read.
    with Store.open(tmp_path / "home" / "wearsync.db") as store:
        store.set_setting("calendar.start.foot-care", day)
    out = tmp_path / "a.ics"
    exported = runner.invoke(app, ["export", "ics", "--out", str(out)])
    assert exported.exit_code == 2 and not out.exists()
    assert exported.stderr.startswith(f"error: calendar.start.foot-care: {day} is outside")
    assert "Traceback" not in exported.output
    with Store.open(tmp_path / "home" / "wearsync.db") as store:
        assert store.get_setting("calendar.start.foot-care") == day


@pytest.mark.parametrize("command", [["feed", "url"], ["feed", "rotate"]])
def test_the_database_holding_the_token_is_private(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path / "home"))
    with Store.open(tmp_path / "home" / "wearsync.db"):
        pass  # made by some other command, with the default mode
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    for path in (tmp_path / "home").glob("wearsync.db*"):
        assert path.stat().st_mode & 0o077 == 0, path
