"""The fast path: what it parses, what it hands to aiohttp, and that connections survive both."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.calendar.factories import foot_care
from wearsync.calendar.fastpath import MAX_FIELDS, parse_head
from wearsync.calendar.feed import FeedServer
from wearsync.calendar.ledger import SqliteEventLedger, SqliteSettings
from wearsync.calendar.sources import StaticFeedSource
from wearsync.calendar.tokens import FeedTokens

PLAIN = b'GET /feeds/abc.ics HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nIf-None-Match: "x"\r\nAccept: */*'


def test_a_plain_request_is_parsed() -> None:
    assert parse_head(PLAIN) == (
        "GET",
        "/feeds/abc.ics",
        {"host": "127.0.0.1:8765", "if-none-match": '"x"', "accept": "*/*"},
        False,
    )


def test_repeated_fields_are_joined_and_close_is_seen() -> None:
    head = PLAIN + b"\r\nAccept: text/calendar\r\nConnection: keep-alive, Close"
    parsed = parse_head(head)
    assert parsed is not None
    assert parsed[2]["accept"] == "*/*, text/calendar"
    assert parsed[3] is True


@pytest.mark.parametrize(
    "head",
    [
        PLAIN.replace(b"GET", b"POST"),
        PLAIN.replace(b"HTTP/1.1", b"HTTP/1.0"),
        PLAIN.replace(b"Host: 127.0.0.1:8765\r\n", b""),
        PLAIN + b"\r\nContent-Length: 0",
        PLAIN + b"\r\nTransfer-Encoding: chunked",
        PLAIN + b"\r\nExpect: 100-continue",
        PLAIN + b"\r\nUpgrade: websocket",
        PLAIN + b"\r\n folded: continuation",
        PLAIN + b"\r\nX-Name: caf\xc3\xa9",
        PLAIN + b"\nX-Bare: lf",
        PLAIN + b"\r\nX-Space : before colon",
        PLAIN + b"\r\nX-Cr: a\rb",
        b"GET  /feeds/abc.ics HTTP/1.1\r\nHost: x",
        b"GET feeds/abc.ics HTTP/1.1\r\nHost: x",
        b"GET /feeds/a bc.ics HTTP/1.1\r\nHost: x",
        b"GET http://x/feeds/abc.ics HTTP/1.1\r\nHost: x",
        PLAIN + b"".join(b"\r\nX-%d: y" % i for i in range(MAX_FIELDS)),
    ],
)
def test_anything_unusual_is_left_to_aiohttp(head: bytes) -> None:
    assert parse_head(head) is None


@given(st.binary(max_size=300))
def test_random_bytes_never_raise(head: bytes) -> None:
    parsed = parse_head(head)
    if parsed is not None:
        method, target, fields, _ = parsed
        assert method in ("GET", "HEAD") and target.startswith("/")
        assert all("\r" not in v and "\n" not in v for v in fields.values())


@given(
    st.dictionaries(
        st.from_regex(r"X-[A-Za-z0-9-]{1,20}", fullmatch=True),
        st.from_regex(r"[ -~]{0,40}", fullmatch=True),
        max_size=8,
    )
)
def test_plain_fields_round_trip(extra: dict[str, str]) -> None:
    head = b"HEAD /x HTTP/1.1\r\nHost: h" + b"".join(
        f"\r\n{k}: {v}".encode() for k, v in extra.items()
    )
    parsed = parse_head(head)
    assert parsed is not None
    lowered: dict[str, list[str]] = {}
    for k, v in extra.items():
        lowered.setdefault(k.lower(), []).append(v.strip(" \t"))
    for name, values in lowered.items():
        assert parsed[2][name] == ", ".join(values)


# --- live, on one connection --------------------------------------------------------------


class Conn:
    """A raw keep-alive connection that reads responses one by one."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self, *, head_request: bool = False) -> tuple[int, dict[str, str], bytes]:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 10)
        lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                fields[name.lower()] = value.strip()
        status = int(lines[0].split(" ")[1])
        length = 0 if head_request or status == 304 else int(fields.get("content-length", "0"))
        body = await asyncio.wait_for(self.reader.readexactly(length), 10)
        return status, fields, body


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[FeedServer, str]]:
    conn = sqlite3.connect(tmp_path / "wearsync.db")
    tokens = FeedTokens(SqliteSettings(conn))
    feed = FeedServer(
        StaticFeedSource(foot_care(), start=date(2025, 2, 14)),
        ledger=SqliteEventLedger(conn),
        tokens=tokens,
        port=0,
    )
    await feed.start()
    try:
        yield feed, f"/feeds/{tokens.current()}.ics"
    finally:
        await feed.stop()


