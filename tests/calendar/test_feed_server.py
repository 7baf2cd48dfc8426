"""The feed server, live on 127.0.0.1 (port 0), fetched over real sockets."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import aiohttp
import pytest

from tests.calendar.factories import NOW, events, foot_care, foot_care_with, many_sessions, parse
from wearsync.calendar.export import ExportOptions
from wearsync.calendar.feed import FeedServer, FeedServerError
from wearsync.calendar.httputil import is_loopback as _is_loopback
from wearsync.calendar.ports import FeedSnapshot
from wearsync.calendar.sources import RoutineFeedSource, StaticFeedSource
from wearsync.calendar.tokens import FeedTokens
from wearsync.calendar.uids import exercise_uid, routine_uid
from wearsync.routine.loader import builtin_text
from wearsync.routine.model import Routine
from wearsync.routine.occurrences import Plan
from wearsync.store import Store
from wearsync.sync.history import plans_in_store

ROUTINE_UID = routine_uid("foot-care", 1)


class CountingSource(StaticFeedSource):
    """A static source that counts how often the server asks it for data."""

    snapshots = 0

    def snapshot(self) -> FeedSnapshot:
        self.snapshots += 1
        return super().snapshot()


class Feed:
    """A running server with its source, tokens and an HTTP client."""

    def __init__(self, server: FeedServer, source: CountingSource, tokens: FeedTokens) -> None:
        self.server = server
        self.source = source
        self.tokens = tokens
        self.http = aiohttp.ClientSession(auto_decompress=False)

    @property
    def path(self) -> str:
        return f"/feeds/{self.tokens.current()}.ics"

    def url(self, target: str) -> str:
        return f"http://127.0.0.1:{self.server.port}{target}"

    async def get(
        self, target: str | None = None, method: str = "GET", **headers: str
    ) -> tuple[int, Mapping[str, str], bytes]:
        # aiohttp's client asks for gzip by default; ask for identity unless a test says otherwise.
        sent = {"Accept-Encoding": "identity", **headers}
        async with self.http.request(
            method, self.url(target or self.path), headers=sent
        ) as response:
            # A case-insensitive copy of the headers (dict() would make lookups case-sensitive).
            return response.status, response.headers.copy(), await response.read()

    async def raw(self, request_line: str, *extra: str) -> tuple[int, bytes, bytes]:
        """Send bytes as given (no client-side normalisation); return status, head, body."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        lines = [request_line, "Host: 127.0.0.1", "Connection: close", *extra, "", ""]
        writer.write("\r\n".join(lines).encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        await writer.wait_closed()
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), head, body


@pytest.fixture
async def feed(tmp_path: Path) -> AsyncIterator[Feed]:
    store = Store.open(tmp_path / "wearsync.db")
    tokens = FeedTokens(store)
    sessions = many_sessions(300, until=NOW, years=2)
    source = CountingSource(foot_care(), sessions, start=date(2025, 2, 14))
    server = FeedServer(
        source,
        ledger=store.calendar_ledger(),
        tokens=tokens,
        port=0,
        options=ExportOptions(max_bytes=40_000),
    )
    await server.start()
    running = Feed(server, source, tokens)
    try:
        yield running
    finally:
        await running.http.close()
        await server.stop()
        store.close()


async def test_serves_the_calendar_with_caching_headers(feed: Feed) -> None:
    status, headers, body = await feed.get()
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    etag = headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    last_modified = parsedate_to_datetime(headers["Last-Modified"])
    assert last_modified.tzinfo is not None
    assert "no-cache" in headers["Cache-Control"]
    assert int(headers["Content-Length"]) == len(body)
    assert "aiohttp" not in headers.get("Server", "")
    cal = parse(body)
    assert cal.refresh_interval == timedelta(hours=1)
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in body
    assert ROUTINE_UID in events(body)
    # The calendar links back to the server's page (which does not contain the secret).
    assert str(cal["URL"]) == feed.server.url
    assert not [e for e in cal.walk("VEVENT") if "URL" in e]


