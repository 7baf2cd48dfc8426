"""The secret token in the feed URL, and the date the published schedule starts from.

Calendar clients cannot send credentials reliably, so the feed URL itself is the secret:
``/feeds/<token>.ics`` with 192 random bits (``secrets.token_urlsafe(24)``). The token is made on
first use and replaced by :meth:`FeedTokens.rotate`; the old URL stops working at once.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from datetime import date, datetime

from wearsync.calendar.ports import Settings
from wearsync.errors import InputError

TOKEN_KEY = "calendar.feed_token"
"""The setting that holds the current token."""

TOKEN_BYTES = 24
"""Random bytes in a token: 192 bits, 32 URL-safe characters."""

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,128}")
"""What a token can look like (anything else is rejected before any comparison)."""

_START_KEY = "calendar.start.{routine}"

FIRST_DAY_MIN = date(1970, 1, 1)
FIRST_DAY_MAX = date(2199, 12, 31)
"""The first days a schedule may have. Time-zone rules are worked out from the year before the
first day to years after it, which must stay inside what ``datetime`` and the zone database
describe (years 1 and 9999 overflow; tzdata says little before 1970)."""


class FeedTokens:
    """The feed token kept in a :class:`~wearsync.calendar.ports.Settings` store.

    Args:
        settings: where the token is kept.
        recheck_seconds: how long :meth:`matches` trusts the token it last read. A rotation
            through this object takes effect at once; one made by another process (``wearsync
            feed rotate`` while ``feed serve`` runs) within this time. Reading the store on
            every request would cost more than the rest of answering a 304.
    """

    def __init__(self, settings: Settings, *, recheck_seconds: float = 1.0) -> None:
        self._settings = settings
        self._recheck = recheck_seconds
        self._seen: tuple[float, str | None] | None = None

    def current(self) -> str:
        """The token, made and saved on first use."""
        token = self._settings.get_setting(TOKEN_KEY)
        if token is None or not TOKEN_PATTERN.fullmatch(token):
            token = self.rotate()
        return token

    def peek(self) -> str | None:
        """The token if one was made, without making one."""
        token = self._settings.get_setting(TOKEN_KEY)
        valid = token if token is not None and TOKEN_PATTERN.fullmatch(token) else None
        self._seen = (time.monotonic(), valid)
        return valid

    def rotate(self) -> str:
        """Replace the token with a new random one and return it."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self._settings.set_setting(TOKEN_KEY, token)
        self._seen = None
        return token

    def matches(self, candidate: str) -> bool:
        """Whether ``candidate`` is the current token, compared in constant time.

        Never makes a token: a server that has not published a URL yet accepts none.
        """
        seen = self._seen
        stale = seen is None or time.monotonic() - seen[0] >= self._recheck
        token = self.peek() if stale or seen is None else seen[1]
        if token is None or not TOKEN_PATTERN.fullmatch(candidate):
            return False
        return hmac.compare_digest(candidate.encode(), token.encode())


def parse_first_day(text: str, field: str) -> date:
    """A first day from text (``YYYY-MM-DD``), within :data:`FIRST_DAY_MIN`..:data:`FIRST_DAY_MAX`.

    Raises:
        InputError: ``text`` is not such a date; the message starts with ``field``.
    """
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InputError(f"{field}: {text!r} is not a date (YYYY-MM-DD)") from exc
    if not FIRST_DAY_MIN <= day <= FIRST_DAY_MAX:
        raise InputError(
            f"{field}: {day} is outside {FIRST_DAY_MIN}..{FIRST_DAY_MAX}",
            hint="pick a first day in that range",
        )
    return day


def schedule_start(settings: Settings, routine: str, today: date) -> date:
    """The date the routine's published recurrences start from, fixed on first use.

    An ``every 2 days`` rule needs a first day; keeping it in the settings means the same days
    are published on every export (re-anchoring on each export would move the events, and
    change every SEQUENCE, whenever the export runs on an "off" day).

    Args:
        settings: where the date is kept.
        routine: the routine's name.
        today: the date to fix if none is kept yet (today in the schedule's time zone).
    """
    key = _START_KEY.format(routine=routine)
    kept = settings.get_setting(key)
    if kept is not None:
        # A stored value is the user's choice: report it rather than replace it.
        try:
            return parse_first_day(kept, key)
        except InputError as exc:
            raise InputError(
                exc.message, hint=f"set it again: wearsync feed first-day YYYY-MM-DD -r {routine}"
            ) from exc
    settings.set_setting(key, today.isoformat())
    return today


def set_schedule_start(settings: Settings, routine: str, start: date | datetime) -> None:
    """Fix the date ``routine``'s published recurrences start from.

    Raises:
        InputError: the day is outside :data:`FIRST_DAY_MIN`..:data:`FIRST_DAY_MAX`.
    """
    day = start.date() if isinstance(start, datetime) else start
    parse_first_day(day.isoformat(), "first-day")
    settings.set_setting(_START_KEY.format(routine=routine), day.isoformat())
