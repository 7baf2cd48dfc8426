"""SQLite persistence behind a small interface.

One database file (WAL mode) holds devices and bonds, the programs pushed to each device (with
the routine text), completion events stored exactly once (keyed by device, boot id and sequence
number), sessions derived from them, and settings. The schema is versioned with SQLite's
``user_version``; :data:`MIGRATIONS` are applied in order inside a transaction, so a database is
always at one whole version.

Every write is one transaction: a process killed mid-write leaves the previous state. Events are
acknowledged to the watch only after :meth:`Store.add_events` has returned (committed).

Every SQLite failure leaves the store as a :class:`StoreError` with a hint, classified by
SQLite's result code (a damaged page, a missing table, a busy or full disk), never by message
text. The store never repairs or re-creates a damaged file: what is stored stays as it was, for
``sqlite3 .recover`` or a backup. An empty answer is double-checked with ``PRAGMA quick_check``,
so a damaged database is never reported as an empty one.

The database and its ``-wal``/``-shm`` files are created 0600 in an 0700 folder (they hold the
feed token and bond data); SQLite gives the ``-wal``/``-shm`` files the database file's mode.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, Final, ParamSpec, Self, TypeVar

from wearsync.errors import WearSyncError
from wearsync.records import (
    DeviceRecord,
    ExerciseOutcome,
    SessionRecord,
    SessionStatus,
    StoredEvent,
    utc_now,
)

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: the first schema.
    """
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE devices (
        address TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        profile TEXT NOT NULL,
        bonded INTEGER NOT NULL DEFAULT 0,
        first_seen TEXT NOT NULL,
        last_sync TEXT
    );
    CREATE TABLE pushes (
        device TEXT NOT NULL REFERENCES devices(address),
        program_hash TEXT NOT NULL,
        routine TEXT NOT NULL,
        routine_text TEXT NOT NULL,
        pushed_at TEXT NOT NULL,
        PRIMARY KEY (device, program_hash)
    );
    CREATE TABLE events (
        device TEXT NOT NULL,
        boot_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        exercise INTEGER NOT NULL,
        set_no INTEGER NOT NULL,
        rep INTEGER NOT NULL,
        side TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        program_hash TEXT NOT NULL,
        step INTEGER NOT NULL,
        direction TEXT NOT NULL,
        time_known INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (device, boot_id, seq)
    ) WITHOUT ROWID;
    CREATE INDEX events_at ON events(at);
    CREATE TABLE sessions (
        key TEXT PRIMARY KEY,
        device TEXT NOT NULL,
        routine TEXT NOT NULL,
        program_hash TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL,
        exercises TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX sessions_started ON sessions(started_at);
    """,
    # 2: every push in time order (the schedule in force at a time is the routine text pushed
    # last before it; ``pushes`` keeps one row per program), and the entry a session ran.
    """
    CREATE TABLE push_log (
        device TEXT NOT NULL,
        program_hash TEXT NOT NULL,
        routine TEXT NOT NULL,
        pushed_at TEXT NOT NULL
    );
    INSERT INTO push_log(device, program_hash, routine, pushed_at)
        SELECT device, program_hash, routine, pushed_at FROM pushes;
    CREATE INDEX push_log_routine ON push_log(routine, pushed_at);
    ALTER TABLE sessions ADD COLUMN entry TEXT NOT NULL DEFAULT 'routine';
    """,
    # 3: the calendar's revision ledger joins the versioned schema. Databases written before
    # this had it from the calendar's own CREATE TABLE IF NOT EXISTS (same columns), so this
    # one is IF NOT EXISTS too and keeps their rows. The calendar's separate settings table
    # merges into ``settings``; where both hold a key, ``settings`` (what the CLI read) wins.
    """
    CREATE TABLE IF NOT EXISTS calendar_events (
        uid TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        sequence INTEGER NOT NULL CHECK (sequence >= 0),
        last_modified TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS calendar_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT OR IGNORE INTO settings(key, value) SELECT key, value FROM calendar_settings;
    DROP TABLE calendar_settings;
    """,
    # 4: calendar UIDs from a safe alphabet (wearsync.calendar.uids). The ledger's entries move
    # to the new UIDs, so each event's SEQUENCE continues instead of restarting at 0 beside a
    # duplicate. wearsync_uid_v2 is registered on the connection (see _uid_v2).
    """
    UPDATE OR IGNORE calendar_events SET uid = wearsync_uid_v2(uid)
    WHERE uid LIKE '%@wearsync.invalid';
    """,
    # 5: the entry an event belongs to (docs/protocol.md §9.1, feature ENTRIES), for events of
    # an entry other than the whole routine. A table of its own rather than a column, so the
    # migration is idempotent, as 3 is (a database re-run from an older version keeps working).
    """
    CREATE TABLE IF NOT EXISTS event_entries (
        device TEXT NOT NULL,
        boot_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        entry TEXT NOT NULL,
        PRIMARY KEY (device, boot_id, seq)
    ) WITHOUT ROWID;
    """,
)

# SQLite builds before 3.32 allow 999 bound parameters per statement; stay below that.
_CHUNK = 900


#: The tables the migrations create; a missing one means the file was damaged or edited.
TABLES: Final = (
    "settings",
    "devices",
    "pushes",
    "events",
    "sessions",
    "push_log",
    "calendar_events",
)

# Primary SQLite result codes (https://sqlite.org/rescode.html); extended codes keep them in
# their low byte.
_SQLITE_ERROR: Final = 1
_SQLITE_BUSY: Final = 5
_SQLITE_LOCKED: Final = 6
_SQLITE_READONLY: Final = 8
_SQLITE_IOERR: Final = 10
_SQLITE_CORRUPT: Final = 11
_SQLITE_FULL: Final = 13
_SQLITE_CANTOPEN: Final = 14
_SQLITE_NOTADB: Final = 26

_BUSY_TIMEOUT_S: Final = 10.0

P = ParamSpec("P")
R = TypeVar("R")


class StoreError(WearSyncError):
    """The database cannot be opened, is from a newer wearsync, or is damaged."""


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Turn any SQLite error (or an undecodable row) of a :class:`Store` method into StoreError."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store = args[0]
        assert isinstance(store, Store)
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise store.wrap(exc) from exc

    return wrapper


class Store:
    """The wearsync database. Use as a context manager, or call :meth:`close`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path | None = None) -> Self:
        """Open (creating if needed) the database at ``path`` (default: the data directory).

        Raises:
            StoreError: the file cannot be opened or was written by a newer wearsync.
        """
        from wearsync.paths import db_path, private_dir, private_file, tighten

        if path is None:
            path = db_path()
        try:
            private_dir(path.parent)
            private_file(path)
            for extra in ("-wal", "-shm"):
                tighten(path.with_name(path.name + extra))
            conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"{path}: cannot open the database ({exc})",
                hint="check the path and its permissions, or set WEARSYNC_HOME",
            ) from exc
        conn.create_function("wearsync_uid_v2", 1, _uid_v2, deterministic=True)
        store = cls(conn, path)
        try:
            store._configure()
            store._migrate()
        except BaseException:
            conn.close()
            raise
        return store

    @_guarded
    def _configure(self) -> None:
        # WAL is a property of the file: set it once. Switching needs an exclusive lock the busy
        # handler does not always wait for (several processes opening a fresh folder at once),
        # so a busy answer is retried until the same deadline.
        deadline = time.monotonic() + _BUSY_TIMEOUT_S
        while True:
            try:
                mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    self.conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if _code(exc) not in (_SQLITE_BUSY, _SQLITE_LOCKED):
                    raise
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back on any error.

        Raises:
            StoreError: the transaction cannot begin or commit.
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.wrap(exc) from exc
        try:
            yield self.conn
        except BaseException:
            # On a damaged file SQLite may have rolled back already; the first error is the one
            # worth reporting.
            if self.conn.in_transaction:
                with suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                with suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise self.wrap(exc) from exc

    @property
    def schema_version(self) -> int:
        """The database's schema version (SQLite ``user_version``)."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def wrap(self, exc: sqlite3.Error) -> StoreError:
        """The :class:`StoreError` (message and hint) for a SQLite error on this database."""
        code = _code(exc)
        where = str(self.path)
        if code == _SQLITE_NOTADB:
            return self._damaged(f"not a wearsync database, or damaged beyond reading ({exc})")
        if code == _SQLITE_CORRUPT:
            return self._damaged(f"the database is damaged ({exc})")
        if code == _SQLITE_ERROR:
            missing = self._missing_tables()
            if missing:
                return self._damaged(f"the database is damaged: table {missing[0]} is missing")
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return StoreError(
                f"{where}: the database is busy ({exc})",
                hint="another wearsync process is writing to it; try again when it has finished",
            )
        if code == _SQLITE_FULL:
            return StoreError(f"{where}: the disk is full ({exc})", hint="free some space")
        if code in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_IOERR):
            return StoreError(
                f"{where}: cannot read or write the database ({exc})",
                hint="check the disk, the file's permissions, or set WEARSYNC_HOME",
            )
        return StoreError(f"{where}: database error ({exc})")

    def _damaged(self, problem: str) -> StoreError:
        return StoreError(
            f"{self.path}: {problem}",
            hint=(
                f"wearsync changed nothing in it; copy it aside, then recover what is left with "
                f"'sqlite3 {self.path} .recover' or restore a backup"
            ),
        )

    def _missing_tables(self) -> list[str]:
        try:
            rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            present = {str(r[0]) for r in rows}
        except sqlite3.Error:
            return []
        return [t for t in TABLES if t not in present]

    def _not_empty_by_damage(self) -> None:
        """Raise if the database is damaged: an empty answer must mean nothing is stored."""
        try:
            verdict = self.conn.execute("PRAGMA quick_check(1)").fetchone()
        except sqlite3.Error as exc:
            raise self.wrap(exc) from exc
        if verdict is None or verdict[0] != "ok":
            detail = " ".join(str(verdict[0] if verdict else "no answer").split())
            raise self._damaged(f"the database is damaged ({detail})")

    def _decoded(self, rows: list[Any], convert: Callable[[Any], R]) -> list[R]:
        """Records from ``rows``; an empty answer is checked, an unreadable row is damage."""
        if not rows:
            self._not_empty_by_damage()
        try:
            return [convert(r) for r in rows]
        except (ValueError, TypeError, KeyError) as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise self._damaged(
                f"the database is damaged: a stored row cannot be read ({first})"
            ) from exc

    def _migrate(self) -> None:
        try:
            version = self.schema_version
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a wearsync database ({exc})") from exc
        self._check_known(version)
        if version == len(MIGRATIONS):
            return
        try:
            # The version is read again inside the write transaction: another process opening
            # the same fresh folder may have migrated between the read above and BEGIN
            # IMMEDIATE, and running a migration twice fails ("table settings already exists").
            with self.transaction() as conn:
                version = self.schema_version
                self._check_known(version)
                for number in range(version, len(MIGRATIONS)):
                    for statement in MIGRATIONS[number].split(";"):
                        if statement.strip():
                            conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        except sqlite3.Error as exc:
            raise self.wrap(exc) from exc

    def _check_known(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this wearsync "
                f"understands ({len(MIGRATIONS)})",
                hint="upgrade wearsync",
            )

    # settings ---------------------------------------------------------------------------------

    @_guarded
    def get_setting(self, key: str) -> str | None:
        """The value of setting ``key``, or None."""
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        if row is None:
            # The feed token is a setting: a damaged page must not read as "no token yet".
            self._not_empty_by_damage()
            return None
        return str(row[0])

    @_guarded
    def set_setting(self, key: str, value: str) -> None:
        """Set setting ``key`` to ``value``."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def restrict_to_owner(self) -> None:
        """Make the database readable by its owner only (mode 0600): it holds the feed token.

        SQLite gives the WAL and shared-memory files the database file's mode when it creates
        them; existing ones are changed too.
        """
        for suffix in ("", "-wal", "-shm"):
            target = self.path.with_name(self.path.name + suffix)
            try:
                target.chmod(0o600)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StoreError(
                    f"{target}: cannot make it private ({exc.strerror or exc})",
                    hint="check who owns the data directory",
                ) from exc

    # calendar ---------------------------------------------------------------------------------

    def calendar_ledger(self) -> CalendarLedger:
        """The calendar's revision ledger (``wearsync.calendar.ports.EventLedger``) in this
        database."""
        return CalendarLedger(self.conn)

    # devices ----------------------------------------------------------------------------------

    @_guarded
    def remember_device(self, address: str, name: str, profile: str) -> DeviceRecord:
        """Add a device, or update its name and profile; returns the stored record."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO devices(address, name, profile, first_seen) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(address) DO UPDATE SET name = excluded.name, "
                "profile = excluded.profile",
                (address, name, profile, _iso(utc_now())),
            )
        device = self.device(address)
        assert device is not None
        return device

    @_guarded
    def mark_synced(self, address: str, *, bonded: bool) -> None:
        """Record a completed sync (and whether the link is bonded) for ``address``."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE devices SET last_sync = ?, bonded = ? WHERE address = ?",
                (_iso(utc_now()), int(bonded), address),
            )

    @_guarded
    def device(self, address_or_name: str) -> DeviceRecord | None:
        """The device with this address (or, failing that, this name), or None."""
        row = self.conn.execute(
            "SELECT address, name, profile, bonded, last_sync FROM devices "
            "WHERE address = ? OR name = ? ORDER BY address = ? DESC, last_sync DESC LIMIT 1",
            (address_or_name, address_or_name, address_or_name),
        ).fetchone()
        if row is None:
            self._not_empty_by_damage()
            return None
        return _device(row)

    @_guarded
    def devices(self) -> list[DeviceRecord]:
        """Every remembered device, most recently synced first."""
        rows = self.conn.execute(
            "SELECT address, name, profile, bonded, last_sync FROM devices "
            "ORDER BY last_sync IS NULL, last_sync DESC"
        ).fetchall()
        return self._decoded(rows, _device)

    # programs ---------------------------------------------------------------------------------

    @_guarded
    def record_push(
        self,
        device: str,
        program_hash: str,
        routine: str,
        routine_text: str,
        *,
        at: datetime | None = None,
    ) -> None:
        """Remember that ``program_hash`` (compiled from ``routine_text``) is on ``device``.

        The push is also logged, unless it is the program the device had last (a re-push of
        the same program changes nothing that was planned). ``at`` is when (default: now).
        """
        when = _iso(utc_now() if at is None else at)
        with self.transaction() as conn:
            last = conn.execute(
                "SELECT program_hash FROM push_log WHERE device = ? "
                "ORDER BY pushed_at DESC, rowid DESC LIMIT 1",
                (device,),
            ).fetchone()
            if last is None or last[0] != program_hash:
                conn.execute(
                    "INSERT INTO push_log(device, program_hash, routine, pushed_at) "
                    "VALUES (?, ?, ?, ?)",
                    (device, program_hash, routine, when),
                )
            conn.execute(
                "INSERT INTO pushes(device, program_hash, routine, routine_text, pushed_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(device, program_hash) DO UPDATE SET "
                "pushed_at = excluded.pushed_at",
                (device, program_hash, routine, routine_text, when),
            )

    @_guarded
    def pushed_routine(self, program_hash: str) -> tuple[str, str] | None:
        """``(routine name, routine text)`` of a pushed program, or None if never pushed."""
        row = self.conn.execute(
            "SELECT routine, routine_text FROM pushes WHERE program_hash = ? "
            "ORDER BY pushed_at DESC LIMIT 1",
            (program_hash,),
        ).fetchone()
        if row is None:
            self._not_empty_by_damage()
            return None
        return str(row[0]), str(row[1])

    @_guarded
    def routine_pushes(self, routine: str) -> list[tuple[datetime, str]]:
        """``(pushed at, routine text)`` of every logged push of ``routine``, oldest first."""
        rows = self.conn.execute(
            "SELECT l.pushed_at, p.routine_text FROM push_log AS l JOIN pushes AS p "
            "ON p.device = l.device AND p.program_hash = l.program_hash "
            "WHERE l.routine = ? ORDER BY l.pushed_at, l.rowid",
            (routine,),
        ).fetchall()
        return [(datetime.fromisoformat(r[0]), str(r[1])) for r in rows]

    # events -----------------------------------------------------------------------------------

    @_guarded
    def add_events(self, events: Iterable[StoredEvent]) -> int:
        """Store events exactly once, in one transaction; returns how many were new."""
        events = list(events)  # read twice below: the rows, then the entries
        received = _iso(utc_now())
        rows = [
            (
                e.device,
                e.boot_id,
                e.seq,
                _iso(e.at),
                e.kind,
                e.exercise,
                e.set,
                e.rep,
                e.side,
                e.duration_ms,
                e.program_hash,
                e.step,
                e.direction,
                int(e.time_known),
                received,
            )
            for e in events
        ]
        entries = [(e.device, e.boot_id, e.seq, e.entry) for e in events if e.entry != "routine"]
        with self.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO events(device, boot_id, seq, at, kind, exercise, set_no, "
                "rep, side, duration_ms, program_hash, step, direction, time_known, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            new = conn.total_changes - before
            conn.executemany(
                "INSERT OR IGNORE INTO event_entries(device, boot_id, seq, entry) "
                "VALUES (?, ?, ?, ?)",
                entries,
            )
            return new

    @_guarded
    def events(self, device: str | None = None) -> list[StoredEvent]:
        """Stored events in (device, boot id, seq) order, optionally of one device."""
        query = (
            "SELECT e.device, e.boot_id, e.seq, e.at, e.kind, e.exercise, e.set_no, e.rep, "
            "e.side, e.duration_ms, e.program_hash, e.step, e.direction, e.time_known, "
            "COALESCE(x.entry, 'routine') FROM events AS e LEFT JOIN event_entries AS x "
            "ON x.device = e.device AND x.boot_id = e.boot_id AND x.seq = e.seq"
        )
        args: tuple[str, ...] = ()
        if device is not None:
            query += " WHERE e.device = ?"
            args = (device,)
        rows = self.conn.execute(query + " ORDER BY e.device, e.boot_id, e.seq", args).fetchall()
        return self._decoded(rows, _event)

    @_guarded
    def has_event(self, device: str, boot_id: int, seq: int) -> bool:
        """Whether this event is already stored."""
        row = self.conn.execute(
            "SELECT 1 FROM events WHERE device = ? AND boot_id = ? AND seq = ?",
            (device, boot_id, seq),
        ).fetchone()
        return row is not None

    # sessions ---------------------------------------------------------------------------------

    @_guarded
    def save_sessions(
        self, sessions: Iterable[SessionRecord], *, derived_for: str | None = None
    ) -> None:
        """Insert or replace derived sessions by key, in one transaction.

        Args:
            sessions: the sessions to save.
            derived_for: the device whose sessions these are, all of them, derived from all its
                stored events: its other stored sessions were derived by an older rule and are
                removed in the same transaction (sessions are derived data; no event is
                touched).
        """
        sessions = list(sessions)
        rows = [
            (
                s.key,
                s.device,
                s.routine,
                s.program_hash,
                _iso(s.started_at),
                None if s.ended_at is None else _iso(s.ended_at),
                s.status.value,
                json.dumps([o.model_dump(mode="json") for o in s.exercises]),
                _iso(s.updated_at),
                s.entry,
            )
            for s in sessions
        ]
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO sessions(key, device, routine, program_hash, started_at, ended_at, "
                "status, exercises, updated_at, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET ended_at = excluded.ended_at, "
                "status = excluded.status, exercises = excluded.exercises, "
                "updated_at = excluded.updated_at, routine = excluded.routine, "
                "program_hash = excluded.program_hash, entry = excluded.entry "
                "WHERE sessions.exercises != excluded.exercises "
                "OR sessions.status != excluded.status "
                "OR sessions.ended_at IS NOT excluded.ended_at "
                "OR sessions.entry != excluded.entry",
                rows,
            )
            if derived_for is not None:
                keep = {r[0] for r in rows}
                stale = [
                    (key,)
                    for (key,) in conn.execute(
                        "SELECT key FROM sessions WHERE device = ?", (derived_for,)
                    )
                    if key not in keep
                ]
                conn.executemany("DELETE FROM sessions WHERE key = ?", stale)

    @_guarded
    def sessions(self, since: datetime | None = None) -> list[SessionRecord]:
        """Stored sessions in start order, optionally only those started at or after ``since``."""
        query = (
            "SELECT key, device, routine, program_hash, started_at, ended_at, status, exercises, "
            "updated_at, entry FROM sessions"
        )
        args: tuple[str, ...] = ()
        if since is not None:
            query += " WHERE started_at >= ?"
            args = (_iso(since),)
        rows = self.conn.execute(query + " ORDER BY started_at, key", args).fetchall()
        return self._decoded(rows, _session)


def _code(exc: sqlite3.Error) -> int:
    """The primary SQLite result code of ``exc`` (0 when the driver gives none)."""
    return int(getattr(exc, "sqlite_errorcode", 0)) & 0xFF


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What was last published under one calendar UID (``wearsync.calendar.ports`` re-exports
    it).

    Attributes:
        uid: the event's UID.
        fingerprint: a digest of the event's published content.
        sequence: its SEQUENCE.
        last_modified: its LAST-MODIFIED (aware, UTC).
    """

    uid: str
    fingerprint: str
    sequence: int
    last_modified: datetime


class CalendarLedger:
    """The table ``calendar_events``: per UID, the fingerprint, SEQUENCE and LAST-MODIFIED last
    published. Satisfies ``wearsync.calendar.ports.EventLedger``.

    Writes run in a SAVEPOINT, which opens a transaction when none is open and nests inside
    :meth:`Store.transaction` when one is.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

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
        """Insert or replace ``entries``, all or none."""
        rows = [
            (e.uid, e.fingerprint, e.sequence, e.last_modified.astimezone(UTC).isoformat())
            for e in entries
        ]
        if not rows:
            return
        self._conn.execute("SAVEPOINT calendar_ledger_put")
        try:
            self._conn.executemany(
                "INSERT INTO calendar_events(uid, fingerprint, sequence, last_modified) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(uid) DO UPDATE SET "
                "fingerprint = excluded.fingerprint, sequence = excluded.sequence, "
                "last_modified = excluded.last_modified",
                rows,
            )
        except BaseException:
            self._conn.execute("ROLLBACK TO calendar_ledger_put")
            self._conn.execute("RELEASE calendar_ledger_put")
            raise
        self._conn.execute("RELEASE calendar_ledger_put")


def _uid_v2(old: str) -> str:
    """The UID (``wearsync.calendar.uids``, frozen) that replaced a first-scheme calendar UID
    (``routine.<r>.<slot>@wearsync.invalid``, ``exercise.<r>.<e>.<slot>@...``,
    ``session.<key>@...``, ``summary.<r>.<period>@...``, ``calendar.<r>.<view>.<history>@...``);
    anything else unchanged. A copy, not an import: a migration must keep doing what it did
    when it was written, and the store does not depend on the calendar."""
    local, at, domain = old.rpartition("@")
    kind, _, rest = local.partition(".")
    if not at or domain != "wearsync.invalid":
        return old
    parts = [rest] if kind == "session" else rest.split(".")
    arity = {"routine": 2, "exercise": 3, "session": 1, "summary": 2, "calendar": 3}
    if arity.get(kind) != len(parts) or not all(parts):
        return old
    digest = hashlib.sha256("\x1f".join((kind, *parts)).encode()).hexdigest()[:10]
    readable = "-".join(re.sub(r"[^A-Za-z0-9]+", "-", p).strip("-") or "x" for p in (kind, *parts))
    return f"{readable}-{digest}@{domain}"


def _iso(moment: datetime) -> str:
    """UTC ISO-8601 text that sorts in time order (always with microseconds and +00:00)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _device(row: tuple[object, ...]) -> DeviceRecord:
    return DeviceRecord(
        address=str(row[0]),
        name=str(row[1]),
        profile=str(row[2]),
        bonded=bool(row[3]),
        last_sync=None if row[4] is None else datetime.fromisoformat(str(row[4])),
    )


def _event(r: tuple[Any, ...]) -> StoredEvent:
    return StoredEvent(
        device=r[0],
        boot_id=r[1],
        seq=r[2],
        at=datetime.fromisoformat(r[3]),
        kind=r[4],
        exercise=r[5],
        set=r[6],
        rep=r[7],
        side=r[8],
        duration_ms=r[9],
        program_hash=r[10],
        step=r[11],
        direction=r[12],
        time_known=bool(r[13]),
        entry=r[14],
    )


def _session(r: tuple[Any, ...]) -> SessionRecord:
    return SessionRecord(
        key=r[0],
        device=r[1],
        routine=r[2],
        program_hash=r[3],
        started_at=datetime.fromisoformat(r[4]),
        ended_at=None if r[5] is None else datetime.fromisoformat(r[5]),
        status=SessionStatus(r[6]),
        exercises=tuple(ExerciseOutcome.model_validate(o) for o in json.loads(r[7])),
        updated_at=datetime.fromisoformat(r[8]),
        entry=r[9],
    )
