"""Where wearsync keeps its data: ``$WEARSYNC_HOME``, else the user's data directory.

The data directory holds secrets (bond keys, the feed token inside the database), so it is
created 0700 and every file in it 0600, whatever the umask; files and folders an older
wearsync left readable by others are tightened when they are next opened.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Final

DB_NAME = "wearsync.db"

#: Owner only: the data directory and its sub-folders.
PRIVATE_DIR_MODE: Final = 0o700
#: Owner read and write: every file in the data directory.
PRIVATE_FILE_MODE: Final = 0o600


def data_dir() -> Path:
    """The data directory (not created here): ``$WEARSYNC_HOME`` or platformdirs' user data dir."""
    override = os.environ.get("WEARSYNC_HOME")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("wearsync", appauthor=False))


def db_path() -> Path:
    """The SQLite database file."""
    return data_dir() / DB_NAME


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) owner-only, or tighten it if it already exists.

    Parents that exist are left alone: only the folder wearsync keeps its files in is its own.
    A folder owned by someone else, or shared with the sticky bit (``/tmp``), is not changed.

    Raises:
        OSError: the folder cannot be created.
    """
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if missing; tighten it to 0600 if it exists.

    Raises:
        OSError: the file cannot be created.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    _tighten(path, PRIVATE_FILE_MODE)
    return path


def tighten(path: Path) -> None:
    """Make an existing file owner-only (a no-op if it is missing or not ours)."""
    _tighten(path, PRIVATE_FILE_MODE)


def write_private_text(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, the new file created 0600.

    Raises:
        OSError: the file cannot be written.
    """
    temporary = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid != os.getuid() or info.st_mode & stat.S_ISVTX:
        return
    if stat.S_IMODE(info.st_mode) & ~mode:
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
