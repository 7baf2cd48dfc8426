"""The Bangle.js driver end to end: bleak through our bumble backend, over the virtual radio,
to a simulated Bangle.js whose Node.js VM really runs the uploaded runner.

The watch's clock is the VM's virtual clock in ``manual`` mode: the tests move it, so every cue
is checked to the millisecond and a nine-minute session runs in about a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.watches.bangle.espruino.test_runner import planned_buzzes
from tests.watches.conftest import RoutineCase, Updates, find, needs_node, run_session, sync_watch
from wearsync.ble.errors import BleError, LinkLostError
from wearsync.records import SessionStatus
from wearsync.routine import compile_routine
from wearsync.sim.att_tap import AttTap
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import program_key
from wearsync.sync.reports import SessionReport, SyncReport
from wearsync.watches.bangle import driver as espruino
from wearsync.watches.bangle.client import GarbledReplyError
from wearsync.watches.bangle.codec import (
    BOOT_FILE,
    EVENTS_FILE,
    MAX_STEPS,
    POINTER_FILE,
    RUNNER_FILE,
    ProgrammableOffError,
    ProgramTooLargeError,
    RunnerBusyError,
)
from wearsync.watches.bangle.sim import SimBangle

pytestmark = needs_node

WRITE_REQUEST = 0x12
#: After the end cue the runner waits about this long, then reloads the clock app.
AFTER_END_MS = 7000


@pytest.fixture(autouse=True)
def quick_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulated REPL answers at once: no need for the real watch's two seconds."""
    monkeypatch.setattr(espruino, "HELLO_TIMEOUT_S", 0.3)


async def sync(
    link: VirtualLink,
    bangle: SimBangle,
    store: Store,
    case: RoutineCase,
    progress: Callable[[str], None] | None = None,
    *,
    requires_programmable: bool = True,
) -> SyncReport:
    watch = await find(link, bangle.address)
    if not requires_programmable:
        driver = watch.profile.driver.model_copy(update={"requires_programmable": False})
        watch = replace(watch, profile=watch.profile.model_copy(update={"driver": driver}))
    return await sync_watch(
        store=store,
        routine=case.routine,
        routine_text=case.text,
        watch=watch,
        hci=link,
        progress=progress,
    )


async def wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        # Polls: the conditions span a task and the simulator, with no one event to wait on.
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def start_session(
    link: VirtualLink, bangle: SimBangle, store: Store, case: RoutineCase, updates: Updates
) -> asyncio.Task[SessionReport]:
    """Start a session through the driver; returns once the watch has started it."""
    watch = await find(link, bangle.address)
    task = asyncio.create_task(
        run_session(
            store=store,
            routine=case.routine,
            routine_text=case.text,
            watch=watch,
            hci=link,
            on_update=updates,
        )
    )
    await wait_for(lambda: "session_started" in updates.kinds() or task.done())
    return task


async def run_clock(bangle: SimBangle, ms: int, step: int = 1000) -> None:
    """Move the watch's clock on by ``ms``, a second at a time, as real time would."""
    for _ in range(0, ms, step):
        await bangle.advance(step)
        await asyncio.sleep(0)


async def unacked(bangle: SimBangle) -> int:
    stored = (await bangle.vm.storage()).get(EVENTS_FILE + "\x01", b"")
    return stored.count(b"\n")


