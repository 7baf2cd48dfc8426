"""The registry: every shipped profile names a registered family, each family builds its driver
from the profile's own settings, and every family's simulators are reachable by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from wearsync.profiles import DeviceProfile, ProfileError, load_profiles, parse_profile
from wearsync.sync.driver import Driver
from wearsync.watches import registry
from wearsync.watches.bangle.driver import BangleDriver, EspruinoSettings
from wearsync.watches.host_timed.driver import HostTimedDriver
from wearsync.watches.wearsync_timer.driver import TimerDriver

SHIPPED = load_profiles()


@pytest.mark.parametrize("profile", SHIPPED, ids=lambda p: p.id)
def test_every_shipped_profile_names_a_registered_driver(profile: DeviceProfile) -> None:
    driver = registry.driver_for(profile)
    assert isinstance(driver, Driver)
    assert driver.name == profile.driver.name
    assert registry.family_of(profile).driver_name == profile.driver.name


def test_each_driver_gets_its_profiles_settings() -> None:
    by_id = {p.id: registry.driver_for(p) for p in SHIPPED}
    assert isinstance(by_id["wearsync-timer"], TimerDriver)
    assert isinstance(by_id["infinitime"], HostTimedDriver)
    bangle = by_id["bangle-js-2"]
    assert isinstance(bangle, BangleDriver)
    assert isinstance(bangle.settings, EspruinoSettings)
    assert bangle.settings.app_id == "wearsync"


def test_family_names_are_unique_and_simulators_cover_every_family() -> None:
    names = [family.driver_name for family in registry.FAMILIES]
    assert len(names) == len(set(names))
    sims = registry.simulators()
    assert {"wearsync-timer", "bangle-js-2", "infinitime", "immediate-alert"} <= set(sims)
    assert all(family.simulators for family in registry.FAMILIES)


def test_a_family_rejects_a_bad_driver_table_on_one_line(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "profiles" / "bangle-js-2.toml").read_text()
    bad = parse_profile(text.replace('app_id = "wearsync"', 'app_id = "NOT VALID!"'), "b.toml")
    with pytest.raises(ProfileError) as caught:
        registry.driver_for(bad)
    assert caught.value.field == "driver.app_id"
    assert "\n" not in caught.value.message


def test_an_unknown_driver_is_a_profile_error(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "profiles" / "wearsync-timer.toml").read_text()
    (tmp_path / "wearsync-timer.toml").write_text(
        text.replace('name = "wearsync-timer"\nprotocol_version', 'name = "pager"\nprotocol')
    )
    with pytest.raises(registry.UnsupportedDriverError) as caught:
        registry.load_profiles(tmp_path)
    assert "unknown driver 'pager'" in caught.value.message
    assert "wearsync-timer" in caught.value.message
