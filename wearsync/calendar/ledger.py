"""The revision ledger and the settings store over SQLite, and the rule that bumps SEQUENCE.

Both classes take an open ``sqlite3.Connection`` (the store's, or one of their own) and create
their table if it is missing. They work whatever the connection's transaction mode: every write
runs inside a SAVEPOINT, which opens a transaction when none is open and nests inside one that
is (``Store.transaction`` or Python's implicit transactions alike).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import islice

from wearsync.calendar.ports import EventLedger, LedgerEntry

# SQLite builds before 3.32 allow 999 bound parameters per statement; stay below that.
_CHUNK = 900

_EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS calendar_events (
    uid TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    sequence INTEGER NOT NULL CHECK (sequence >= 0),
    last_modified TEXT NOT NULL
) WITHOUT ROWID
"""

_SETTINGS_DDL = """
CREATE TABLE IF NOT EXISTS calendar_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID
"""


@contextmanager
def savepoint(conn: sqlite3.Connection, name: str) -> Iterator[sqlite3.Connection]:
    """Run a block atomically: committed (or merged into the enclosing transaction) at the end,
    rolled back on any error."""
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield conn
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


class SqliteEventLedger:
    """:class:`~wearsync.calendar.ports.EventLedger` in the table ``calendar_events``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        with savepoint(conn, "calendar_ledger_setup"):
            conn.execute(_EVENTS_DDL)

    def get_many(self, uids: Iterable[str]) -> dict[str, LedgerEntry]:
        """The stored entries for those of ``uids`` that have one."""
        found: dict[str, LedgerEntry] = {}
        it = iter(uids)
        while chunk := list(islice(it, _CHUNK)):
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                "SELECT uid, fingerprint, sequence, last_modified FROM calendar_events "
                f"WHERE uid IN ({marks})",
                chunk,
            )
            for uid, fingerprint, sequence, last_modified in rows:
                found[uid] = LedgerEntry(
                    uid, fingerprint, int(sequence), datetime.fromisoformat(last_modified)
                )
        return found

    def put_many(self, entries: Iterable[LedgerEntry]) -> None:
        """Insert or replace ``entries`` in one transaction."""
        rows = [
            (e.uid, e.fingerprint, e.sequence, e.last_modified.astimezone(UTC).isoformat())
            for e in entries
        ]
        if not rows:
            return
        with savepoint(self._conn, "calendar_ledger_put"):
            self._conn.executemany(
                "INSERT INTO calendar_events(uid, fingerprint, sequence, last_modified) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(uid) DO UPDATE SET "
                "fingerprint = excluded.fingerprint, sequence = excluded.sequence, "
                "last_modified = excluded.last_modified",
                rows,
            )


class SqliteSettings:
    """:class:`~wearsync.calendar.ports.Settings` in the table ``calendar_settings``.

    For use until the calendar is wired to the store's own ``settings`` table, and in tests.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        with savepoint(conn, "calendar_settings_setup"):
            conn.execute(_SETTINGS_DDL)

    def get_setting(self, key: str) -> str | None:
        """The value of ``key``, or None."""
        row = self._conn.execute(
            "SELECT value FROM calendar_settings WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        """Set ``key`` to ``value``."""
        with savepoint(self._conn, "calendar_settings_put"):
            self._conn.execute(
                "INSERT INTO calendar_settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def whole_seconds(moment: datetime) -> datetime:
    """``moment`` in UTC, truncated to the second (iCalendar's precision)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def revise(
    ledger: EventLedger, fingerprints: Mapping[str, str], now: datetime
) -> dict[str, LedgerEntry]:
    """Bring the ledger up to date with the events about to be published.

    A UID seen for the first time gets SEQUENCE 0 and LAST-MODIFIED ``now``. A UID whose
    fingerprint changed gets SEQUENCE + 1 and a LAST-MODIFIED at least one second after the
    previous one: iCalendar times have whole seconds, and a client compares the published
    values, so two edits within one second must still move it forward. Unchanged UIDs keep
    their entry. UIDs no longer published keep theirs too, so an event that comes back
    continues its sequence rather than restarting at 0.

    Args:
        ledger: where the entries live.
        fingerprints: UID -> fingerprint of every event to publish.
        now: the current time (aware).

    Returns:
        UID -> the entry to publish, for every UID in ``fingerprints``.
    """
    stamp = whole_seconds(now)
    known = ledger.get_many(fingerprints)
    result: dict[str, LedgerEntry] = {}
    changed: list[LedgerEntry] = []
    for uid, fingerprint in fingerprints.items():
        old = known.get(uid)
        if old is not None and old.fingerprint == fingerprint:
            result[uid] = old
            continue
        if old is None:
            entry = LedgerEntry(uid, fingerprint, 0, stamp)
        else:
            moved = max(stamp, whole_seconds(old.last_modified) + timedelta(seconds=1))
            entry = LedgerEntry(uid, fingerprint, old.sequence + 1, moved)
        result[uid] = entry
        changed.append(entry)
    ledger.put_many(changed)
    return result