class TestSync:
    async def test_first_sync_uploads_and_a_second_uploads_nothing(
        self, link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
    ) -> None:
        tap = AttTap(link, subject=bangle.address)
        first = await sync(link, bangle, store, foot)
        assert first.program_pushed and first.profile == "bangle-js-2"
        assert first.program_identity == program_key(foot.program)
        flash = await bangle.vm.storage()
        assert flash[RUNNER_FILE].endswith(b"\n") and BOOT_FILE in flash
        first_writes = tap.current.count(opcode=WRITE_REQUEST, direction="rx")
        # The runtime (about 7 KB) and the program (under 1 KB) at MTU 131, a line a write.
        assert first_writes > 70
        assert store.pushed_routine(program_key(foot.program)) == ("foot-care", foot.text)

        rx_before = bangle.rx_bytes
        second = await sync(link, bangle, store, foot)
        assert not second.program_pushed
        writes = tap.current.count(opcode=WRITE_REQUEST, direction="rx")
        # The handshake, the clock: nothing of the runner.
        assert writes <= 4
        assert bangle.rx_bytes - rx_before < 500
        assert (await bangle.vm.storage())[RUNNER_FILE] == flash[RUNNER_FILE]
        # The clock and time zone were set on connect (the routine's zone is Europe/London;
        # the virtual clock stood still since).
        state = await bangle.vm.state()
        assert abs(state.wall_ms / 1000 - time.time()) < 5
        assert state.time_zone == datetime.now(ZoneInfo("Europe/London")).utcoffset() / timedelta(
            hours=1
        )
        assert not state.errors[1:]  # only the identify sent before any runner existed failed

    async def test_programmable_off_is_a_clear_error_and_nothing_is_written(
        self, link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
    ) -> None:
        await bangle.vm.set_programmable(False)
        with pytest.raises(ProgrammableOffError) as caught:
            await sync(link, bangle, store, foot)
        assert "Programmable" in caught.value.message
        assert "Settings > Bluetooth" in (caught.value.hint or "")
        assert RUNNER_FILE not in await bangle.vm.storage()
        assert store.pushed_routine(program_key(foot.program)) is None

        await bangle.vm.set_programmable(True)
        assert (await sync(link, bangle, store, foot)).program_pushed

    async def test_with_programmable_off_an_installed_runner_still_syncs_if_allowed(
        self,
        link: VirtualLink,
        bangle: SimBangle,
        store: Store,
        short: RoutineCase,
        foot: RoutineCase,
    ) -> None:
        """Commands are GB() lines, which pass with Programmable off: a profile that does not
        require it still collects events; only the clock (REPL code) is left alone."""
        await sync(link, bangle, store, short)
        task = await start_session(link, bangle, store, short, Updates())
        await bangle.reset()  # the link drops; the events stay in Storage
        await asyncio.wait_for(task, 10)
        waiting = await unacked(bangle)
        await bangle.vm.set_programmable(False)
        with pytest.raises(ProgrammableOffError):
            await sync(link, bangle, store, short)
        report = await sync(link, bangle, store, short, requires_programmable=False)
        assert not report.program_pushed
        assert report.events_received == waiting and await unacked(bangle) == 0
        with pytest.raises(ProgrammableOffError):  # another routine needs an upload
            await sync(link, bangle, store, foot, requires_programmable=False)

    async def test_a_routine_too_large_for_the_watch_is_refused_before_any_upload(
        self, link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
    ) -> None:
        first = foot.routine.exercises[0]
        big = foot.routine.model_copy(
            update={"exercises": (first.model_copy(update={"reps": 200}),)}
        )
        case = RoutineCase(big, foot.text, compile_routine(big))
        assert len(case.program.steps) > MAX_STEPS
        tap = AttTap(link, subject=bangle.address)
        with pytest.raises(ProgramTooLargeError) as caught:
            await sync(link, bangle, store, case)
        assert str(caught.value).endswith(f"a Bangle.js 2 holds at most {MAX_STEPS}")
        assert caught.value.hint
        assert tap.connections == []  # refused before connecting, so nothing was written
        assert RUNNER_FILE not in await bangle.vm.storage()


