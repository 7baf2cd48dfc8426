"""Where wearsync keeps its data: ``$WEARSYNC_HOME``, else the user's data directory."""

from __future__ import annotations

import os
from pathlib import Path

DB_NAME = "wearsync.db"


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
