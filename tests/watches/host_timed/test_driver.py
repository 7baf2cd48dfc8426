"""The host-timed driver end to end: the companion keeps the clock and buzzes a simulated
InfiniTime (New Alert) or alert band (Alert Level) through bleak over the virtual radio.

Sessions run accelerated (``speed``): a cue planned at program time ``t`` is due ``t / speed``
after the session's start, in real time, which is what the link and the watch see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.watches.conftest import RoutineCase, Updates, find, run_session, sync_watch
from wearsync.ble.errors import GattError
from wearsync.records import SessionStatus
from wearsync.routine.compiler import StepKind
from wearsync.sim.att_tap import AttTap
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.driver import SessionStartError
from wearsync.sync.reports import SessionReport
from wearsync.watches.host_timed.codec import AlertCategory, AlertLevel
from wearsync.watches.host_timed.driver import (
    plan_cues,
)
from wearsync.watches.host_timed.sim import SimInfiniTime

#: Fast enough for a quick suite; slow enough that a step (2 s at least) lasts 20 ms, so an
#: event loop briefly held up by a busy machine does not make a cue stale.
SPEED = 100.0


async def run(
    link: VirtualLink,
    watch: SimInfiniTime,
    store: Store,
    case: RoutineCase,
    *,
    speed: float = SPEED,
    updates: Callable[..., None] | None = None,
) -> SessionReport:
    found = await find(link, watch.address)
    return await run_session(
        store=store,
        routine=case.routine,
        routine_text=case.text,
        watch=found,
        hci=link,
        on_update=updates or Updates(),
        speed=speed,
    )


def session_start(store: Store, address: str) -> float:
    """When the companion anchored the session (its session_started event), as a Unix time."""
    started = [e for e in store.events(address) if e.kind == "session_started"]
    return started[-1].at.timestamp()


class TestInfiniTime:
    @pytest.mark.slow
    async def test_every_cue_arrives_in_order_with_its_text(
        self, link: VirtualLink, infinitime: SimInfiniTime, store: Store, foot: RoutineCase
    ) -> None:
        program = foot.program
        updates = Updates()
        report = await run(link, infinitime, store, foot, updates=updates)
        assert report.ended == "session_completed"
        assert report.steps_seen == len(program.steps)
        assert not report.program_pushed

        plan = plan_cues(program)
        assert len(infinitime.alerts) == len(plan) == len(program.steps) + 1
        for alert, cue in zip(infinitime.alerts, plan, strict=True):
            assert alert.alert is not None and alert.level is None
            assert alert.alert.category is AlertCategory.SCHEDULE
            assert alert.alert.parts() == (cue.title, cue.body)
        assert infinitime.alerts[1].alert is not None
        assert infinitime.alerts[1].alert.parts() == ("Toe Presses", "Hold 3 s, set 1 rep 1")
        assert infinitime.alerts[-1].alert is not None
        assert infinitime.alerts[-1].alert.parts()[1] == "Session complete"

        # Each cue arrived at its planned time on the companion's clock (no link model here:
        # only the event loop's jitter), so in watch time they are spaced as the program says.
        t0 = session_start(store, infinitime.address)
        late = [
            a.wall_time - (t0 + c.at_ms / 1000 / SPEED)
            for a, c in zip(infinitime.alerts, plan, strict=True)
        ]
        assert min(late) > -0.002 and max(late) < 0.05

        # The clock was set through CTS, with the routine's time zone.
        assert infinitime.clock_writes and infinitime.local_time is not None
        london = datetime.now(ZoneInfo("Europe/London")).utcoffset()
        assert infinitime.local_time.utc_offset == london

        # The companion recorded the session as a watch would, and it is complete.
        kinds = [e.kind for e in store.events(infinitime.address)]
        assert kinds.count("exercise_completed") == len(program.exercises)
        assert kinds[0] == "session_started" and kinds[-1] == "session_completed"
        assert [u.cue for u in updates.seen if u.kind == "step_started"] == [
            s.cue for s in program.steps
        ]
        [session] = store.sessions()
        assert session.status is SessionStatus.COMPLETED
        assert [e.name for e in session.exercises] == [ex.name for ex in program.exercises]

    async def test_a_dropped_link_stops_the_cues_and_interrupts_the_session(
        self, link: VirtualLink, infinitime: SimInfiniTime, store: Store, short: RoutineCase
    ) -> None:
        speed = 40.0
        task = asyncio.create_task(run(link, infinitime, store, short, speed=speed))
        async with asyncio.timeout(10):
            await infinitime.wait_for_alerts(4)
        assert infinitime.drop_link() == 1
        dropped_at = asyncio.get_running_loop().time()
        report = await asyncio.wait_for(task, 10)
        assert report.ended == "link_lost"
        assert all(a.loop_time <= dropped_at for a in infinitime.alerts)
        count = len(infinitime.alerts)
        assert 4 <= count < len(plan_cues(short.program))

        # The rest of the session is not fired late, not even once the watch is back in reach.
        await asyncio.sleep(short.program.total_ms / 1000 / speed / 2)
        assert len(infinitime.alerts) == count

        kinds = [e.kind for e in store.events(infinitime.address)]
        assert "session_completed" not in kinds and "session_aborted" not in kinds
        assert kinds.count("step_started") == report.steps_seen
        [session] = store.sessions()
        assert session.status is SessionStatus.INTERRUPTED
        assert session.exercises[0].status in ("done", "not_reached")

        # The next session runs in full and is a session of its own.
        again = await run(link, infinitime, store, short, speed=50.0)
        assert again.ended == "session_completed"
        statuses = [s.status for s in store.sessions()]
        assert statuses == [SessionStatus.INTERRUPTED, SessionStatus.COMPLETED]

    async def test_a_cut_link_mid_write_stops_the_session_too(
        self, link: VirtualLink, infinitime: SimInfiniTime, store: Store, short: RoutineCase
    ) -> None:
        tap = AttTap(link, subject=infinitime.address)
        task = asyncio.create_task(run(link, infinitime, store, short, speed=50.0))
        async with asyncio.timeout(10):
            await infinitime.wait_for_alerts(2)
        tap.cut_after(1)  # the next New Alert request crosses, its response never does
        report = await asyncio.wait_for(task, 10)
        assert report.ended == "link_lost"
        assert tap.cuts == 1
        count = len(infinitime.alerts)
        await asyncio.sleep(0.5)
        assert len(infinitime.alerts) == count
        assert [s.status for s in store.sessions()] == [SessionStatus.INTERRUPTED]

    async def test_a_watch_refusing_alerts_gets_a_clear_error(
        self, link: VirtualLink, store: Store, short: RoutineCase
    ) -> None:
        async with SimInfiniTime(link, reject_alerts=0x0D) as watch:
            with pytest.raises(GattError) as caught:
                await run(link, watch, store, short, speed=100.0)
            assert caught.value.code == 0x0D and caught.value.hint
            assert not watch.alerts
            # What was recorded before the refusal is kept, as an interrupted session.
            assert [e.kind for e in store.events(watch.address)] == ["session_started"]
            assert [s.status for s in store.sessions()] == [SessionStatus.INTERRUPTED]

            watch.reject_alerts = None
            report = await run(link, watch, store, short, speed=50.0)
            assert report.ended == "session_completed"

    async def test_sync_sets_the_clock_and_stores_nothing_on_the_watch(
        self, link: VirtualLink, infinitime: SimInfiniTime, store: Store, foot: RoutineCase
    ) -> None:
        found = await find(link, infinitime.address)
        report = await sync_watch(
            store=store, routine=foot.routine, routine_text=foot.text, watch=found, hci=link
        )
        assert (report.profile, report.program_pushed, report.clock_set) == (
            "infinitime",
            False,
            True,
        )
        assert abs(infinitime.watch_time() - datetime.now().astimezone()) < timedelta(seconds=2)
        assert not infinitime.alerts

    async def test_the_wearer_cannot_start_it_on_the_watch(
        self, link: VirtualLink, infinitime: SimInfiniTime, store: Store, short: RoutineCase
    ) -> None:
        found = await find(link, infinitime.address)
        with pytest.raises(SessionStartError) as caught:
            await run_session(
                store=store,
                routine=short.routine,
                routine_text=short.text,
                watch=found,
                hci=link,
                start=False,
                on_update=Updates(),
            )
        assert "--wait" in (caught.value.hint or "")


class TestAlertBand:
    async def test_cues_are_mild_or_high_by_step(
        self, link: VirtualLink, store: Store, short: RoutineCase
    ) -> None:
        async with SimInfiniTime(link, kind="band") as band:
            found = await find(link, band.address)
            assert found.profile.id == "immediate-alert"
            report = await run(link, band, store, short, speed=50.0)
            assert report.ended == "session_completed"
            plan = plan_cues(short.program)
            levels = [a.level for a in band.alerts]
            assert len(levels) == len(plan)
            expected = [
                AlertLevel.MILD
                if c.step is not None
                and c.step.kind in (StepKind.PREPARE, StepKind.RELEASE, StepKind.REST)
                else AlertLevel.HIGH
                for c in plan
            ]
            assert levels == expected
            assert not band.clock_writes  # the profile leaves a band's clock alone
