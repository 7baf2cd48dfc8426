"""A lock file per watch, so two wearsync processes never sync the same watch at once.

The lock is an ``fcntl.flock`` on a file in the data directory: the kernel releases it when the
holder exits, even after SIGKILL, so a crashed sync never leaves a stale lock behind.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from wearsync.errors import WearSyncError
from wearsync.paths import PRIVATE_FILE_MODE, private_dir, tighten


class WatchBusyError(WearSyncError):
    """Another wearsync process is syncing this watch."""

    def __init__(self, address: str, waited: float) -> None:
        super().__init__(
            f"{address}: another wearsync process is syncing this watch (waited {waited:g} s)",
            hint="wait for it to finish, or stop the other process (e.g. 'wearsync serve')",
        )
        self.address = address


@asynccontextmanager
async def watch_lock(directory: Path, address: str, *, wait: float = 30.0) -> AsyncIterator[None]:
    """Hold the lock of ``address`` for the block, waiting up to ``wait`` seconds for it.

    Raises:
        WatchBusyError: another process held it for longer than ``wait``.
    """
    private_dir(directory)
    path = directory / (re.sub(r"[^A-Za-z0-9]+", "-", address).strip("-") + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    tighten(path)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WatchBusyError(address, wait) from None
                await asyncio.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
