"""``wearsync feed publish``: into a real Radicale server on 127.0.0.1 (htpasswd auth), and as
static files."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import pytest
from caldav.davclient import DAVClient
from keyring.backend import KeyringBackend
from typer.testing import CliRunner

from tests.calendar.factories import session
from wearsync.calendar.uids import exercise_uid, routine_uid, session_uid
from wearsync.cli.app import app
from wearsync.cli.feed import PublishResult, publish_after_sync, publish_target
from wearsync.routine.loader import builtin_text
from wearsync.store import Store

runner = CliRunner()
USER, PASSWORD = "alice", "correct horse battery"


@dataclass(frozen=True)
class Radicale:
    url: str  # the calendar's URL

    def uids(self) -> set[str]:
        with DAVClient(url=self.url, username=USER, password=PASSWORD, require_tls=False) as c:
            calendar = c.calendar(url=self.url)  # type: ignore[no-untyped-call]
            uids = [str(o.icalendar_component["UID"]) for o in calendar.events()]
        assert len(uids) == len(set(uids)), "one resource per UID"
        return set(uids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Radicale server on 127.0.0.1 with htpasswd auth, for the module; yields its URL."""
    tmp = tmp_path_factory.mktemp("radicale")
    port = free_port()
    users = tmp / "users"
    users.write_text(f"{USER}:{PASSWORD}\n")
    config = tmp / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\n"
        f"[storage]\nfilesystem_folder = {tmp / 'collections'}\n"
        "[logging]\nlevel = warning\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # wait for the port: a bound on start-up, not a measurement
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "no radicale"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def radicale(radicale_server: str, request: pytest.FixtureRequest) -> Radicale:
    """A new, empty calendar on the server for each test."""
    with DAVClient(
        url=radicale_server, username=USER, password=PASSWORD, require_tls=False
    ) as client:
        name = request.node.name.replace("_", "-")[:40]
        calendar = client.principal().make_calendar(name=name, cal_id=name)
    return Radicale(str(calendar.url))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WEARSYNC_CALDAV_PASSWORD", PASSWORD)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with Store.open(tmp_path / "home" / "wearsync.db") as store:
        store.save_sessions(
            [session(now - timedelta(days=d), key=f"C0:FF:EE:00:00:01/1/{d}") for d in (1, 3)]
        )
    return tmp_path / "home"


def publish(*args: str) -> PublishResult:
    result = runner.invoke(app, ["feed", "publish", "--json", *args])
    assert result.exit_code == 0, result.output
    return PublishResult.model_validate_json(result.stdout)


def routine_file(tmp_path: Path, *changes: tuple[str, str]) -> str:
    text = builtin_text("foot-care")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "foot-care.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.slow
def test_publish_creates_then_updates_only_what_changed(
    radicale: Radicale, home: Path, tmp_path: Path
) -> None:
    caldav = ("--caldav", radicale.url, "--user", USER)
    first = publish(*caldav)
    assert first.caldav is not None
    created = set(first.caldav.created)
    assert len(created) == 8  # 1 routine, 3 + 2 exercise slots, 2 sessions
    assert radicale.uids() == created
    assert first.caldav.updated == first.caldav.deleted == []

    again = publish(*caldav)
    assert again.caldav is not None
    assert (again.caldav.created, again.caldav.updated, again.caldav.deleted) == ([], [], [])
    assert again.caldav.unchanged == 8

    longer = routine_file(tmp_path, ("hold = { counts = 3 }", "hold = { counts = 4 }"))
    changed = publish(*caldav, "--routine", longer)
    assert changed.caldav is not None
    assert set(changed.caldav.updated) == {
        routine_uid("foot-care", 1),
        *(exercise_uid("foot-care", "toe-presses", n) for n in (1, 2, 3)),
    }
    assert changed.caldav.created == changed.caldav.deleted == []

    once = routine_file(
        tmp_path,
        ("hold = { counts = 3 }", "hold = { counts = 4 }"),
        ("times_per_day = 2", "times_per_day = 1"),
    )
    withdrawn = publish(*caldav, "--routine", once)
    assert withdrawn.caldav is not None
    gone = {exercise_uid("foot-care", "toe-walking", n) for n in (1, 2)}
    assert set(withdrawn.caldav.deleted) == gone
    assert radicale.uids() == created - gone


