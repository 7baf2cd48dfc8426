"""The program a stored event belongs to, and the names events are stored under.

Events name their program by a key (the timer service's identity, or the first hex digits of
the content hash for the Bangle.js and host-timed drivers); the store keeps the routine text
pushed under that key, so the program is compiled again from it (once per text).
"""

from __future__ import annotations

from functools import lru_cache

from wearsync.errors import WearSyncError
from wearsync.routine.compiler import TimerProgram, compile_routine
from wearsync.routine.loader import parse_routine
from wearsync.store import Store


@lru_cache(maxsize=16)
def compile_text(text: str) -> TimerProgram | None:
    """The program of a stored routine text, or ``None`` if it no longer compiles."""
    try:
        return compile_routine(parse_routine(text))
    except WearSyncError:
        return None


class ProgramLookup:
    """Finds the program a stored event's key names, through the routine pushed under it."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, key: str) -> TimerProgram | None:
        pushed = self.store.pushed_routine(key)
        return None if pushed is None else compile_text(pushed[1])