async def test_head_has_the_headers_and_no_body(feed: Feed) -> None:
    _, get_headers, get_body = await feed.get()
    status, head, body = await feed.raw(f"HEAD {feed.path} HTTP/1.1")
    assert status == 200
    assert body == b""
    assert f"ETag: {get_headers['ETag']}".encode() in head
    assert f"Content-Length: {len(get_body)}".encode() in head
    assert b"Content-Type: text/calendar; charset=utf-8" in head


async def test_conditional_requests_get_304(feed: Feed) -> None:
    _, headers, _ = await feed.get()
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    status, not_modified, body = await feed.get(**{"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert not_modified["ETag"] == etag
    assert (await feed.get(**{"If-None-Match": f'"other", W/{etag}'}))[0] == 304
    assert (await feed.get(**{"If-None-Match": '"other"'}))[0] == 200
    assert (await feed.get(**{"If-Modified-Since": last_modified}))[0] == 304
    later = format_datetime(parsedate_to_datetime(last_modified) + timedelta(days=1), usegmt=True)
    assert (await feed.get(**{"If-Modified-Since": later}))[0] == 304
    earlier = format_datetime(
        parsedate_to_datetime(last_modified) - timedelta(seconds=1), usegmt=True
    )
    assert (await feed.get(**{"If-Modified-Since": earlier}))[0] == 200
    assert (await feed.get(**{"If-Modified-Since": "yesterday"}))[0] == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 section 13.2.2).
    both = {"If-None-Match": '"other"', "If-Modified-Since": later}
    assert (await feed.get(**both))[0] == 200


async def test_a_routine_change_gives_a_new_etag_and_a_higher_sequence(feed: Feed) -> None:
    _, before_headers, before_body = await feed.get()
    before = events(before_body)
    feed.source.update(routine=foot_care_with("hold = { counts = 3 }", "hold = { counts = 4 }"))
    status, after_headers, after_body = await feed.get(**{"If-None-Match": before_headers["ETag"]})
    assert status == 200
    assert after_headers["ETag"] != before_headers["ETag"]
    assert parsedate_to_datetime(after_headers["Last-Modified"]) > parsedate_to_datetime(
        before_headers["Last-Modified"]
    )
    after = events(after_body)
    assert set(after) == set(before)  # same UIDs
    old, new = before[ROUTINE_UID], after[ROUTINE_UID]
    assert new["SEQUENCE"] == old["SEQUENCE"] + 1
    assert new["LAST-MODIFIED"].dt > old["LAST-MODIFIED"].dt
    assert "hold 4 counts" in str(new["DESCRIPTION"])
    presses = exercise_uid("foot-care", "toe-presses", 1)
    assert after[presses]["SEQUENCE"] == before[presses]["SEQUENCE"] + 1  # longer holds
    walking = exercise_uid("foot-care", "toe-walking", 1)
    assert after[walking]["SEQUENCE"] == before[walking]["SEQUENCE"]  # untouched
    assert after[walking]["LAST-MODIFIED"].dt == before[walking]["LAST-MODIFIED"].dt
    # The old Last-Modified no longer earns a 304.
    assert (await feed.get(**{"If-Modified-Since": before_headers["Last-Modified"]}))[0] == 200


async def test_the_body_is_built_once_per_change(feed: Feed) -> None:
    first = await feed.get()
    for _ in range(4):
        status, headers, body = await feed.get()
        assert (status, headers["ETag"], body) == (200, first[1]["ETag"], first[2])
    await feed.get(method="HEAD")
    await feed.get(**{"If-None-Match": first[1]["ETag"]})
    assert feed.source.snapshots == 1
    feed.server.invalidate()
    rebuilt = await feed.get()
    assert feed.source.snapshots == 2
    assert rebuilt[1]["ETag"] == first[1]["ETag"]  # same inputs, same bytes
    feed.source.update(sessions=[])
    emptied = await feed.get()
    assert feed.source.snapshots == 3
    assert emptied[1]["ETag"] != first[1]["ETag"]


async def test_gzip_for_clients_that_ask(feed: Feed) -> None:
    _, plain_headers, plain = await feed.get()
    status, headers, packed = await feed.get(**{"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed) == plain
    assert headers["ETag"] != plain_headers["ETag"] and "Accept-Encoding" in headers["Vary"]
    again = await feed.get(**{"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]})
    assert again[0] == 304
    refused = await feed.get(**{"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused[1]


async def test_history_window_and_full_history_on_request(feed: Feed) -> None:
    default = events((await feed.get())[2])
    status, _, body = await feed.get(feed.path + "?history=all")
    assert status == 200
    full = events(body)
    shown = [u for u in default if u.startswith("session-")]
    assert [u for u in default if u.startswith("summary-")]
    assert len([u for u in full if u.startswith("session-")]) == 300 > len(shown)
    assert not [u for u in full if u.startswith("summary-")]
    only = events((await feed.get(feed.path + "?view=history&history=all"))[2])
    assert all(u.startswith("session-") for u in only) and len(only) == 300
    assert (await feed.get(feed.path + "?history=everything"))[0] == 400


BAD_TARGETS = [
    "/feeds/../etc/passwd",
    "/feeds/%2e%2e/etc/passwd",
    "/feeds/%2E%2E%2Fetc%2Fpasswd",
    "/feeds/..%2f..%2fetc%2fpasswd.ics",
    "/feeds/%2e%2e%2f%2e%2e%2fetc%2fpasswd.ics",
    "/feeds//etc/passwd.ics",
    "/../../etc/passwd",
    "/feeds/",
    "/feeds",
    "/favicon.ico",
    "/FEEDS/{token}.ics",
    "/feeds/{token}",
    "/feeds/{token}.ics/",
    "/feeds/{token}.ics.bak",
    "/feeds/{token}.ics/../{token}.ics",
    "//feeds/{token}.ics",
    "/feeds/{token}%2eics",
    "/feeds/{token_but_last}%{last_hex}.ics",
    "/feeds/{token}.ics%00",
    "/" + "a" * 10_000,
    "/feeds/" + "A" * 10_000 + ".ics",
]


async def test_everything_else_is_the_same_plain_404(feed: Feed) -> None:
    token = feed.tokens.current()
    fill = {"token": token, "token_but_last": token[:-1], "last_hex": f"{ord(token[-1]):02X}"}
    wrong_token = f"/feeds/{'B' * len(token)}.ics"
    bodies = set()
    for target in [*(t.format(**fill) for t in BAD_TARGETS), wrong_token, "/feeds/short.ics"]:
        status, head, body = await feed.raw(f"GET {target} HTTP/1.1")
        assert status == 404, target
        assert token.encode() not in head + body
        bodies.add(body)
    assert bodies == {b"Not Found"}
    # The good token still works, so the 404s were not a broken server.
    assert (await feed.raw(f"GET {feed.path} HTTP/1.1"))[0] == 200


async def test_methods_other_than_get_and_head(feed: Feed) -> None:
    assert (await feed.raw(f"POST {feed.path} HTTP/1.1", "Content-Length: 0"))[0] == 405
    assert (await feed.raw("DELETE /feeds/nope.ics HTTP/1.1"))[0] == 404


async def test_rotating_the_token_retires_the_old_url(feed: Feed) -> None:
    old_path = feed.path
    assert (await feed.get(old_path))[0] == 200
    feed.tokens.rotate()
    assert feed.path != old_path
    assert (await feed.get(old_path))[0] == 404
    assert (await feed.get(feed.path))[0] == 200


async def test_the_page_at_root_shows_the_links_to_this_machine(feed: Feed) -> None:
    status, headers, body = await feed.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    webcal = f"webcal://127.0.0.1:{feed.server.port}{feed.path}"
    assert f'href="{webcal}"' in page
    assert feed.server.feed_url() in page
    assert headers["Cache-Control"] == "no-store"


def test_only_loopback_peers_see_the_token_on_the_page() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("127.8.9.1") and _is_loopback("::1")
    for remote in ("192.168.1.20", "10.0.0.1", "2001:db8::1", "", None, "not-an-ip"):
        assert not _is_loopback(remote)


async def test_a_port_in_use_is_a_clear_error(feed: Feed, tmp_path: Path) -> None:
    with Store.open(tmp_path / "other.db") as store:
        second = FeedServer(
            StaticFeedSource(foot_care(), start=date(2025, 2, 14)),
            ledger=store.calendar_ledger(),
            tokens=FeedTokens(store),
            port=feed.server.port,
        )
        with pytest.raises(FeedServerError, match=r"cannot listen on 127\.0\.0\.1"):
            await second.start()


async def test_the_day_moves_the_window_without_a_source_change(tmp_path: Path) -> None:
    """The history window follows the clock: a new day is a new cache key."""
    store = Store.open(tmp_path / "wearsync.db")
    now = [datetime(2026, 11, 23, 12, tzinfo=UTC)]
    source = CountingSource(
        foot_care(), many_sessions(50, until=now[0], years=2), start=date(2025, 2, 14)
    )
    server = FeedServer(
        source,
        ledger=store.calendar_ledger(),
        tokens=FeedTokens(store),
        port=0,
        clock=lambda: now[0],
    )
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(2):
                async with http.get(server.feed_url()) as response:
                    assert response.status == 200
            now[0] += timedelta(days=1)
            async with http.get(server.feed_url()) as response:
                assert response.status == 200
        assert source.snapshots == 2
    finally:
        await server.stop()
        store.close()


async def test_the_served_feed_marks_what_the_pushed_plans_planned(tmp_path: Path) -> None:
    """The serve edge hands the store's plans to the source; marks start at the first push."""
    store = Store.open(tmp_path / "wearsync.db")
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    pushed = datetime(2026, 3, 10, 12, tzinfo=UTC)
    store.remember_device("AA", "watch", "wearsync-timer")
    store.record_push("AA", "01", "foot-care", builtin_text("foot-care"), at=pushed)
    store.save_sessions(many_sessions(3, until=now, years=0.01))

    def plans(current: Routine, at: datetime) -> list[Plan]:
        return plans_in_store(store, current, now=at)[1]

    source = RoutineFeedSource(
        "foot-care", store, store, start=date(2026, 3, 2), clock=lambda: now, plans=plans
    )
    server = FeedServer(
        source, ledger=store.calendar_ledger(), tokens=FeedTokens(store), port=0, clock=lambda: now
    )
    await server.start()
    try:
        async with aiohttp.ClientSession() as http, http.get(server.feed_url()) as response:
            assert response.status == 200
            body = await response.read()
    finally:
        await server.stop()
        store.close()
    marked = [e["RECURRENCE-ID"].dt for e in parse(body).walk("VEVENT") if "RECURRENCE-ID" in e]
    assert marked and min(marked) >= pushed


async def test_missed_marks_appear_within_the_hour_the_day_ends(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "wearsync.db")
    now = [datetime(2026, 1, 6, 23, 30, tzinfo=UTC)]  # London is on UTC in January
    source = CountingSource(foot_care(), [], start=date(2026, 1, 5))
    server = FeedServer(
        source,
        ledger=store.calendar_ledger(),
        tokens=FeedTokens(store),
        port=0,
        clock=lambda: now[0],
    )
    await server.start()
    try:
        bodies = []
        async with aiohttp.ClientSession() as http:
            for step in (timedelta(0), timedelta(minutes=20), timedelta(minutes=20)):
                now[0] += step
                async with http.get(server.feed_url()) as response:
                    bodies.append(await response.read())
    finally:
        await server.stop()
        store.close()
    assert source.snapshots == 2  # 23:30 and 23:50 share an hour; 00:10 does not

    def missed_on(body: bytes, day: date) -> int:
        return sum(
            1
            for e in parse(body).walk("VEVENT")
            if "RECURRENCE-ID" in e
            and e["RECURRENCE-ID"].dt.date() == day
            and str(e["SUMMARY"]).startswith("Missed: ")
        )

    assert bodies[0] == bodies[1]
    assert missed_on(bodies[1], date(2026, 1, 6)) == 0  # the 6th is still open at 23:50
    assert missed_on(bodies[2], date(2026, 1, 6)) == 5  # 3 toe presses, 2 toe walking
