"""Device profiles: the shipped one loads, other driver shapes fit, bad files fail on one line."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from wearsync.errors import InputError
from wearsync.profiles import (
    DeviceProfile,
    ProfileError,
    default_profiles_dir,
    load_profile,
    load_profiles,
    match_profile,
    parse_profile,
)
from wearsync.watches import registry
from wearsync.watches.bangle.driver import BangleDriver
from wearsync.watches.host_timed.driver import HostTimedDriver
from wearsync.watches.wearsync_timer.codec.uuids import TIMER_SERVICE
from wearsync.watches.wearsync_timer.driver import TimerDriver

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "profiles" / "wearsync-timer.toml"

# Shapes a later issue ships as files; here they prove the format fits them unchanged.
BANGLE = """
format = 1
id = "bangle-js-2"
name = "Bangle.js 2"
description = "Espruino watch; runs the timer as an uploaded app and prints events as JSON lines."

[match]
local_name = '^Bangle\\.js [0-9a-f]{4}$'
service_uuids = ["6e400001-b5a3-f393-e0a9-e50e24dcca9e"]

[driver]
name = "espruino-uart"
app_id = "wsync"
requires_programmable = false

[limits]
max_program_bytes = 8192
event_log_size = 500
preferred_mtu = 131

[security]
bonding = "optional"
"""

PINETIME = """
format = 1
id = "pinetime"
name = "PineTime (InfiniTime)"

[match]
local_name = "^InfiniTime$"

[driver]
name = "host-timed"
alert = "alert-notification"
alert_level = "high"
set_clock = true

[limits]
preferred_mtu = 23

