"""The SQLite store, on a real database file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wearsync.records import (
    ExerciseOutcome,
    ExerciseStatus,
    SessionRecord,
    SessionStatus,
    StoredEvent,
)
from wearsync.store import MIGRATIONS, Store, StoreError

T0 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def event(seq: int, boot: int = 7, device: str = "AA:BB") -> StoredEvent:
    return StoredEvent(
        device=device,
        boot_id=boot,
        seq=seq,
        at=T0 + timedelta(seconds=seq),
        kind="step_started",
        exercise=0,
        set=1,
        rep=seq,
        side="both",
        duration_ms=1000,
        program_hash="ab" * 8,
    )


def test_new_database_is_at_the_latest_schema(tmp_path: Path) -> None:
    with Store.open(tmp_path / "w.db") as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_events_are_stored_exactly_once(tmp_path: Path) -> None:
    with Store.open(tmp_path / "w.db") as store:
        assert store.add_events([event(1), event(2), event(3)]) == 3
        assert store.add_events([event(2), event(3), event(4)]) == 1
        assert store.add_events([event(1, boot=8)]) == 1, "a new boot restarts the sequence"
        stored = store.events("AA:BB")
        assert [(e.boot_id, e.seq) for e in stored] == [(7, 1), (7, 2), (7, 3), (7, 4), (8, 1)]
        assert stored[0] == event(1)
        assert store.has_event("AA:BB", 7, 4) and not store.has_event("AA:BB", 7, 5)


def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with Store.open(path) as store:
        store.remember_device("AA:BB", "Sim Watch", "wearsync-timer")
        store.add_events([event(1)])
        store.set_setting("feed_token", "abc")
    with Store.open(path) as store:
        assert store.get_setting("feed_token") == "abc"
        assert store.device("Sim Watch") is not None
        assert len(store.events()) == 1


def test_sessions_round_trip_and_update_only_on_change(tmp_path: Path) -> None:
    session = SessionRecord(
        key="AA:BB/7/1",
        device="AA:BB",
        routine="foot-care",
        program_hash="ab" * 8,
        started_at=T0,
        ended_at=T0 + timedelta(minutes=9),
        status=SessionStatus.PARTIAL,
        exercises=(
            ExerciseOutcome(
                index=0,
                exercise_id="toe-presses",
                name="Toe Presses",
                status=ExerciseStatus.DONE,
                duration_ms=55000,
            ),
            ExerciseOutcome(
                index=1,
                exercise_id="toe-walking",
                name="Toe Walking",
                status=ExerciseStatus.SKIPPED,
            ),
        ),
        updated_at=T0 + timedelta(minutes=10),
    )
    with Store.open(tmp_path / "w.db") as store:
        store.save_sessions([session])
        assert store.sessions() == [session]
        # The same content again does not move updated_at (the calendar's SEQUENCE hinges on it).
        store.save_sessions([session.model_copy(update={"updated_at": T0 + timedelta(days=1)})])
        assert store.sessions()[0].updated_at == session.updated_at
        done = session.model_copy(
            update={"status": SessionStatus.COMPLETED, "updated_at": T0 + timedelta(days=1)}
        )
        store.save_sessions([done])
        assert store.sessions() == [done]
        assert store.sessions(since=T0 + timedelta(seconds=1)) == []


def test_sessions_derived_anew_replace_what_an_older_rule_derived_for_that_device(
    tmp_path: Path,
) -> None:
    def session(key: str, device: str, status: SessionStatus) -> SessionRecord:
        return SessionRecord(
            key=key,
            device=device,
            routine="foot-care",
            program_hash="ab" * 8,
            started_at=T0,
            ended_at=T0 + timedelta(minutes=1),
            status=status,
            exercises=(),
            updated_at=T0,
        )

    cut = session("AA:BB/7/0", "AA:BB", SessionStatus.INTERRUPTED)
    # An older rule also made the next boot's SESSION_ABORTED a session of its own.
    phantom = session("AA:BB/8/0", "AA:BB", SessionStatus.ABORTED)
    other = session("CC:DD/1/0", "CC:DD", SessionStatus.COMPLETED)
    with Store.open(tmp_path / "w.db") as store:
        store.add_events([event(1)])
        store.save_sessions([cut, phantom, other])
        store.save_sessions([cut.model_copy(update={"status": SessionStatus.ABORTED})])
        assert {s.key for s in store.sessions()} == {cut.key, phantom.key, other.key}
        aborted = cut.model_copy(update={"status": SessionStatus.ABORTED})
        store.save_sessions([aborted], derived_for="AA:BB")
        assert store.sessions() == [aborted, other]  # the other device's are untouched
        assert store.events() == [event(1)]  # sessions are derived: no event goes


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer than this wearsync"):
        Store.open(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"not a wearsync database|cannot open"):
        Store.open(path)
    assert path.read_bytes() == b"this is not sqlite" * 100, "nothing already there is touched"


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "w.db") as store:
        with pytest.raises(RuntimeError), store.transaction() as conn:
            conn.execute("INSERT INTO settings(key, value) VALUES ('a', 'b')")
            raise RuntimeError("boom")
        assert store.get_setting("a") is None
