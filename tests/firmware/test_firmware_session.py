"""A session started from the companion on the firmware plays the simulator's cue timeline.

The same short program runs twice: on the NimBLE firmware (started by ``run_session`` over
BLE, at ten times real speed) and on the Python simulator (on a manual clock). The firmware's
JSON lines must give the same vibrations (cue, pattern, strength, step, session time) and the
same events (kind, position, duration) as the simulator's motor and log. Session times are
exact at any speed (everything due is processed at its due time), so this is no timed check.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.firmware.conftest import found, start_firmware
from tests.watches.conftest import run_session
from wearsync.profiles import DeviceProfile
from wearsync.routine import compile_routine, load_routine
from wearsync.sim.clock import ManualClock
from wearsync.sim.hci_server import HciServer
from wearsync.sim.link import VirtualLink
from wearsync.sim.motor import Vibration
from wearsync.store import Store
from wearsync.sync.live import LiveUpdate
from wearsync.watches.wearsync_timer.codec import EventRecord, encode_program
from wearsync.watches.wearsync_timer.sim.cli import event_line, vibration_line
from wearsync.watches.wearsync_timer.sim.flash import Flash
from wearsync.watches.wearsync_timer.sim.watch import SimWatch

pytestmark = pytest.mark.slow

SHORT_PATH = Path(__file__).parent / "data" / "short.toml"
SHORT = load_routine(SHORT_PATH)
SHORT_TEXT = SHORT_PATH.read_text()
PROGRAM = compile_routine(SHORT)
WIRE = encode_program(PROGRAM)
TIME_SCALE = 10.0

Cue = tuple[str, tuple[int, ...], int, int | None, int]
Event = tuple[str, int, int, int, int, int]


#: One line of each type as `wearsync sim --json` prints them, from the last simulated run.
SIM_LINES: dict[str, dict[str, Any]] = {}


async def simulated(tmp_path: Path) -> tuple[list[Cue], list[Event]]:
    """The cues and events of one session of WIRE on the Python simulator."""
    Flash(tmp_path / "sim").save_program(WIRE)
    clock = ManualClock()
    vibrations: list[Vibration] = []
    events: list[EventRecord] = []
    watch = await SimWatch.start(
        VirtualLink(),
        flash_dir=tmp_path / "sim",
        clock=clock,
        on_vibration=vibrations.append,
        on_event=events.append,
    )
    try:
        await watch.press_start()
        await clock.advance(PROGRAM.total_ms + 1000)
        await watch.drain()
    finally:
        await watch.close()
    cues = [(v.cue, v.pattern, v.strength, v.step, v.session_ms) for v in vibrations]
    SIM_LINES["vibration"] = vibration_line(vibrations[0])
    SIM_LINES["event"] = event_line(events[0])
    return cues, [(e.kind_name, e.step, e.exercise, e.set, e.rep, e.duration_ms) for e in events]


def firmware_cue(line: dict[str, Any]) -> Cue:
    return (line["cue"], tuple(line["pattern"]), line["strength"], line["step"], line["session_ms"])


def firmware_event(line: dict[str, Any]) -> Event:
    keys = ("kind", "step", "exercise", "set", "rep", "duration_ms")
    kind, step, exercise, set_, rep, duration = (line[k] for k in keys)
    return (kind, step, exercise, set_, rep, duration)


async def test_a_session_started_from_the_companion_plays_the_simulators_cues(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    hci_server: HciServer,
    tmp_path: Path,
) -> None:
    firmware = await start_firmware(hci_server, tmp_path / "fw", time_scale=TIME_SCALE)
    updates: list[LiveUpdate] = []
    try:
        report = await run_session(
            store=store,
            routine=SHORT,
            routine_text=SHORT_TEXT,
            watch=await found(link, profiles, firmware),
            hci=link,
            on_update=updates.append,
        )
    finally:
        await firmware.stop()
    assert report.ended == "session_completed"
    assert report.steps_seen == len(PROGRAM.steps)

    sim_cues, sim_events = await simulated(tmp_path)
    fw_cues = [firmware_cue(line) for line in firmware.of_type("vibration")]
    fw_events = [firmware_event(line) for line in firmware.of_type("event")]
    assert len(sim_cues) > len(PROGRAM.steps), "countdown ticks and the end cue play too"
    assert fw_cues == sim_cues
    assert fw_events == sim_events
    # The companion stored the session's events, all of them, once.
    assert report.events_new == len(fw_events)
    # Every line has the shape `wearsync sim --json` prints; the clock was set by the sync.
    for kind in ("vibration", "event"):
        assert all(set(line) == set(SIM_LINES[kind]) for line in firmware.of_type(kind)), kind
    assert all(line["utc"] is not None for line in firmware.of_type("vibration"))
    assert all(line["clock_set"] for line in firmware.of_type("event"))


async def test_skip_pressed_on_the_watch_jumps_to_the_next_exercise_and_is_stored(
    store: Store,
    link: VirtualLink,
    profiles: list[DeviceProfile],
    hci_server: HciServer,
    tmp_path: Path,
) -> None:
    # At 5x the first exercise lasts 3.8 s of real time: the press lands inside it.
    firmware = await start_firmware(hci_server, tmp_path / "fw", time_scale=5.0)
    second = next(s.index for s in PROGRAM.steps if s.exercise == 1)
    try:
        session = asyncio.create_task(
            run_session(
                store=store,
                routine=SHORT,
                routine_text=SHORT_TEXT,
                watch=await found(link, profiles, firmware),
                hci=link,
                on_update=lambda _u: None,
            )
        )
        await firmware.wait_for(lambda line: line.get("kind") == "step_started", 20)
        pressed = await firmware.press("skip")
        report = await session
    finally:
        await firmware.stop()
    assert pressed["code"] == 0
    assert report.ended == "session_completed"
    kinds = [(e["kind"], e["step"], e["exercise"]) for e in firmware.of_type("event")]
    skipped = next(i for i, k in enumerate(kinds) if k[0] == "exercise_skipped")
    assert kinds[skipped][2] == 0 and kinds[skipped][1] < second
    assert kinds[skipped + 1] == ("step_started", second, 1), "the next exercise's first step"
    assert ("exercise_completed", second - 1, 0) not in kinds
    assert kinds[-1][0] == "session_completed"
    stored = [e.kind for e in store.events(firmware.ready["address"])]
    assert stored.count("exercise_skipped") == 1
