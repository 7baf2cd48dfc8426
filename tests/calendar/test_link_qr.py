"""The link onto the phone: ``feed url --qr`` draws a QR code in the terminal, the page at ``/``
shows one as inline SVG, and a wildcard bind gives a LAN link with a note on which clients can
use it. The codes are read back with a real decoder (zxing-cpp), not compared with segno."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import aiohttp
import numpy as np
import pytest
import zxingcpp
from typer.testing import CliRunner

from tests.calendar.factories import foot_care
from wearsync.calendar.feed import FeedServer
from wearsync.calendar.httputil import lan_address, link_reach
from wearsync.calendar.sources import StaticFeedSource
from wearsync.calendar.tokens import FeedTokens
from wearsync.cli.app import app
from wearsync.cli.feed import FeedLinks
from wearsync.store import Store

runner = CliRunner()


def decode(dark: list[list[bool]]) -> list[str]:
    """The texts of the QR codes in a module matrix (True: dark), read by zxing-cpp."""
    pixels = np.array([[0 if d else 255 for d in row] for row in dark], dtype=np.uint8)
    pixels = np.pad(pixels, 4, constant_values=255).repeat(6, 0).repeat(6, 1)
    return [result.text for result in zxingcpp.read_barcodes(pixels)]


def from_terminal(text: str) -> list[list[bool]]:
    """Modules from segno's compact terminal drawing: each character is two rows, the upper
    half and the lower half; the drawing is light-on-dark, so a space is a dark module."""
    halves = {" ": (True, True), "█": (False, False), "▀": (False, True), "▄": (True, False)}
    rows: list[list[bool]] = []
    for line in text.splitlines():
        if not line:
            continue
        cells = [halves[c] for c in line]
        rows.append([top for top, _ in cells])
        rows.append([bottom for _, bottom in cells])
    return rows


def from_svg(svg: str) -> list[list[bool]]:
    """Modules from segno's SVG path (``M``/``m`` moves, ``h`` runs of dark modules)."""
    size = int(re.search(r'width="(\d+)"', svg).group(1)) // 5  # type: ignore[union-attr]
    path = re.search(r' d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    dark = [[False] * size for _ in range(size)]
    x = y = 0.0
    for op, args in re.findall(r"([Mmh])([-\d. ]+)", path):
        numbers = [float(n) for n in args.split()]
        if op == "M":
            x, y = numbers
        elif op == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            for column in range(int(x), int(x + numbers[0])):
                dark[int(y)][column] = True
            x += numbers[0]
    return dark


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_feed_url_qr_draws_the_subscribe_link(home: Path) -> None:
    links = FeedLinks.model_validate_json(runner.invoke(app, ["feed", "url", "--json"]).stdout)
    drawn = runner.invoke(app, ["feed", "url", "--qr"])
    assert drawn.exit_code == 0, drawn.output
    code = drawn.stdout[drawn.stdout.index("revokes it.") + len("revokes it.\n") :]
    assert decode(from_terminal(code)) == [links.webcal]


def test_a_wildcard_bind_gives_a_lan_link_and_says_who_can_use_it(home: Path) -> None:
    result = runner.invoke(app, ["feed", "url", "--host", "0.0.0.0", "--port", "8765"])
    assert result.exit_code == 0, result.output
    lan = lan_address()
    if lan is not None:
        assert f"webcal://{lan}:8765/feeds/" in result.stdout
    assert "Apple Calendar and Thunderbird" in result.stdout
    assert "Google Calendar" in result.stdout and "public link" in result.stdout
    local = runner.invoke(app, ["feed", "url", "--host", "127.0.0.1", "--json"])
    assert FeedLinks.model_validate_json(local.stdout).reach == "this computer"


def test_link_reach() -> None:
    assert link_reach("http://127.0.0.1:8765/") == "this computer"
    assert link_reach("http://192.168.1.20:8765/") == "local network"
    assert link_reach("http://laptop.local:8765/") == "local network"
    assert link_reach("https://cal.example.org/") == "internet"


async def test_the_page_shows_the_link_as_a_qr_code(tmp_path: Path) -> None:
    with Store.open(tmp_path / "wearsync.db") as store:
        tokens = FeedTokens(store)
        server = FeedServer(
            StaticFeedSource(foot_care(), start=date(2025, 2, 14)),
            ledger=store.calendar_ledger(),
            tokens=tokens,
            port=0,
        )
        await server.start()
        try:
            async with aiohttp.ClientSession() as http, http.get(server.url) as response:
                page = await response.text()
        finally:
            await server.stop()
        webcal = f"webcal://127.0.0.1:{server.port}/feeds/{tokens.current()}.ics"
    svg = page[page.index("<svg") : page.index("</svg>") + 6]
    assert decode(from_svg(svg)) == [webcal]
