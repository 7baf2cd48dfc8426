"""What the simulator tests share: programs, raw GATT calls through the codecs, expectations.

The tests talk to the simulated watch with a plain bleak client and the codecs of
``wearsync.protocol``, as a watch-side conformance test would, not through the companion's
client driver.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic

from wearsync.ble import make_client
from wearsync.routine.compiler import Step, compile_routine
from wearsync.routine.loader import load_routine
from wearsync.sim.motor import Pulse
from wearsync.watches.wearsync_timer.codec import (
    BatchFlags,
    Commit,
    ControlRequest,
    EventBatch,
    EventKind,
    EventRecord,
    SessionStatusValue,
    TimerInfo,
    WireProgram,
    decode_program,
    encode_program,
    expand,
    program_chunks,
    program_crc,
)
from wearsync.watches.wearsync_timer.codec import uuids as U
from wearsync.watches.wearsync_timer.sim.watch import SimWatch

#: The foot routine as the companion pushes it: 210 bytes, 82 steps, 560 s.
FOOT_CARE: Final = encode_program(compile_routine(load_routine("foot-care")))
#: The 58-byte program of docs/protocol.md §13.1.
DEMO: Final = bytes.fromhex(
    "01 00 04 01 03 04 44 65 6d 6f 09 21 3c 06 02 03 0f 0a 0f 01 01 3c 89 62 75 7a 7a 5f 6c 6f"
    " 6e 67 01 78 0a 01 01 01 0a 02 0b 07 05 01 00 03 0b 54 6f 65 20 50 72 65 73 73 65 73"
)

#: How long a test waits for notifications.
WAIT_S: Final = 2.0

TIMER_INFO: Final = str(U.TIMER_INFO)
PROGRAM: Final = str(U.PROGRAM)
CONTROL_POINT: Final = str(U.CONTROL_POINT)
SESSION_STATUS: Final = str(U.SESSION_STATUS)
EVENT_LOG: Final = str(U.EVENT_LOG)
CURRENT_TIME: Final = str(U.CURRENT_TIME)
LOCAL_TIME: Final = str(U.LOCAL_TIME_INFORMATION)


@asynccontextmanager
async def connected(
    watch: SimWatch, *, pair: bool = True, mtu: int | None = None
) -> AsyncIterator[BleakClient]:
    """A bleak client connected to ``watch`` (paired and bonded unless ``pair=False``)."""
    client = make_client(watch.address, hci=watch.link, pair=pair, timeout=3.0, mtu=mtu)
    async with client:
        yield client


async def read_info(client: BleakClient) -> TimerInfo:
    return TimerInfo.from_bytes(bytes(await client.read_gatt_char(TIMER_INFO)))


async def control(client: BleakClient, request: ControlRequest | bytes) -> None:
    await client.write_gatt_char(CONTROL_POINT, bytes(request), response=True)


async def push(client: BleakClient, program: bytes) -> None:
    """Stage ``program`` in MTU-sized Write Requests and commit it (§12.1)."""
    for chunk in program_chunks(program, client.mtu_size):
        await client.write_gatt_char(PROGRAM, bytes(chunk), response=True)
    await control(client, Commit(program_crc(program)))


@dataclass
class Notifications:
    """Session Status and Event Log notifications received by one client."""

    statuses: list[SessionStatusValue] = field(default_factory=list)
    batches: list[EventBatch] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def events(self) -> list[EventRecord]:
        return [e for b in self.batches for e in b.events]

    def on_status(self, _c: BleakGATTCharacteristic, value: bytearray) -> None:
        self.statuses.append(SessionStatusValue.from_bytes(bytes(value)))
        self.arrived.set()

    def on_events(self, _c: BleakGATTCharacteristic, value: bytearray) -> None:
        self.batches.append(EventBatch.from_bytes(bytes(value)))
        self.arrived.set()

    async def subscribe(self, client: BleakClient) -> None:
        await client.start_notify(SESSION_STATUS, self.on_status)
        await client.start_notify(EVENT_LOG, self.on_events)

    async def until(self, done: Callable[[], bool]) -> None:
        """Wait until ``done()`` is true (at most :data:`WAIT_S`)."""
        async with asyncio.timeout(WAIT_S):
            while not done():
                self.arrived.clear()
                await self.arrived.wait()

    async def replay_end(self) -> None:
        await self.until(lambda: any(b.flags & BatchFlags.REPLAY_END for b in self.batches))


def steps_of(program: bytes) -> tuple[Step, ...]:
    return expand(decode_program(program))


def expected_pulses(program: bytes, steps: Sequence[Step] | None = None) -> list[Pulse]:
    """The motor of §5.6 rules 6-7: each step's cue at its start, the countdown ticks, the end
    cue; a cue starting while another plays cuts it short.

    Args:
        program: the program, for its cues.
        steps: the steps played, at their ``start_ms``; the program's expansion by default.
    """
    wire: WireProgram = decode_program(program)
    cues = {c.name: c for c in wire.cues}
    starts: list[tuple[int, str]] = []
    steps = expand(wire) if steps is None else steps
    for step in steps:
        starts.append((step.start_ms, step.cue))
        if step.countdown_cue is not None:
            ticks = step.countdown_ms // 1000
            starts += [(step.end_ms - 1000 * k, step.countdown_cue) for k in range(ticks, 0, -1)]
    if wire.end_cue is not None:
        starts.append((steps[-1].end_ms, wire.cues[wire.end_cue].name))
    starts.sort(key=lambda s: s[0])
    pulses: list[Pulse] = []
    for n, (at, name) in enumerate(starts):
        limit = starts[n + 1][0] if n + 1 < len(starts) else None
        offset = 0
        cue = cues[name]
        for i, span in enumerate(cue.pattern):
            begin, end = at + offset, at + offset + span
            offset += span
            if i % 2 or (limit is not None and begin >= limit):
                continue
            pulses.append(
                Pulse(begin, end if limit is None else min(end, limit), cue.strength, name)
            )
    return pulses


def shape(pulses: list[Pulse]) -> list[tuple[int, int, int, str]]:
    """Pulses as ``(start_ms, end_ms, strength, cue)``, the fields a test compares."""
    return [(p.start_ms, p.end_ms, p.strength, p.cue) for p in pulses]


def kinds(events: list[EventRecord]) -> list[EventKind]:
    return [e.kind for e in events]