[security]
bonding = "optional"
"""


def shipped(profile_id: str) -> DeviceProfile:
    return next(p for p in load_profiles() if p.id == profile_id)


def test_the_shipped_profile_loads() -> None:
    profile = shipped("wearsync-timer")
    assert isinstance(registry.driver_for(profile), TimerDriver)
    assert profile.match.service_uuids == (str(TIMER_SERVICE),)
    assert profile.limits.max_program_bytes == 4096 and profile.limits.preferred_mtu == 247
    assert profile.security.bonding == "required"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is needed to build the wheel")
def test_the_wheel_carries_the_one_copy_of_the_profiles(tmp_path: Path) -> None:
    """profiles/ is the only copy; the build configuration packages it into the wheel."""
    subprocess.run(
        ["uv", "build", "--wheel", "--quiet", "--out-dir", str(tmp_path)],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("wearsync-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            Path(n).name: archive.read(n)
            for n in archive.namelist()
            if n.startswith("wearsync/_profiles/") and n.endswith(".toml")
        }
    shipped_files = {p.name: p.read_bytes() for p in (ROOT / "profiles").glob("*.toml")}
    assert packaged == shipped_files
    assert default_profiles_dir() == ROOT / "profiles"
    assert not (ROOT / "wearsync" / "builtin_profiles").exists()


def test_the_other_driver_shapes_validate() -> None:
    bangle = parse_profile(BANGLE, "bangle-js-2.toml")
    bangle_driver = registry.driver_for(bangle)
    assert isinstance(bangle_driver, BangleDriver) and bangle_driver.settings.app_id == "wsync"
    assert bangle.limits.preferred_mtu == 131
    pinetime = parse_profile(PINETIME, "pinetime.toml")
    assert isinstance(registry.driver_for(pinetime), HostTimedDriver)
    assert pinetime.limits.max_program_bytes is None and pinetime.limits.event_log_size == 0


@pytest.fixture
def all_profiles() -> list[DeviceProfile]:
    # The fixtures stand beside the wearsync-timer file only, whatever else profiles/ ships.
    return [shipped("wearsync-timer"), parse_profile(BANGLE), parse_profile(PINETIME)]


@pytest.mark.parametrize(
    ("name", "uuids", "expected"),
    [
        ("My watch", [str(TIMER_SERVICE).upper()], "wearsync-timer"),
        (None, [TIMER_SERVICE], "wearsync-timer"),
        ("Bangle.js 1a2b", ["6e400001-b5a3-f393-e0a9-e50e24dcca9e"], "bangle-js-2"),
        ("Bangle.js 1a2b", [], None),  # every criterion must hold
        ("Some UART gadget", ["6e400001-b5a3-f393-e0a9-e50e24dcca9e"], None),
        ("InfiniTime", ["1805", "not-a-uuid"], "pinetime"),
        ("InfiniTime-2", [], None),
        (None, [], None),
    ],
)
def test_match_profile(
    all_profiles: list[DeviceProfile], name: str | None, uuids: list[object], expected: str | None
) -> None:
    found = match_profile(name, uuids, all_profiles)  # type: ignore[arg-type]
    assert (found.id if found else None) == expected


def test_the_more_specific_profile_wins() -> None:
    loose = parse_profile(
        PINETIME.replace('"^InfiniTime$"', '"^Bangle"').replace("pinetime", "loose")
    )
    bangle = parse_profile(BANGLE)
    seen = ("Bangle.js 1a2b", ["6e400001-b5a3-f393-e0a9-e50e24dcca9e"])
    assert match_profile(*seen, [loose, bangle]) is bangle
    assert match_profile("Bangle.js 1a2b", [], [loose, bangle]) is loose


BASE = SHIPPED.read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            BASE.replace("[limits]", '[limits]\ncolour = "red"'),
            "bad.toml: limits.colour: unknown field",
        ),
        (
            BASE.replace("[match]", '[match]\nlocal_name = "^(Wear"'),
            "bad.toml: match.local_name: invalid regular expression '^(Wear': "
            "missing ), unterminated subpattern at position 1",
        ),
        (
            BASE.replace('service_uuids = ["', 'service_uuids = ["zz-top", "'),
            "bad.toml: match.service_uuids[0]: not a Bluetooth UUID: 'zz-top'",
        ),
        (
            BASE.replace('name = "wearsync-timer"\nprotocol', 'name = "suunto-fit"\nprotocol'),
            "bad.toml: driver.name: unknown driver 'suunto-fit' "
            "(known drivers: espruino-uart, garmin-fit, host-timed, wearsync-timer)",
        ),
        (
            BASE.replace("preferred_mtu = 247", "preferred_mtu = 600"),
            "bad.toml: limits.preferred_mtu: must be at most 517 (got 600)",
        ),
        (
            BASE.replace('bonding = "required"', 'bonding = "none"'),
            "bad.toml: security.bonding: the wearsync-timer service needs an encrypted link; "
            "set it to 'required'",
        ),
        (
            PINETIME.replace("[limits]", "[limits]\nevent_log_size = 10"),
            "bad.toml: limits: a host-timed device stores no program and no events; "
            "leave out max_program_bytes and event_log_size",
        ),
        (
            BASE.replace("[match]\n", "[match]\nservice_uuids = []\n", 1).replace(
                'service_uuids = ["084b0001-0964-4b08-85d9-6f66f2b35e60"]\n', ""
            ),
            "bad.toml: match: give local_name, service_uuids or both",
        ),
    ],
    ids=[
        "unknown field",
        "bad regex",
        "bad uuid",
        "unknown driver",
        "out of range",
        "driver needs bonding",
        "host-timed stores nothing",
        "no criterion",
    ],
)
def test_bad_profiles_fail_on_one_line(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        profile = parse_profile(text, "bad.toml")
        registry.family_of(profile, "bad.toml").driver_for(profile, "bad.toml")
    error = caught.value
    assert isinstance(error, InputError) and error.exit_code == 2
    assert str(error) == message
    assert "\n" not in str(error)


def test_a_bad_file_is_named_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "wearsync-timer.toml").write_text(BASE)
    (tmp_path / "zz-broken.toml").write_text(
        BASE.replace('id = "wearsync-timer"', 'id = "zz-broken"') + "\n[[["
    )
    with pytest.raises(ProfileError) as caught:
        load_profiles(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'zz-broken.toml'}:")
    assert "invalid TOML" in str(caught.value)


def test_the_id_must_be_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text(BASE)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert caught.value.field == "id" and "differs from the file name" in caught.value.problem


def test_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="profile directory not found"):
        load_profiles(tmp_path / "nowhere")


def test_short_sig_uuids_are_expanded() -> None:
    profile = parse_profile(
        PINETIME.replace('local_name = "^InfiniTime$"', 'service_uuids = ["0x1802"]')
    )
    assert profile.match.service_uuids == ("00001802-0000-1000-8000-00805f9b34fb",)


@pytest.mark.parametrize("where", ["/dev/zero", "padded"])
def test_a_profile_file_is_read_only_up_to_1_mib(tmp_path: Path, where: str) -> None:
    path = Path(where) if where.startswith("/") else tmp_path / "wearsync-timer.toml"
    if not where.startswith("/"):
        path.write_text(BASE + "#" * (1 << 20))
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value) == f"{path}: is larger than 1 MiB; a profile file is a few kilobytes"
