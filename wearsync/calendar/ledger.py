"""The rule that bumps SEQUENCE and LAST-MODIFIED when a published event changes.

The entries live wherever an :class:`~wearsync.calendar.ports.EventLedger` keeps them: in the
store's ``calendar_events`` table (``Store.calendar_ledger()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from wearsync.calendar.ports import EventLedger, LedgerEntry


def whole_seconds(moment: datetime) -> datetime:
    """``moment`` in UTC, truncated to the second (iCalendar's precision)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def revise(
    ledger: EventLedger, fingerprints: Mapping[str, str], now: datetime
) -> dict[str, LedgerEntry]:
    """Bring the ledger up to date with the events about to be published.

    A UID seen for the first time gets SEQUENCE 0 and LAST-MODIFIED ``now``. A UID whose
    fingerprint changed gets SEQUENCE + 1 and a LAST-MODIFIED at least one second after the
    previous one: iCalendar times have whole seconds, and a client compares the published
    values, so two edits within one second must still move it forward. Unchanged UIDs keep
    their entry. UIDs no longer published keep theirs too, so an event that comes back
    continues its sequence rather than restarting at 0.

    Args:
        ledger: where the entries live.
        fingerprints: UID -> fingerprint of every event to publish.
        now: the current time (aware).

    Returns:
        UID -> the entry to publish, for every UID in ``fingerprints``.
    """
    stamp = whole_seconds(now)
    known = ledger.get_many(fingerprints)
    result: dict[str, LedgerEntry] = {}
    changed: list[LedgerEntry] = []
    for uid, fingerprint in fingerprints.items():
        old = known.get(uid)
        if old is not None and old.fingerprint == fingerprint:
            result[uid] = old
            continue
        if old is None:
            entry = LedgerEntry(uid, fingerprint, 0, stamp)
        else:
            moved = max(stamp, whole_seconds(old.last_modified) + timedelta(seconds=1))
            entry = LedgerEntry(uid, fingerprint, old.sequence + 1, moved)
        result[uid] = entry
        changed.append(entry)
    ledger.put_many(changed)
    return result
