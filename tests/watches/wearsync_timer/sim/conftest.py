"""Fixtures: a virtual link, a manual clock and simulated watches closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from wearsync.sim.clock import ManualClock
from wearsync.sim.link import VirtualLink
from wearsync.watches.wearsync_timer.sim.watch import SimWatch

StartWatch = Callable[..., Awaitable[SimWatch]]


@pytest.fixture
def flash_dir(tmp_path: Path) -> Path:
    return tmp_path / "flash"


@pytest.fixture
async def start_watch(
    link: VirtualLink, clock: ManualClock, flash_dir: Path
) -> AsyncIterator[StartWatch]:
    """Start watches on the test's link, clock and flash (overridable); all closed at the end."""
    started: list[SimWatch] = []

    async def start(**kwargs: Any) -> SimWatch:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("flash_dir", flash_dir)
        watch = await SimWatch.start(link, **kwargs)
        started.append(watch)
        return watch

    yield start
    for watch in reversed(started):
        await watch.close()


@pytest.fixture
async def watch(start_watch: StartWatch) -> SimWatch:
    return await start_watch()
