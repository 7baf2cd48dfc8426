"""The revision ledger, the settings table and the feed token, on real SQLite files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from wearsync.calendar.ledger import SqliteEventLedger, SqliteSettings, revise
from wearsync.calendar.ports import LedgerEntry
from wearsync.calendar.tokens import (
    TOKEN_KEY,
    FeedTokens,
    schedule_start,
    set_schedule_start,
)
from wearsync.store import Store

T0 = datetime(2026, 1, 5, 9, 30, 15, 123456, tzinfo=UTC)


def test_new_unchanged_and_changed_events(tmp_path: Path) -> None:
    ledger = SqliteEventLedger(sqlite3.connect(tmp_path / "a.db"))
    first = revise(ledger, {"a": "f1", "b": "g1"}, T0)
    assert first["a"] == LedgerEntry("a", "f1", 0, T0.replace(microsecond=0))
    later = T0 + timedelta(hours=1)
    second = revise(ledger, {"a": "f1", "b": "g2"}, later)
    assert second["a"] == first["a"]  # unchanged: same sequence and time
    assert second["b"].sequence == 1
    assert second["b"].last_modified == later.replace(microsecond=0)


def test_last_modified_moves_forward_even_within_one_second(tmp_path: Path) -> None:
    ledger = SqliteEventLedger(sqlite3.connect(tmp_path / "a.db"))
    stamps = [revise(ledger, {"a": f"v{i}"}, T0)["a"] for i in range(4)]
    assert [s.sequence for s in stamps] == [0, 1, 2, 3]
    assert [s.last_modified - stamps[0].last_modified for s in stamps] == [
        timedelta(seconds=n) for n in range(4)
    ]


def test_entries_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    conn = sqlite3.connect(path)
    revise(SqliteEventLedger(conn), {"a": "f1"}, T0)
    revise(SqliteEventLedger(conn), {"a": "f2"}, T0 + timedelta(days=1))
    conn.close()
    again = SqliteEventLedger(sqlite3.connect(path))
    assert again.get_many(["a", "missing"]) == {
        "a": LedgerEntry("a", "f2", 1, (T0 + timedelta(days=1)).replace(microsecond=0))
    }


def test_bulk_lookups_past_sqlite_parameter_limits(tmp_path: Path) -> None:
    ledger = SqliteEventLedger(sqlite3.connect(tmp_path / "a.db"))
    uids = {f"session.{i}@x": f"fp{i}" for i in range(2500)}
    revise(ledger, uids, T0)
    found = ledger.get_many(uids)
    assert len(found) == 2500
    assert found["session.2499@x"].fingerprint == "fp2499"


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.db")
    ledger = SqliteEventLedger(conn)
    good = LedgerEntry("a", "f", 0, T0)
    bad = LedgerEntry("b", "f", -1, T0)  # violates CHECK (sequence >= 0)
    with pytest.raises(sqlite3.IntegrityError):
        ledger.put_many([good, bad])
    assert ledger.get_many(["a", "b"]) == {}
    assert not conn.in_transaction


def test_settings_and_tokens(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    tokens = FeedTokens(SqliteSettings(sqlite3.connect(path)))
    assert tokens.peek() is None
    assert not tokens.matches("A" * 32)  # no token yet: nothing matches
    token = tokens.current()
    assert len(token) >= 22  # >= 128 bits in URL-safe base64
    assert tokens.current() == token
    assert tokens.matches(token)
    for wrong in ("", token[:-1], token + "A", token.upper(), "../" + token, token[:-1] + "%"):
        assert not tokens.matches(wrong)
    reopened = FeedTokens(SqliteSettings(sqlite3.connect(path)))
    assert reopened.current() == token
    new = reopened.rotate()
    assert new != token and reopened.matches(new) and not reopened.matches(token)


def test_schedule_start_is_fixed_on_first_use(tmp_path: Path) -> None:
    settings = SqliteSettings(sqlite3.connect(tmp_path / "a.db"))
    assert schedule_start(settings, "foot-care", date(2026, 1, 5)) == date(2026, 1, 5)
    assert schedule_start(settings, "foot-care", date(2026, 3, 1)) == date(2026, 1, 5)
    assert schedule_start(settings, "other", date(2026, 3, 1)) == date(2026, 3, 1)
    set_schedule_start(settings, "foot-care", date(2025, 12, 31))
    assert schedule_start(settings, "foot-care", date(2026, 3, 1)) == date(2025, 12, 31)


def test_works_on_the_stores_connection_and_settings(tmp_path: Path) -> None:
    """What the lead wires: the ledger on Store.conn, the token in the store's settings."""
    path = tmp_path / "wearsync.db"
    with Store.open(path) as store:
        ledger = SqliteEventLedger(store.conn)
        revise(ledger, {"a": "f1"}, T0)
        token = FeedTokens(store).current()
        assert store.get_setting(TOKEN_KEY) == token
    with Store.open(path) as store:
        assert SqliteEventLedger(store.conn).get_many(["a"])["a"].fingerprint == "f1"
        assert FeedTokens(store).matches(token)
        # The ledger's writes nest inside a store transaction and commit with it.
        with store.transaction():
            revise(SqliteEventLedger(store.conn), {"b": "g1"}, T0)
    with Store.open(path) as store:
        assert set(SqliteEventLedger(store.conn).get_many(["a", "b"])) == {"a", "b"}
