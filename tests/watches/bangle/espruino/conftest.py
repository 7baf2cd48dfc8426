"""Fixtures for the Bangle.js driver: the foot-care program, its runner, a simulated watch.

Every test gets its own simulated watch (a Node.js process, about 50 ms to start) with its
Storage in ``tmp_path``, so tests cannot leak state into each other.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from wearsync.routine import Routine, TimerProgram, compile_routine, load_routine
from wearsync.watches.bangle.codec import (
    Event,
    Identity,
    WatchMessage,
    chunk_for_mtu,
    identify_command,
    parse_line,
    plan_upload,
    program_data,
)
from wearsync.watches.bangle.espruino import DEFAULT_WALL_START, EspruinoVM
from wearsync.watches.bangle.plan import BanglePlan, bangle_plan

MTU = 131
#: The schedule's first day in these tests: the day the simulated watch's clock starts on.
FIRST_DAY = DEFAULT_WALL_START.date()

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


@pytest.fixture(scope="session")
def routine() -> Routine:
    return load_routine("foot-care")


@pytest.fixture(scope="session")
def program(routine: Routine) -> TimerProgram:
    return compile_routine(routine)


@pytest.fixture(scope="session")
def plan(routine: Routine, program: TimerProgram) -> BanglePlan:
    return bangle_plan(routine, program, FIRST_DAY)


@pytest.fixture(scope="session")
def source(program: TimerProgram, plan: BanglePlan) -> str:
    """The foot-care program as the driver sends it: with its entries and schedule."""
    return program_data(program, plan)


@pytest.fixture
async def vm(tmp_path: Path) -> AsyncIterator[EspruinoVM]:
    async with EspruinoVM(tmp_path / "storage.json") as watch:
        yield watch


@pytest.fixture
async def installed(vm: EspruinoVM, program: TimerProgram, source: str) -> EspruinoVM:
    """A watch running the foot-care runner, installed through the real upload lines."""
    await send_all(vm, plan_upload(None, program.content_hash, source, MTU))
    replies = messages(vm)
    assert any(isinstance(m, Identity) and m.program_hash == program.content_hash for m in replies)
    return vm


async def send(vm: EspruinoVM, line: bytes, mtu: int = MTU) -> None:
    """Write ``line`` as a central would: one ATT write per ``mtu - 3`` bytes."""
    for chunk in chunk_for_mtu(line, mtu):
        await vm.write_uart(chunk)


async def send_all(vm: EspruinoVM, lines: list[bytes], mtu: int = MTU) -> None:
    for line in lines:
        await send(vm, line, mtu)


def messages(vm: EspruinoVM) -> list[WatchMessage]:
    """Everything of ours the watch printed since the last call, parsed; noise dropped."""
    return [m for m in map(parse_line, vm.read_lines()) if m is not None]


def events(found: list[WatchMessage], kind: str | None = None) -> list[Event]:
    return [m for m in found if isinstance(m, Event) and (kind is None or m.kind == kind)]


async def identify(vm: EspruinoVM) -> Identity | None:
    await send(vm, identify_command())
    found = [m for m in messages(vm) if isinstance(m, Identity)]
    return found[-1] if found else None