class TestSession:
    async def test_foot_routine_runs_from_the_uploaded_code(
        self, link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
    ) -> None:
        program = foot.program
        updates = Updates()
        task = await start_session(link, bangle, store, foot, updates)
        t0 = await bangle.vm.now()  # the session started at this virtual time
        await run_clock(bangle, program.total_ms + 1000)
        report = await asyncio.wait_for(task, 10)
        assert report.ended == "session_completed"
        assert report.program_pushed
        assert report.steps_seen == len(program.steps)

        # Every vibration came from the runner, on the watch's clock, at its planned time.
        await run_clock(bangle, AFTER_END_MS)
        assert await bangle.vm.buzzes() == planned_buzzes(program, t0)

        # The display saw every step with its exercise and cue.
        steps = [u for u in updates.seen if u.kind == "step_started"]
        assert [u.step.index for u in steps if u.step] == [s.index for s in program.steps]
        assert [u.cue for u in steps] == [s.cue for s in program.steps]
        assert steps[0].exercise == "Toe Presses"

        # Completion events came back and were stored exactly once, then acknowledged.
        events = store.events(bangle.address)
        assert len({(e.boot_id, e.seq) for e in events}) == len(events)
        kinds = [e.kind for e in events]
        assert kinds.count("exercise_completed") == len(program.exercises)
        assert kinds.count("step_started") == len(program.steps)
        assert kinds[0] == "session_started" and kinds[-1] == "session_completed"
        assert report.events_new == len(events)
        assert await unacked(bangle) == 0

        [session] = store.sessions()
        assert session.status is SessionStatus.COMPLETED
        assert session.routine == "foot-care"
        assert [e.name for e in session.exercises] == [ex.name for ex in program.exercises]

        again = await sync(link, bangle, store, foot)
        assert (again.events_received, again.events_new, again.program_pushed) == (0, 0, False)
        assert len(store.events(bangle.address)) == len(events)

    async def test_a_reset_mid_session_keeps_the_events_and_interrupts_the_session(
        self, link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
    ) -> None:
        updates = Updates()
        task = await start_session(link, bangle, store, foot, updates)
        await run_clock(bangle, 90_000)
        await wait_for(lambda: updates.kinds().count("exercise_completed") >= 1)
        await bangle.reset()
        report = await asyncio.wait_for(task, 10)
        assert report.ended == "link_lost"
        kept = store.events(bangle.address)
        assert kept and report.events_new == len(kept)
        assert "session_completed" not in [e.kind for e in kept]

        after = await sync(link, bangle, store, foot)
        assert not after.program_pushed  # the runner came back at boot
        # Everything the watch kept is stored once: what was seen live, and what was still on
        # the air when the watch reset.
        assert after.events_received == len(kept) + after.events_new
        assert len(store.events(bangle.address)) == after.events_received
        assert await unacked(bangle) == 0
        [session] = store.sessions()
        assert session.status is SessionStatus.INTERRUPTED
        assert session.exercises[0].status == "done"
        assert not (await bangle.vm.state()).errors[1:]

    async def test_a_watch_out_of_reach_carries_on_and_syncs_during_its_session(
        self,
        link: VirtualLink,
        bangle: SimBangle,
        store: Store,
        foot: RoutineCase,
        short: RoutineCase,
    ) -> None:
        task = await start_session(link, bangle, store, foot, Updates())
        await run_clock(bangle, 30_000)
        link.drop_connections_of(bangle.address)  # out of range; the watch keeps going
        assert (await asyncio.wait_for(task, 10)).ended == "link_lost"
        await run_clock(bangle, 30_000)

        during = await sync(link, bangle, store, foot)
        assert not during.program_pushed and during.events_received > 0
        assert [s.status for s in store.sessions()] == [SessionStatus.IN_PROGRESS]
        with pytest.raises(RunnerBusyError) as caught:
            await sync(link, bangle, store, short)  # replacing the runner would end it
        assert "finish or stop" in (caught.value.hint or "")

        await run_clock(bangle, foot.program.total_ms)
        after = await sync(link, bangle, store, foot)
        assert after.events_received > 0
        [session] = store.sessions()
        assert session.status is SessionStatus.COMPLETED
        assert await unacked(bangle) == 0


