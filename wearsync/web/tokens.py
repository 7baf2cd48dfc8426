"""The secret token in the pages' URL (``/web/<token>/``), kept apart from the feed's.

The same kind of token as the feed's (:class:`wearsync.calendar.tokens.FeedTokens`: 192 random
bits, made on first use, rotated at once, compared in constant time), stored under its own
setting, so sharing the pages with a physiotherapist and revoking them later leaves the
calendar subscription alone, and the other way round.
"""

from __future__ import annotations

from wearsync.calendar.ports import Settings
from wearsync.calendar.tokens import TOKEN_KEY, FeedTokens

PAGE_TOKEN_KEY = "web.page_token"
"""The setting that holds the pages' token."""


class _PageSetting:
    """The settings with the feed token's key read and written as :data:`PAGE_TOKEN_KEY`."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def get_setting(self, key: str) -> str | None:
        return self._settings.get_setting(PAGE_TOKEN_KEY if key == TOKEN_KEY else key)

    def set_setting(self, key: str, value: str) -> None:
        self._settings.set_setting(PAGE_TOKEN_KEY if key == TOKEN_KEY else key, value)


def page_tokens(settings: Settings, *, recheck_seconds: float = 1.0) -> FeedTokens:
    """The pages' token in ``settings`` (``current()``, ``rotate()``, ``matches()``).

    Args:
        settings: where the token is kept (the store).
        recheck_seconds: as for :class:`~wearsync.calendar.tokens.FeedTokens`.
    """
    return FeedTokens(_PageSetting(settings), recheck_seconds=recheck_seconds)
