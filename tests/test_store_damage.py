"""The store on hostile ground: loose permissions, damaged pages, missing tables, first-run races.

Every database here is a real SQLite file, damaged the way a disk or a careless tool would,
and every race runs real processes.
"""

from __future__ import annotations

import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.test_store import event
from wearsync.cli.app import app
from wearsync.paths import db_path
from wearsync.store import MIGRATIONS, Store, StoreError

runner = CliRunner()
PAGE = 4096


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _filled(path: Path) -> None:
    """A database with events in pages of their own, checkpointed into the main file."""
    with Store.open(path) as store:
        store.add_events(event(i) for i in range(2000))
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _root_page(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    return int(row[0])


def _zero_page(path: Path, number: int) -> None:
    with path.open("r+b") as f:
        f.seek((number - 1) * PAGE)
        f.write(b"\0" * PAGE)


# permissions ----------------------------------------------------------------------------------


def test_a_fresh_data_folder_and_its_database_are_private() -> None:
    with Store.open() as store:
        store.set_setting("feed_token", "secret")
        wal = Path(f"{store.path}-wal")
        shm = Path(f"{store.path}-shm")
        assert wal.exists() and shm.exists(), "WAL mode keeps both files while open"
        assert _mode(store.path.parent) == 0o700
        assert {p.name: _mode(p) for p in (store.path, wal, shm)} == {
            "wearsync.db": 0o600,
            "wearsync.db-wal": 0o600,
            "wearsync.db-shm": 0o600,
        }


def test_loose_permissions_left_by_an_older_wearsync_are_tightened_on_open() -> None:
    path = db_path()
    with Store.open(path) as store:
        store.set_setting("feed_token", "secret")
    path.parent.chmod(0o755)
    path.chmod(0o644)
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").touch(0o644)
        Path(f"{path}{extra}").chmod(0o644)
    with Store.open(path) as store:
        assert store.get_setting("feed_token") == "secret"
        assert _mode(path.parent) == 0o700
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert _mode(p) == 0o600, p


def test_the_bond_store_and_the_central_identity_are_private() -> None:
    import asyncio

    from bumble.keys import PairingKeys

    from wearsync.ble.bumble_backend.central import _identity

    address, keystore, _layouts = _identity("tcp-client:127.0.0.1:1")
    assert address is not None and keystore is not None
    asyncio.run(keystore.update("F0:F5:03:1C:F9:D0/P", PairingKeys()))
    folder = db_path().parent
    assert _mode(folder) == 0o700
    assert _mode(folder / "central.json") == 0o600
    assert _mode(folder / "bonds.json") == 0o600
    # An existing loose bond file is tightened the next time the store is made.
    (folder / "bonds.json").chmod(0o644)
    _identity("tcp-client:127.0.0.1:1")
    assert _mode(folder / "bonds.json") == 0o600


def test_lock_files_are_private() -> None:
    import asyncio

    from wearsync.sync.lock import watch_lock

    locks = db_path().parent / "locks"

    async def hold() -> None:
        async with watch_lock(locks, "F0:F5:03:1C:F9:D0"):
            pass

    asyncio.run(hold())
    assert _mode(locks) == 0o700
    assert [_mode(p) for p in locks.iterdir()] == [0o600]


# damage ---------------------------------------------------------------------------------------


def test_pages_damaged_after_opening_are_a_store_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    _filled(path)
    with Store.open(path) as store:
        _zero_page(path, _root_page(path, "events"))
        with pytest.raises(StoreError) as caught:
            store.events()
        assert str(caught.value).startswith(f"{path}: the database is damaged")
        assert caught.value.hint is not None and ".recover" in caught.value.hint
        with pytest.raises(StoreError, match="damaged"):
            store.add_events([event(5000)])


def test_history_on_a_damaged_database_is_one_error_line_and_changes_nothing() -> None:
    path = db_path()
    _filled(path)
    # The sessions table is empty and intact; the damage is elsewhere. "No sessions yet" would
    # hide it.
    _zero_page(path, _root_page(path, "events"))
    before = path.read_bytes()
    result = runner.invoke(app, ["history"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: {path}: the database is damaged"), lines
    assert lines[1].startswith("hint: ")
    assert "no sessions" not in result.output
    assert path.read_bytes() == before, "nothing already stored is changed"


def test_a_missing_table_is_named(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    _filled(path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE sessions")
    with Store.open(path) as store:
        with pytest.raises(StoreError) as caught:
            store.sessions()
        assert str(caught.value) == f"{path}: the database is damaged: table sessions is missing"
        assert len(store.events()) == 2000, "what is still there stays readable"


def test_history_with_a_missing_table() -> None:
    path = db_path()
    _filled(path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE sessions")
    result = runner.invoke(app, ["history"])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0] == (
        f"error: {path}: the database is damaged: table sessions is missing"
    )


def test_a_busy_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with Store.open(path) as store:
        store.conn.execute("PRAGMA busy_timeout = 0")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match="busy"):
                store.set_setting("a", "b")
        finally:
            other.execute("ROLLBACK")
            other.close()
        store.set_setting("a", "b")
        assert store.get_setting("a") == "b"


# first run ------------------------------------------------------------------------------------

_OPENER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from wearsync.store import Store

    me, count, folders = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    for folder in map(Path, folders):
        # A barrier per folder: every process starts opening the same fresh folder together.
        (folder / f"ready-{me}").touch()
        while len(list(folder.glob("ready-*"))) < count:
            time.sleep(0.0005)
        try:
            Store.open(folder / "data" / "wearsync.db").close()
        except Exception as exc:
            print(f"{folder.name}: {type(exc).__name__}: {exc}", flush=True)
    """
)


@pytest.mark.slow
def test_processes_opening_a_fresh_folder_at_once_all_succeed(tmp_path: Path) -> None:
    processes, rounds = 6, 40
    folders = [tmp_path / f"round-{n}" for n in range(rounds)]
    for folder in folders:
        folder.mkdir()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _OPENER, str(i), str(processes), *map(str, folders)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(processes)
    ]
    outputs = [child.communicate(timeout=600)[0] for child in children]
    assert [child.returncode for child in children] == [0] * processes, outputs
    assert "".join(outputs) == ""
    for folder in folders:
        with Store.open(folder / "data" / "wearsync.db") as store:
            assert store.schema_version == len(MIGRATIONS)
    shutil.rmtree(tmp_path, ignore_errors=True)