def test_a_wrong_password_is_one_line(
    radicale: Radicale, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEARSYNC_CALDAV_PASSWORD", "Tr0ub4dor-x9")
    result = runner.invoke(app, ["feed", "publish", "--caldav", radicale.url, "--user", USER])
    assert result.exit_code != 0
    assert result.stderr.startswith("error: --caldav ")
    assert "refused user 'alice'" in result.stderr
    assert "Traceback" not in result.output and "Tr0ub4dor-x9" not in result.output
    assert radicale.uids() == set()


def test_no_password_in_clear_and_an_unreachable_server_is_one_line(home: Path) -> None:
    clear = runner.invoke(
        app, ["feed", "publish", "--caldav", "http://dav.example.org/cal/", "--user", USER]
    )
    assert clear.exit_code != 0 and "plain http" in clear.stderr.splitlines()[0]
    port = free_port()  # nothing listens there
    gone = runner.invoke(
        app, ["feed", "publish", "--caldav", f"http://127.0.0.1:{port}/cal/", "--user", USER]
    )
    assert gone.exit_code != 0
    assert gone.stderr.splitlines() == [
        f"error: --caldav http://127.0.0.1:{port}/cal/: cannot reach the server "
        "(Connection refused)"
    ]


def test_the_password_never_comes_from_the_command_line(home: Path) -> None:
    in_url = runner.invoke(
        app, ["feed", "publish", "--caldav", f"http://{USER}:{PASSWORD}@127.0.0.1:1/cal/"]
    )
    assert in_url.exit_code != 0 and "the URL holds a password" in in_url.stderr
    assert PASSWORD not in in_url.output


def test_publish_dir_writes_the_feed_and_its_etag(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = publish("--dir", str(out))
    body = (out / "foot-care.ics").read_bytes()
    assert first.written and body.startswith(b"BEGIN:VCALENDAR")
    assert (out / "foot-care.ics.etag").read_text().strip() == f'"{first.etag}"'
    assert oct((out / "foot-care.ics").stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in out.iterdir()) == ["foot-care.ics", "foot-care.ics.etag"]
    again = publish("--dir", str(out))
    assert again.written is False and again.etag == first.etag
    assert again.directory == str(out)


async def test_serve_publishes_after_a_sync(
    radicale: Radicale, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What ``wearsync serve --publish-caldav`` runs from the daemon's on_synced callback."""
    target = publish_target(radicale.url, USER, None)
    assert target is not None
    caplog.set_level("INFO", logger="wearsync.serve")
    with Store.open(home / "wearsync.db") as store:
        await publish_after_sync(store, "foot-care", target)
        assert len(radicale.uids()) == 8
        # Yesterday: before the schedule's first day (fixed today by the first publish), so
        # it marks no occurrence done and only its own event is new, whatever the hour.
        store.save_sessions([session(datetime.now(UTC) - timedelta(days=1), key="w/9/9")])
        await publish_after_sync(store, "foot-care", target)
    assert len(radicale.uids()) == 9
    published = [r.getMessage() for r in caplog.records if "published to" in r.getMessage()]
    assert published[-1].endswith("1 created, 0 updated, 0 removed")
    assert PASSWORD not in caplog.text


class _MemoryKeyring(KeyringBackend):
    """A keyring backend holding passwords in memory: the system's (Secret Service, macOS
    Keychain) cannot run here, and this goes through keyring's own backend interface."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.stored: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.stored.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.stored[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.stored.pop((service, username), None)


def test_the_password_from_the_keyring(
    radicale: Radicale, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEARSYNC_CALDAV_PASSWORD")
    previous = keyring.get_keyring()
    memory = _MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        missing = runner.invoke(app, ["feed", "publish", "--caldav", radicale.url, "--user", USER])
        assert missing.exit_code != 0
        assert missing.stderr.startswith("error: --caldav: no password for alice@127.0.0.1")
        memory.set_password("wearsync-caldav", f"{USER}@127.0.0.1", PASSWORD)
        published = publish("--caldav", radicale.url, "--user", USER)
    finally:
        keyring.set_keyring(previous)
    assert published.caldav is not None and len(published.caldav.created) == 8


def test_a_series_and_its_marks_are_one_object_published_once(
    radicale: Radicale, home: Path
) -> None:
    """With marks (overrides sharing their series' UID), each series is one resource holding
    its overrides; a second publish finds every object unchanged, a new mark replaces one."""
    now = datetime.now(UTC)
    today = now.date()
    first = runner.invoke(app, ["feed", "first-day", (today - timedelta(days=6)).isoformat()])
    assert first.exit_code == 0, first.output
    with Store.open(home / "wearsync.db") as store:
        store.remember_device("AA", "watch", "wearsync-timer")
        store.record_push(
            "AA", "01", "foot-care", builtin_text("foot-care"), at=now - timedelta(days=5)
        )
    caldav = ("--caldav", radicale.url, "--user", USER)
    published = publish(*caldav)
    assert published.caldav is not None
    assert radicale.uids() == set(published.caldav.created)
    with DAVClient(url=radicale.url, username=USER, password=PASSWORD, require_tls=False) as c:
        calendar = c.calendar(url=radicale.url)  # type: ignore[no-untyped-call]
        stored = {
            str(o.icalendar_component["UID"]): o.icalendar_instance.walk("VEVENT")
            for o in calendar.events()
        }
    presses = stored[exercise_uid("foot-care", "toe-presses", 1)]
    assert len(presses) > 1 and sum("RECURRENCE-ID" not in e for e in presses) == 1
    assert all(
        str(e["SUMMARY"]).startswith(("✓", "Missed")) for e in presses if "RECURRENCE-ID" in e
    )
    again = publish(*caldav)
    assert again.caldav is not None
    assert (again.caldav.created, again.caldav.updated, again.caldav.deleted) == ([], [], [])
    with Store.open(home / "wearsync.db") as store:
        store.save_sessions(
            [
                session(now - timedelta(days=2, hours=1), key="C0:FF:EE:00:00:01/2/1").model_copy(
                    update={"entry": "toe-presses"}
                )
            ]
        )
    marked = publish(*caldav)
    assert marked.caldav is not None
    # It counts for that day's first toe presses, a mark of the first slot's series.
    assert exercise_uid("foot-care", "toe-presses", 1) in marked.caldav.updated
    assert marked.caldav.created == [session_uid("C0:FF:EE:00:00:01/2/1")]
    assert marked.caldav.deleted == []
