"""The pages, served live on 127.0.0.1 from a store with sessions synced from simulated watches."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from tests.web.conftest import FIRST_WATCH, PROGRAM, ROUTINE, SECOND_WATCH, Site
from wearsync.calendar.feed import NOT_FOUND
from wearsync.calendar.tokens import FeedTokens
from wearsync.cli.app import app as cli
from wearsync.records import SessionRecord, SessionStatus, utc_now
from wearsync.routine.describe import describe_exercise
from wearsync.sync.history import plans_in_store, summarize
from wearsync.web.markup import CSP, duration_text


class Tags(HTMLParser):
    """The start tags of a document, with their attributes, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


def parse(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


def text_of(page: str) -> str:
    return " ".join(" ".join(parse(page).text).split())


async def test_the_routine_page_shows_each_exercise_its_time_the_total_and_next_occurrences(
    site: Site,
) -> None:
    page = await site.page()
    text = text_of(page)
    assert ROUTINE.title in text
    for ex, pex in zip(ROUTINE.exercises, PROGRAM.exercises, strict=True):
        assert ex.name in text
        assert " ".join(ex.instructions.split()) in text
        assert describe_exercise(ex) in text
        assert duration_text(pex.active_ms) in text
        for item in ex.equipment:
            assert item in text
    assert f"Total time {duration_text(PROGRAM.total_ms)}" in text
    assert "every 2-3 days at 18:00" in text
    day = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d \w{3}"
    assert re.search(rf"Next 4 days .*{day} 18:00 [^:]*the whole routine", text)
    daily = ", ".join(ex.name for ex in ROUTINE.exercises if ex.times_per_day > 1)
    assert "," in daily and re.search(rf"{day} 08:00 {daily}", text)


async def test_the_adherence_page_has_a_chart_a_table_and_the_history_figures(
    site: Site, synced: list[SessionRecord]
) -> None:
    page = await site.page("adherence")
    now = utc_now()
    first_day, plans = plans_in_store(site.store, ROUTINE, now=now)
    report = summarize(synced, plans, first_day=first_day, now=now, window_days=30)
    text = text_of(page)
    assert report.done >= 2, "two completed and one partial session since the first push"
    assert f"{report.done} of {report.planned} planned sessions and daily repeats done" in text
    names = [e.name for e in report.entries]
    assert len(names) == 3, "the routine and the two exercises done several times a day"
    for e in report.entries:
        assert f"{e.name.capitalize()} {e.done} {e.planned}" in text
    assert f"{report.aborted} aborted, {report.interrupted} interrupted" in text
    assert f"{report.exercises_done} exercises done, {report.exercises_skipped} skipped" in text
    tags = parse(page)
    charts = [a for a in tags.named("svg") if a.get("class") == "chart"]
    assert len(charts) >= 1 and all(a.get("role") == "img" for a in charts)
    rects = [a for a in tags.named("rect") if a.get("class") in ("planned", "done")]
    assert rects, "the chart draws bars"
    assert len(charts) == len(names), "one chart per entry"
    # The same figures as a table: this week's row says how many were done, per entry.
    week = summarize(synced, plans, first_day=first_day, now=now, window_days=7)
    today = now.astimezone(ROUTINE.schedule.zone).date()
    row = f"{today - timedelta(days=6):%d %b} to {today:%d %b %Y}"
    for e in week.entries:
        heading = f"{e.name.capitalize()} per week, newest first Week Done Planned"
        assert f"{heading} {row} {e.done} {e.planned}" in text, e


async def test_the_history_page_lists_each_session_with_status_duration_and_watch(
    site: Site, synced: list[SessionRecord]
) -> None:
    text = text_of(await site.page("history"))
    statuses = {s.status for s in synced}
    assert {SessionStatus.COMPLETED, SessionStatus.PARTIAL, SessionStatus.ABORTED} <= statuses
    # One stopped, one cut by a reboot: the watch's SESSION_ABORTED at its next boot (§8.2)
    # ends the cut session, so it is one aborted session rather than an interrupted one too.
    assert [s.status for s in synced].count(SessionStatus.ABORTED) == 2
    assert SessionStatus.INTERRUPTED not in statuses
    for status in statuses:
        assert status.value in text
    assert FIRST_WATCH in text and SECOND_WATCH in text
    partial = next(s for s in synced if s.status is SessionStatus.PARTIAL)
    skipped = [e.name for e in partial.exercises if e.status == "skipped"]
    done = sum(1 for e in partial.exercises if e.status == "done")
    assert skipped and f"{done} of {len(partial.exercises)} {', '.join(skipped)}" in text
    completed = next(s for s in synced if s.status is SessionStatus.COMPLETED)
    assert completed.duration_s is not None
    assert duration_text(int(completed.duration_s * 1000)) in text


async def test_the_csv_download_has_every_session(site: Site, synced: list[SessionRecord]) -> None:
    status, headers, body = await site.get(site.root + "history.csv")
    assert status == 200
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"] == 'attachment; filename="foot-care-history.csv"'
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == len(synced)
    assert sorted(r["status"] for r in rows) == sorted(s.status.value for s in synced)
    assert {r["watch"] for r in rows} == {FIRST_WATCH, SECOND_WATCH}
    assert {r["entry"] for r in rows} == {s.entry for s in synced} == {"routine"}
    newest = max(synced, key=lambda s: s.started_at)
    assert rows[0]["watch_address"] == newest.device
    assert rows[0]["started"].startswith(
        newest.started_at.astimezone(ROUTINE.schedule.zone).date().isoformat()
    )


async def test_the_subscribe_page_has_both_links_a_qr_code_and_each_client(site: Site) -> None:
    page = await site.page("subscribe")
    feed = f"{site.server.url}feeds/{FeedTokens(site.store).current()}.ics"
    webcal = "webcal://" + feed.removeprefix("http://")
    tags = parse(page)
    assert webcal in [a.get("href") for a in tags.named("a")]
    assert feed in text_of(page)
    svgs = tags.named("svg")
    assert any(a.get("class") == "segno" and a.get("role") == "img" for a in svgs)
    for client in ("Google Calendar", "Apple Calendar", "Thunderbird", "Outlook"):
        assert client in text_of(page)
    status, _, body = await site.get(feed)
    assert status == 200 and body.startswith(b"BEGIN:VCALENDAR")


@pytest.mark.parametrize("name", ["", "adherence", "history", "subscribe"])
async def test_each_page_is_self_contained_accessible_and_locked_down(
    site: Site, name: str
) -> None:
    status, headers, body = await site.get(site.root + name)
    assert status == 200
    assert headers["Content-Security-Policy"] == CSP
    assert "script-src" not in CSP and CSP.startswith("default-src 'none'")
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    tags = parse(body.decode())
    assert not tags.named("script") and not tags.named("img") and not tags.named("iframe")
    assert not [a for t, a in tags.tags if "style" in a], "no style attributes (CSP)"
    links = [a.get("href") or "" for a in tags.named("a")] + [
        a.get("href") or "" for a in tags.named("link")
    ]
    assert not [h for h in links if h.startswith(("http://", "https://", "//"))], (
        "no external resources or links"
    )
    assert tags.named("html")[0].get("lang") == "en"
    assert len(tags.named("h1")) == 1
    assert any(a.get("name") == "viewport" for a in tags.named("meta"))
    assert [a for a in tags.named("a") if a.get("aria-current") == "page"]


async def test_a_wrong_old_or_malformed_token_gets_the_same_404_as_any_path(site: Site) -> None:
    good = site.token
    unknown = await site.get(f"{site.server.url}no/such/path")
    assert unknown[0] == 404 and unknown[2] == NOT_FOUND.body
    feed_token = FeedTokens(site.store).current()
    wrong = [
        f"web/{'A' * len(good)}/",
        f"web/{good[:-1]}/",
        f"web/{good}",
        f"web/{good}/nope",
        f"web/{good}/%2e%2e/",
        f"web/{feed_token}/",  # the feed's token does not open the pages
        "web/",
    ]
    for path in wrong:
        status, headers, body = await site.get(site.server.url + path)
        assert (status, body) == (404, NOT_FOUND.body), path
        assert headers["Content-Type"] == unknown[1]["Content-Type"]
    assert (await site.get(site.root))[0] == 200
    result = CliRunner().invoke(cli, ["feed", "page-url", "--rotate", "--json"])
    assert result.exit_code == 0, result.output
    assert good not in result.stdout
    # Another process rotated it: the server rereads the token within a second.
    for _ in range(100):
        status, _, body = await site.get(f"{site.server.url}web/{good}/history")
        if status != 200:
            break
        await asyncio.sleep(0.05)
    assert (status, body) == (404, NOT_FOUND.body), "the old token stops working"
    assert (await site.get(site.root + "history"))[0] == 200


async def test_head_works_and_other_methods_are_refused(site: Site) -> None:
    status, _, body = await site.get(site.root, method="HEAD")
    assert status == 200 and body == b""
    status, headers, _ = await site.get(site.root, method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    status, _, body = await site.get(f"{site.server.url}web/{'x' * 32}/", method="POST")
    assert (status, body) == (404, NOT_FOUND.body)


async def test_no_token_reaches_the_log(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("", "adherence", "history", "history.csv", "subscribe", "nope"):
        await site.get(site.root + name)
    await site.get(f"{site.server.url}web/{'B' * 32}/")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert site.token not in logged
    assert FeedTokens(site.store).current() not in logged
    assert "B" * 32 not in logged


async def test_text_from_a_watch_is_escaped_in_html_and_csv(site: Site, synced) -> None:
    address = synced[-1].device
    device = site.store.device(address)
    assert device is not None
    site.store.remember_device(address, '=HYPERLINK("x")<script>alert(1)</script>', device.profile)
    page = await site.page("history")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    _, _, body = await site.get(site.root + "history.csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert {r["watch"] for r in rows if r["watch_address"] == address} == {
        '\'=HYPERLINK("x")<script>alert(1)</script>'
    }


def test_page_url_prints_the_pages_link_and_rotate_replaces_it() -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["feed", "page-url", "--json"])
    again = runner.invoke(cli, ["feed", "page-url", "--json"])
    assert first.exit_code == again.exit_code == 0, first.output
    assert first.stdout == again.stdout
    link = re.search(r'"page":\s*"(http://127\.0\.0\.1:8765/web/[A-Za-z0-9_-]{32}/)"', first.stdout)
    assert link, first.stdout
    rotated = runner.invoke(cli, ["feed", "page-url", "--rotate"])
    assert rotated.exit_code == 0
    assert "New page token" in rotated.stdout and link.group(1) not in rotated.stdout
    feed = runner.invoke(cli, ["feed", "url", "--json"])
    assert link.group(1).split("/")[-2] not in feed.stdout, "the feed has its own token"


async def test_a_page_asked_for_under_another_host_name_is_refused(site: Site) -> None:
    # DNS rebinding: a site whose name now points at 127.0.0.1 must not read the pages.
    async with site.http.get(site.root + "history", headers={"Host": "evil.example"}) as resp:
        body = await resp.read()
    assert resp.status == 421 and site.token.encode() not in body
    async with site.http.get(site.root, headers={"Host": f"localhost:{site.server.port}"}) as ok:
        assert ok.status == 200
