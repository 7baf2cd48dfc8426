"""Event UIDs: what an event stands for, never when, in characters every client accepts.

A UID is ``<kind>-<readable parts>-<digest>@wearsync.invalid``. The local part uses only
``[A-Za-z0-9-]``: vdirsyncer, khal and CalDAV servers turn UIDs into file names and URLs, where
``/`` and ``:`` (a watch's address, in a session's key) break them. The readable parts are the
routine, the exercise, the slot or the session's key with every other character turned into
``-``; the digest (SHA-256 of the kind and the parts as given, 10 hex digits) keeps two events
whose readable parts coincide apart. ``.invalid`` is reserved (RFC 2606), so a UID never
collides with a real domain's.

These rules are frozen: a UID must not change between versions, or every client sees each
event removed and added again. (The first scheme, ``routine.<name>.<slot>@...``, is carried
over by the store's migration 3, which renames the revision ledger's entries.)
"""

from __future__ import annotations

import hashlib
import re

UID_DOMAIN = "wearsync.invalid"

_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


def make_uid(kind: str, *parts: str) -> str:
    """The UID of the event of ``kind`` named by ``parts``."""
    digest = hashlib.sha256("\x1f".join((kind, *parts)).encode()).hexdigest()[:10]
    readable = "-".join(_UNSAFE.sub("-", p).strip("-") or "x" for p in (kind, *parts))
    return f"{readable}-{digest}@{UID_DOMAIN}"


def routine_uid(routine: str, slot: int) -> str:
    """The whole routine at its ``slot``-th time of day."""
    return make_uid("routine", routine, str(slot))


def exercise_uid(routine: str, exercise: str, slot: int, *, day: int = 0) -> str:
    """One exercise done several times a day, at its ``slot``-th daily time.

    ``day`` k > 0 names the event of a slot the routine stands for on routine days, which
    recurs on the k-th day of each routine interval; k = 1 keeps the UID of the daily event the
    slot had before (so that clients see an edit of it), later days get their own.
    """
    if day > 1:
        return make_uid("exercise", routine, exercise, str(slot), f"day{day}")
    return make_uid("exercise", routine, exercise, str(slot))


def session_uid(key: str) -> str:
    """A stored session, by its key (``<device>/<boot id>/<seq>``)."""
    return make_uid("session", key)


def summary_uid(routine: str, period: str) -> str:
    """The summary of a month (``2025-03``) or a year (``2014``) of sessions."""
    return make_uid("summary", routine, period)


def calendar_uid(routine: str, view: str, history: str) -> str:
    """The ledger's entry for a whole calendar (not published as a property)."""
    return make_uid("calendar", routine, view, history)
