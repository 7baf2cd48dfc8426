"""``wearsync serve`` reminds a host-timed watch at each planned occurrence (it knows no
schedule itself); a watch that reminds itself gets nothing from the companion."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from wearsync.profiles import DeviceProfile
from wearsync.routine import load_routine
from wearsync.routine.occurrences import ROUTINE_ENTRY, Occurrence
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.sync.daemon import SyncDaemon
from wearsync.sync.first_day import FIRST_DAY_KEY
from wearsync.watches import registry
from wearsync.watches.host_timed.codec import AlertCategory
from wearsync.watches.host_timed.sim import SimInfiniTime

ROUTINE = load_routine("foot-care")
LONDON = ROUTINE.schedule.zone


def daemon(
    store: Store, profiles: list[DeviceProfile], link: VirtualLink, device: str
) -> SyncDaemon:
    return SyncDaemon(
        store=store,
        routine="foot-care",
        profiles=profiles,
        drivers=registry.driver_for,
        every=timedelta(minutes=15),
        device=device,
        hci=link,
        scan_seconds=5,
    )


def test_next_due_is_the_next_planned_time_with_every_entry_at_it(
    store: Store, profiles: list[DeviceProfile], link: VirtualLink
) -> None:
    store.set_setting(FIRST_DAY_KEY.format(routine="foot-care"), "2026-03-02")
    serve = daemon(store, profiles, link, "x")
    at_7 = datetime(2026, 3, 3, 7, 0, tzinfo=LONDON)  # an off day
    due = serve.next_due(ROUTINE, at_7)
    assert [(o.entry, o.local.time()) for o in due] == [
        ("toe-presses", time(8)),
        ("toe-walking", time(8)),
    ]
    evening = serve.next_due(ROUTINE, datetime(2026, 3, 4, 17, 0, tzinfo=LONDON))  # routine day
    assert [(o.entry, o.local.time()) for o in evening] == [(ROUTINE_ENTRY, time(18))]


async def test_a_host_timed_watch_gets_an_alert_at_an_occurrence(
    store: Store, profiles: list[DeviceProfile], link: VirtualLink, infinitime: SimInfiniTime
) -> None:
    at = datetime(2026, 3, 3, 8, 0, tzinfo=LONDON)
    occurrence = Occurrence(at=at.astimezone(UTC), entry="toe-presses", local=at, slot=0)
    serve = daemon(store, profiles, link, infinitime.address)
    assert await serve.remind_once(occurrence)
    [received] = infinitime.alerts
    assert received.alert is not None
    assert received.alert.category is AlertCategory.SCHEDULE
    assert received.alert.parts() == ("Toe Presses", "time for this exercise")
    assert serve.reminders_sent == 1