class TestFaults:
    async def test_a_program_upload_cut_midway_keeps_the_old_program_and_recovers(
        self,
        link: VirtualLink,
        bangle: SimBangle,
        store: Store,
        foot: RoutineCase,
        short: RoutineCase,
    ) -> None:
        await sync(link, bangle, store, foot)
        pointer = (await bangle.vm.storage())[POINTER_FILE]
        tap = AttTap(link, subject=bangle.address)

        def cut_during_upload(message: str) -> None:
            if message.startswith("uploading"):
                tap.cut_after(6)  # about three Storage writes into the program

        with pytest.raises(LinkLostError) as caught:
            await sync(link, bangle, store, short, progress=cut_during_upload)
        assert caught.value.hint and "safe to run again" in caught.value.hint
        assert tap.cuts == 1
        flash = await bangle.vm.storage()
        assert flash[POINTER_FILE] == pointer  # nothing was committed
        assert store.pushed_routine(program_key(short.program)) is None

        # A reset now runs the program that was there before.
        await bangle.reset()
        state = await bangle.vm.state()
        assert not any("SyntaxError" in e for e in state.errors)

        report = await sync(link, bangle, store, short)
        assert report.program_pushed
        assert (await bangle.vm.storage())[POINTER_FILE] != pointer
        again = await sync(link, bangle, store, short)
        assert not again.program_pushed

    async def test_a_runtime_upload_cut_midway_never_runs_and_the_next_sync_recovers(
        self, link: VirtualLink, bangle: SimBangle, store: Store, foot: RoutineCase
    ) -> None:
        tap = AttTap(link, subject=bangle.address)

        def cut_during_upload(message: str) -> None:
            if message.startswith("uploading the runtime"):
                tap.cut_after(60)  # about 30 Storage writes into the runtime

        with pytest.raises(LinkLostError):
            await sync(link, bangle, store, foot, progress=cut_during_upload)
        half = (await bangle.vm.storage())[RUNNER_FILE]
        assert half.endswith(b"\xff")  # the rest of the file is still erased flash
        await bangle.reset()
        assert not any("SyntaxError" in e for e in (await bangle.vm.state()).errors)
        report = await sync(link, bangle, store, foot)
        assert report.program_pushed
        assert (await bangle.vm.storage())[RUNNER_FILE].endswith(b"\n")

    async def test_junk_between_lines_is_counted_and_ignored(
        self, link: VirtualLink, tmp_path: Path, store: Store, foot: RoutineCase
    ) -> None:
        def noisy(line: bytes) -> bytes:
            return b'\x1b[J>junk {"not json\r\n{"t":"wearsync","k":"ev","boot"\r\n' + line

        async with SimBangle(link, tmp_path / "noisy.json", tx_filter=noisy) as bangle:
            report = await sync(link, bangle, store, foot)
            assert report.program_pushed
            assert report.rejected_notifications >= 2  # one malformed line per line sent

    async def test_a_watch_answering_garbage_gets_a_clear_error_and_nothing_is_stored(
        self, link: VirtualLink, tmp_path: Path, store: Store, foot: RoutineCase
    ) -> None:
        def cut_in_half(line: bytes) -> bytes:
            return line[: len(line) // 2] + b"\r\n"

        async with SimBangle(link, tmp_path / "garbage.json", tx_filter=cut_in_half) as bangle:
            with pytest.raises(GarbledReplyError) as caught:
                await sync(link, bangle, store, foot)
            assert isinstance(caught.value, BleError) and caught.value.hint
            assert RUNNER_FILE not in await bangle.vm.storage()
            assert store.pushed_routine(program_key(foot.program)) is None
            bangle.tx_filter = None
            assert (await sync(link, bangle, store, foot)).program_pushed

    async def test_a_damaged_dump_is_kept_in_part_and_not_acknowledged(
        self, link: VirtualLink, bangle: SimBangle, store: Store, short: RoutineCase
    ) -> None:
        # A session while nobody listens: its events wait on the watch.
        await sync(link, bangle, store, short)
        updates = Updates()
        task = await start_session(link, bangle, store, short, updates)
        await bangle.reset()  # drop the link; the runner is gone, its events stay
        await asyncio.wait_for(task, 10)
        waiting = await unacked(bangle)
        stored_before = len(store.events(bangle.address))
        assert waiting >= 2

        count = 0

        def garble_every_other_replay(line: bytes) -> bytes:
            nonlocal count
            if b'"re":1' in line:
                count += 1
                if count % 2 == 0:
                    return line[:-12] + b"\r\n"
            return line

        bangle.tx_filter = garble_every_other_replay
        with pytest.raises(GarbledReplyError):
            await sync(link, bangle, store, short)
        assert await unacked(bangle) == waiting  # nothing acknowledged
        assert len(store.events(bangle.address)) >= stored_before

        bangle.tx_filter = None
        report = await sync(link, bangle, store, short)
        assert report.events_received == waiting
        assert await unacked(bangle) == 0
        assert len(store.events(bangle.address)) == waiting
