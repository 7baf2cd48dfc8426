"""The revision ledger, the settings and the feed token, in a real Store on a tmp SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from wearsync.calendar.ledger import revise
from wearsync.calendar.ports import LedgerEntry
from wearsync.calendar.tokens import (
    TOKEN_KEY,
    FeedTokens,
    schedule_start,
    set_schedule_start,
)
from wearsync.store import Store

T0 = datetime(2026, 1, 5, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "wearsync.db") as opened:
        yield opened


def test_new_unchanged_and_changed_events(store: Store) -> None:
    ledger = store.calendar_ledger()
    first = revise(ledger, {"a": "f1", "b": "g1"}, T0)
    assert first["a"] == LedgerEntry("a", "f1", 0, T0.replace(microsecond=0))
    later = T0 + timedelta(hours=1)
    second = revise(ledger, {"a": "f1", "b": "g2"}, later)
    assert second["a"] == first["a"]  # unchanged: same sequence and time
    assert second["b"].sequence == 1
    assert second["b"].last_modified == later.replace(microsecond=0)


def test_last_modified_moves_forward_even_within_one_second(store: Store) -> None:
    ledger = store.calendar_ledger()
    stamps = [revise(ledger, {"a": f"v{i}"}, T0)["a"] for i in range(4)]
    assert [s.sequence for s in stamps] == [0, 1, 2, 3]
    assert [s.last_modified - stamps[0].last_modified for s in stamps] == [
        timedelta(seconds=n) for n in range(4)
    ]


def test_entries_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Store.open(path) as store:
        revise(store.calendar_ledger(), {"a": "f1"}, T0)
        revise(store.calendar_ledger(), {"a": "f2"}, T0 + timedelta(days=1))
    with Store.open(path) as store:
        again = store.calendar_ledger().get_many(["a", "missing"])
    assert again == {
        "a": LedgerEntry("a", "f2", 1, (T0 + timedelta(days=1)).replace(microsecond=0))
    }


def test_bulk_lookups_past_sqlite_parameter_limits(store: Store) -> None:
    ledger = store.calendar_ledger()
    uids = {f"session.{i}@x": f"fp{i}" for i in range(2500)}
    revise(ledger, uids, T0)
    found = ledger.get_many(uids)
    assert len(found) == 2500
    assert found["session.2499@x"].fingerprint == "fp2499"


def test_a_failed_write_leaves_nothing_behind(store: Store) -> None:
    conn = store.conn
    ledger = store.calendar_ledger()
    good = LedgerEntry("a", "f", 0, T0)
    bad = LedgerEntry("b", "f", -1, T0)  # violates CHECK (sequence >= 0)
    with pytest.raises(sqlite3.IntegrityError):
        ledger.put_many([good, bad])
    assert ledger.get_many(["a", "b"]) == {}
    assert not conn.in_transaction


def test_settings_and_tokens(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    first = Store.open(path)
    tokens = FeedTokens(first)
    assert tokens.peek() is None
    assert not tokens.matches("A" * 32)  # no token yet: nothing matches
    token = tokens.current()
    assert len(token) >= 22  # >= 128 bits in URL-safe base64
    assert tokens.current() == token
    assert tokens.matches(token)
    for wrong in ("", token[:-1], token + "A", token.upper(), "../" + token, token[:-1] + "%"):
        assert not tokens.matches(wrong)
    first.close()
    second = Store.open(path)
    reopened = FeedTokens(second)
    assert reopened.current() == token
    new = reopened.rotate()
    assert new != token and reopened.matches(new) and not reopened.matches(token)
    second.close()


def test_schedule_start_is_fixed_on_first_use(store: Store) -> None:
    settings = store
    assert schedule_start(settings, "foot-care", date(2026, 1, 5)) == date(2026, 1, 5)
    assert schedule_start(settings, "foot-care", date(2026, 3, 1)) == date(2026, 1, 5)
    assert schedule_start(settings, "other", date(2026, 3, 1)) == date(2026, 3, 1)
    set_schedule_start(settings, "foot-care", date(2025, 12, 31))
    assert schedule_start(settings, "foot-care", date(2026, 3, 1)) == date(2025, 12, 31)


def test_works_on_the_stores_connection_and_settings(tmp_path: Path) -> None:
    """What the lead wires: the ledger on Store.conn, the token in the store's settings."""
    path = tmp_path / "wearsync.db"
    with Store.open(path) as store:
        ledger = store.calendar_ledger()
        revise(ledger, {"a": "f1"}, T0)
        token = FeedTokens(store).current()
        assert store.get_setting(TOKEN_KEY) == token
    with Store.open(path) as store:
        assert store.calendar_ledger().get_many(["a"])["a"].fingerprint == "f1"
        assert FeedTokens(store).matches(token)
        # The ledger's writes nest inside a store transaction and commit with it.
        with store.transaction():
            revise(store.calendar_ledger(), {"b": "g1"}, T0)
    with Store.open(path) as store:
        assert set(store.calendar_ledger().get_many(["a", "b"])) == {"a", "b"}


def _version_1_database(path: Path) -> None:
    """A database as wearsync wrote it before migration 2: schema version 1, with the tables
    the calendar used to create for itself beside the store's."""
    with Store.open(path) as store:
        store.conn.execute("PRAGMA user_version = 1")
        store.conn.execute("DROP TABLE calendar_events")
        # What migration 2 (the push log, a session's entry) added is not there either.
        store.conn.execute("DROP TABLE push_log")
        store.conn.execute("ALTER TABLE sessions DROP COLUMN entry")
        store.set_setting("calendar.feed_token", "T" * 32)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "CREATE TABLE calendar_events (uid TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, "
            "sequence INTEGER NOT NULL CHECK (sequence >= 0), last_modified TEXT NOT NULL) "
            "WITHOUT ROWID"
        )
        conn.execute(
            "INSERT INTO calendar_events VALUES ('a', 'f1', 3, '2026-01-05T09:30:15+00:00')"
        )
        conn.execute("CREATE TABLE calendar_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.executemany(
            "INSERT INTO calendar_settings VALUES (?, ?)",
            [("calendar.start.foot-care", "2025-02-14"), ("calendar.feed_token", "U" * 32)],
        )
    conn.close()


def test_migration_keeps_the_ledger_and_moves_calendar_settings(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _version_1_database(path)
    with Store.open(path) as store:
        assert store.schema_version >= 2
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
        assert "calendar_settings" not in tables
        entry = store.calendar_ledger().get_many(["a"])["a"]
        assert (entry.fingerprint, entry.sequence) == ("f1", 3)
        assert store.get_setting("calendar.start.foot-care") == "2025-02-14"
        # The store's own value wins where both had the key: it is what the CLI published.
        assert store.get_setting("calendar.feed_token") == "T" * 32
        assert revise(store.calendar_ledger(), {"a": "f2"}, T0)["a"].sequence == 4


def test_a_new_database_has_the_ledger_table_from_the_migrations(tmp_path: Path) -> None:
    with Store.open(tmp_path / "new.db") as store:
        columns = [r[1] for r in store.conn.execute("PRAGMA table_info(calendar_events)")]
        assert columns == ["uid", "fingerprint", "sequence", "last_modified"]
