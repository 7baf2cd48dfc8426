"""The CLI picks a driver from the profile: every driver's sync and session functions are
registered, and take what the timer-service ones take."""

from __future__ import annotations

import inspect

import pytest

from wearsync.profiles import load_profiles
from wearsync.sync.drivers import DRIVERS, session_function, sync_function
from wearsync.watches.wearsync_timer.driver import sync_watch
from wearsync.watches.wearsync_timer.live import run_session


@pytest.mark.parametrize("profile", load_profiles(), ids=lambda p: p.id)
def test_every_shipped_profile_has_a_driver(profile: object) -> None:
    name = profile.driver.name  # type: ignore[attr-defined]
    assert name in DRIVERS
    assert inspect.iscoroutinefunction(sync_function(name))
    assert inspect.iscoroutinefunction(session_function(name))


@pytest.mark.parametrize("driver", ["espruino-uart", "host-timed"])
def test_signatures_match_the_timer_service_ones(driver: str) -> None:
    def keywords(function: object) -> set[str]:
        assert callable(function)
        return {
            name
            for name, p in inspect.signature(function).parameters.items()
            if p.kind is p.KEYWORD_ONLY
        }

    assert keywords(sync_function(driver)) >= keywords(sync_watch)
    assert keywords(session_function(driver)) >= keywords(run_session)
    assert "speed" in keywords(session_function(driver))
