"""Fixtures for the Bangle.js and host-timed drivers: simulated watches on a virtual link, a real
SQLite store, and the foot-care routine.

Every test gets its own link, store and watches (and its own data directory, for the lock
files), so nothing leaks between tests.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wearsync.ble.connection import FoundWatch, find_watch
from wearsync.ble.hci import HciSpec
from wearsync.profiles import load_profiles
from wearsync.routine import Routine, TimerProgram, compile_routine
from wearsync.routine.loader import parse_routine, read_routine_text
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SessionOptions, SyncContext
from wearsync.sync.live import SILENCE_TIMEOUT_S, LiveUpdate
from wearsync.sync.reports import Progress, SessionReport, SyncReport
from wearsync.watches import registry
from wearsync.watches.bangle.sim import SimBangle
from wearsync.watches.host_timed.sim import SimInfiniTime

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

#: A short routine for the fault tests: two exercises, about a minute of program time.
SHORT_ROUTINE = """
format = 1
name = "short"
title = "Short test routine"
count_seconds = 1.0
prepare_seconds = 2
transition_seconds = 3
switch_side_seconds = 2

[schedule]
every_days = { min = 1, max = 1 }
session_minutes = 2
times = ["18:00"]
timezone = "Europe/London"

[[exercises]]
id = "squeeze"
name = "Squeeze"
instructions = "Squeeze."
hold = { seconds = 4 }
release = { seconds = 2 }
reps = 3

[[exercises]]
id = "walk"
name = "Walk"
instructions = "Walk."
work = { seconds = 5 }
rest = { seconds = 3 }
reps = 3
sides = ["left", "right"]
"""


@dataclass(frozen=True)
class RoutineCase:
    routine: Routine
    text: str
    program: TimerProgram


def routine_case(text: str) -> RoutineCase:
    routine = parse_routine(text)
    return RoutineCase(routine, text, compile_routine(routine))


@pytest.fixture(scope="session")
def foot() -> RoutineCase:
    text, _source = read_routine_text("foot-care")
    return routine_case(text)


@pytest.fixture(scope="session")
def short() -> RoutineCase:
    return routine_case(SHORT_ROUTINE)


@pytest.fixture
async def bangle(link: VirtualLink, tmp_path: Path) -> AsyncIterator[SimBangle]:
    async with SimBangle(link, tmp_path / "flash.json", name="Bangle.js 1a2b") as watch:
        yield watch


@pytest.fixture
async def infinitime(link: VirtualLink) -> AsyncIterator[SimInfiniTime]:
    async with SimInfiniTime(link) as watch:
        yield watch


async def find(link: VirtualLink, address: str) -> FoundWatch:
    """The simulated watch at ``address`` as a scan finds it, with its matching profile."""
    return await find_watch(load_profiles(), name_or_address=address, hci=link, seconds=5.0)


@dataclass
class Updates:
    """Collects the live updates a session hands to the display."""

    seen: list[LiveUpdate] = field(default_factory=list)

    def __call__(self, update: LiveUpdate) -> None:
        self.seen.append(update)

    def kinds(self) -> list[str]:
        return [u.kind for u in self.seen]


async def sync_watch(
    *,
    store: Store,
    watch: FoundWatch,
    routine: Routine,
    routine_text: str,
    hci: HciSpec | None = None,
    progress: Progress | None = None,
    lock_wait: float = 30.0,
) -> SyncReport:
    """One sync through the profile's driver, with the context as keywords, for tests."""
    ctx = SyncContext.of(
        store, watch, routine, routine_text, hci=hci, progress=progress, lock_wait=lock_wait
    )
    return await registry.driver_for(watch.profile).sync(ctx)


async def run_session(
    *,
    store: Store,
    watch: FoundWatch,
    routine: Routine,
    routine_text: str,
    hci: HciSpec | None = None,
    start: bool = True,
    on_update: Callable[[LiveUpdate], None] | None = None,
    speed: float = 1.0,
    silence_timeout: float = SILENCE_TIMEOUT_S,
) -> SessionReport:
    """One live session through the profile's driver, with everything as keywords, for tests."""
    options = SessionOptions(
        on_update=on_update or Updates(),
        start=start,
        speed=speed,
        silence_timeout=silence_timeout,
    )
    ctx = SyncContext.of(store, watch, routine, routine_text, hci=hci)
    return await registry.driver_for(watch.profile).session(ctx, options)