async def connect(feed: FeedServer) -> Conn:
    return Conn(*await asyncio.open_connection("127.0.0.1", feed.port))


def get(path: str, *fields: str, method: str = "GET") -> bytes:
    return "\r\n".join([f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *fields, "", ""]).encode()


async def test_pipelined_requests_are_answered_in_order(server: tuple[FeedServer, str]) -> None:
    feed, path = server
    conn = await connect(feed)
    await conn.send(get(path) + get("/nope") + get(path, method="HEAD") + get(path))
    status, fields, body = await conn.response()
    assert status == 200 and fields["server"] == "wearsync" and "date" in fields
    assert fields["content-type"] == "text/calendar; charset=utf-8"
    missing = await conn.response()
    assert (missing[0], missing[2]) == (404, b"Not Found")
    head = await conn.response(head_request=True)
    assert head[0] == 200 and head[1]["content-length"] == str(len(body))
    again = await conn.response()
    assert (again[0], again[1]["etag"], again[2]) == (200, fields["etag"], body)
    conn.writer.close()


async def test_a_connection_handed_to_aiohttp_keeps_working(
    server: tuple[FeedServer, str],
) -> None:
    """Fast answer, then a chunked request (aiohttp's from there on), then plain ones again."""
    feed, path = server
    conn = await connect(feed)
    await conn.send(get(path))
    status, fields, body = await conn.response()
    assert status == 200
    chunked = get(path, "Transfer-Encoding: chunked").removesuffix(b"\r\n") + b"\r\n0\r\n\r\n"
    await conn.send(chunked + get(path, f"If-None-Match: {fields['etag']}"))
    handed = await conn.response()
    assert (handed[0], handed[1]["etag"], handed[2]) == (200, fields["etag"], body)
    assert (await conn.response())[0] == 304
    await conn.send(get("/feeds/../etc/passwd") + get(path, "Connection: close"))
    assert (await conn.response())[0:3:2] == (404, b"Not Found")
    assert (await conn.response())[0] == 200
    assert await conn.reader.read() == b""  # closed as asked


async def test_http_1_0_and_other_methods_go_through_aiohttp(
    server: tuple[FeedServer, str],
) -> None:
    feed, path = server
    conn = await connect(feed)
    await conn.send(f"GET {path} HTTP/1.0\r\n\r\n".encode())
    status, fields, body = await conn.response()
    assert status == 200 and body.startswith(b"BEGIN:VCALENDAR")
    assert fields["server"] == "wearsync"
    conn = await connect(feed)
    await conn.send(get(path, "Content-Length: 4", method="POST") + b"data")
    assert (await conn.response())[0] == 405


async def test_a_huge_head_is_aiohttps_to_refuse(server: tuple[FeedServer, str]) -> None:
    feed, path = server
    conn = await connect(feed)
    await conn.send(get(path, "X-Big: " + "a" * 20_000))
    status, _, _ = await conn.response()
    assert status in (400, 431)
    fresh = await connect(feed)
    await fresh.send(get(path))
    assert (await fresh.response())[0] == 200


async def test_connection_close_is_honoured(server: tuple[FeedServer, str]) -> None:
    feed, path = server
    conn = await connect(feed)
    await conn.send(get(path, "Connection: close"))
    status, fields, _ = await conn.response()
    assert status == 200 and fields["connection"] == "close"
    assert await conn.reader.read() == b""
