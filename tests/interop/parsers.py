"""Read a calendar the way real clients do: every occurrence's start, in UTC, per UID.

- :func:`with_icaljs`: Mozilla's ical.js (Thunderbird), in one Node.js process for many
  calendars (``tests/interop/package.json`` pins it; ``npm ci`` there installs it);
- :func:`with_vobject`: vobject, which Radicale parses with (it builds time zones from the
  calendar's VTIMEZONE, through dateutil);
- :func:`with_icalendar`: icalendar with recurring-ical-events (what many Python tools use).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
import vobject

HERE = Path(__file__).resolve().parent
Occurrences = dict[str, list[datetime]]
Shown = dict[tuple[str, datetime], tuple[str, int]]
"""(UID, start in UTC) -> (SUMMARY, number of VALARMs) of each occurrence as a client shows it,
instance overrides (RECURRENCE-ID) in place of the occurrences they replace."""


@dataclass(frozen=True)
class Job:
    """One calendar to expand between ``start`` (included) and ``end`` (excluded)."""

    id: str
    ics: bytes
    start: datetime
    end: datetime


def icaljs_available() -> None:
    """Skip unless Node.js and the pinned ical.js are installed (CI runs ``npm ci`` here)."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    if not (HERE / "node_modules" / "ical.js").is_dir():
        pytest.skip("ical.js is not installed: run 'npm ci' in tests/interop")


def with_icaljs(jobs: Sequence[Job]) -> dict[str, Occurrences]:
    """Every job's occurrences as ical.js reads them (one node process for all jobs)."""
    payload = [
        {
            "id": j.id,
            "ics": j.ics.decode(),
            "start": int(j.start.timestamp() * 1000),
            "end": int(j.end.timestamp() * 1000),
        }
        for j in jobs
    ]
    done = subprocess.run(
        ["node", str(HERE / "expand.mjs")],
        input=json.dumps(payload).encode(),
        capture_output=True,
        check=False,
        cwd=HERE,
    )
    assert done.returncode == 0, done.stderr.decode()
    results: dict[str, Occurrences] = {}
    for job_id, found in json.loads(done.stdout).items():
        assert "error" not in found, f"{job_id}: {found['error']}"
        results[job_id] = {
            uid: [datetime.fromtimestamp(ms / 1000, UTC) for ms in times]
            for uid, times in found.items()
        }
    return results


def with_vobject(job: Job) -> Occurrences:
    """The job's occurrences as vobject (Radicale) reads them."""
    calendar = vobject.readOne(job.ics.decode())
    found: Occurrences = {}
    for vevent in calendar.vevent_list:
        uid = str(vevent.uid.value)
        rules = vevent.getrruleset(addRDate=True)
        if rules is None:
            starts = [vevent.dtstart.value]
        else:
            starts = rules.between(job.start, job.end, inc=True)
        found[uid] = sorted(
            s.astimezone(UTC) for s in starts if job.start <= s.astimezone(UTC) < job.end
        )
    return found


def with_icalendar(job: Job) -> Occurrences:
    """The job's occurrences as icalendar and recurring-ical-events read them."""
    calendar = icalendar.Calendar.from_ical(job.ics)
    found: Occurrences = {}
    for event in recurring_ical_events.of(calendar).between(job.start, job.end):
        start = event["DTSTART"].dt
        found.setdefault(str(event["UID"]), []).append(start.astimezone(UTC))
    return {uid: sorted(times) for uid, times in found.items()}


def shown_by_icaljs(job: Job) -> Shown:
    """The job's occurrences with their summaries and alarms, as ical.js (Thunderbird) shows
    them: overrides related to their series with ``Event.relateException``."""
    payload = [
        {
            "id": job.id,
            "ics": job.ics.decode(),
            "start": int(job.start.timestamp() * 1000),
            "end": int(job.end.timestamp() * 1000),
            "details": True,
        }
    ]
    done = subprocess.run(
        ["node", str(HERE / "expand.mjs")],
        input=json.dumps(payload).encode(),
        capture_output=True,
        check=False,
        cwd=HERE,
    )
    assert done.returncode == 0, done.stderr.decode()
    found = json.loads(done.stdout)[job.id]
    assert "error" not in found, found["error"]
    shown: Shown = {}
    for uid, rows in found.items():
        for ms, summary, alarms in rows:
            key = (uid, datetime.fromtimestamp(ms / 1000, UTC))
            assert key not in shown, key
            shown[key] = (summary, alarms)
    return shown


def shown_by_vobject(job: Job) -> Shown:
    """The same as vobject reads it, applying overrides by RECURRENCE-ID as Radicale does."""
    calendar = vobject.readOne(job.ics.decode())
    shown: Shown = {}
    replaced: list[tuple[str, datetime, datetime, str, int]] = []
    for vevent in calendar.vevent_list:
        uid = str(vevent.uid.value)
        summary = str(vevent.summary.value)
        alarms = len(vevent.contents.get("valarm", []))
        if "recurrence-id" in vevent.contents:
            rid = vevent.contents["recurrence-id"][0].value.astimezone(UTC)
            replaced.append((uid, rid, vevent.dtstart.value.astimezone(UTC), summary, alarms))
            continue
        rules = vevent.getrruleset(addRDate=True)
        starts = (
            [vevent.dtstart.value] if rules is None else rules.between(job.start, job.end, inc=True)
        )
        for s in starts:
            at = s.astimezone(UTC)
            if job.start <= at < job.end:
                assert (uid, at) not in shown, (uid, at)
                shown[uid, at] = (summary, alarms)
    for uid, rid, at, summary, alarms in replaced:
        assert shown.pop((uid, rid), None) is not None or not job.start <= rid < job.end
        if job.start <= at < job.end:
            shown[uid, at] = (summary, alarms)
    return shown


def shown_by_icalendar(job: Job) -> Shown:
    """The same as icalendar and recurring-ical-events (which applies overrides) read it."""
    calendar = icalendar.Calendar.from_ical(job.ics)
    shown: Shown = {}
    for event in recurring_ical_events.of(calendar).between(job.start, job.end):
        key = (str(event["UID"]), event["DTSTART"].dt.astimezone(UTC))
        assert key not in shown, key
        shown[key] = (str(event["SUMMARY"]), len(event.walk("VALARM")))
    return shown
