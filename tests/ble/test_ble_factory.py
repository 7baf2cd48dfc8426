"""Backend choice, import cost and the translation of bleak errors into wearsync errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError

from tests.ble.ble_testdb import CHAR_RW, CHAR_SECRET
from wearsync.ble import (
    BackendUnavailableError,
    BleError,
    ConnectTimeoutError,
    DeviceNotFoundError,
    GattError,
    LinkLostError,
    ble_errors,
    from_bleak,
    make_client,
    make_scanner,
    resolve_hci,
)
from wearsync.ble.bumble_backend import (
    BumbleBleakClient,
    BumbleBleakScanner,
    BumbleLinkLostError,
    BumbleTimeoutError,
    BumbleTransportError,
)
from wearsync.errors import WearSyncError
from wearsync.sim.link import VirtualLink
from wearsync.sim.peripheral import Peripheral


def test_importing_wearsync_ble_loads_neither_bleak_nor_bumble() -> None:
    code = (
        "import sys, wearsync.ble;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'bleak', 'bumble'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_resolve_hci_prefers_argument_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEARSYNC_HCI", raising=False)
    assert resolve_hci() is None
    monkeypatch.setenv("WEARSYNC_HCI", "tcp-client:127.0.0.1:1234")
    assert resolve_hci() == "tcp-client:127.0.0.1:1234"
    assert resolve_hci("usb:0") == "usb:0"
    monkeypatch.setenv("WEARSYNC_HCI", "")
    assert resolve_hci() is None


def test_factory_picks_the_bumble_backend_for_an_hci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEARSYNC_HCI", "tcp-client:127.0.0.1:1")
    assert make_scanner().backend_id == BumbleBleakScanner.__name__
    assert make_client("C0:00:00:00:00:01").backend_id == BumbleBleakClient.__name__


async def test_factory_client_on_a_virtual_link(link: VirtualLink, watch: Peripheral) -> None:
    async with make_client(watch.address, hci=link, mtu=100) as client:
        assert client.mtu_size == 100
        assert await client.read_gatt_char(CHAR_RW) == b"hello"
        with pytest.raises(GattError) as caught, ble_errors(address=watch.address):
            await client.read_gatt_char(CHAR_SECRET)
        assert caught.value.code == 0x0F and caught.value.hint


async def test_unreachable_hci_server_is_a_transport_error() -> None:
    client = make_client("C0:00:00:00:00:01", hci="tcp-client:127.0.0.1:9", timeout=1.0)
    with pytest.raises(BumbleTransportError):
        await client.connect()
    with pytest.raises(BackendUnavailableError), ble_errors(operation="connect"):
        await make_client("C0:00:00:00:00:01", hci="tcp-client:127.0.0.1:9").connect()


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (BleakDeviceNotFoundError("AA", "gone"), DeviceNotFoundError),
        (BumbleTimeoutError("connect", 2.0), ConnectTimeoutError),
        (TimeoutError(), ConnectTimeoutError),
        (BumbleLinkLostError("read", 0x08), LinkLostError),
        (BleakGATTProtocolError(0x0F), GattError),
        (BumbleTransportError("usb:0", "no device"), BackendUnavailableError),
        (BleakError("odd"), BleError),
    ],
)
def test_from_bleak(exc: BaseException, expected: type[BleError]) -> None:
    translated = from_bleak(exc, address="AA", operation="connect")
    assert type(translated) is expected
    assert isinstance(translated, WearSyncError) and translated.hint


def test_from_bleak_leaves_other_errors_alone() -> None:
    assert from_bleak(ValueError("x")) is None
    with pytest.raises(ValueError), ble_errors():
        raise ValueError("x")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="BlueZ's options")
def test_a_passive_scanner_on_bluez_gets_the_advertisement_monitor_patterns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bleak's BlueZ backend refuses a passive scan without ``or_patterns`` when the scanner
    is made (no D-Bus needed yet); the facade supplies them."""
    monkeypatch.delenv("WEARSYNC_HCI", raising=False)
    from bleak import BleakScanner

    with pytest.raises(BleakError, match="or_patterns"):
        BleakScanner(None, None, "passive")
    make_scanner(scanning_mode="passive")  # no error: the patterns were passed


def test_passive_scanning_falls_back_to_active_where_the_platform_has_none() -> None:
    from wearsync.ble.factory import passive_platform_options

    assert passive_platform_options("darwin") is None  # CoreBluetooth: active instead
    assert passive_platform_options("win32") == {}  # WinRT takes the mode as it is
    patterns = passive_platform_options("linux")
    assert patterns is not None and {
        p.content_of_pattern for p in patterns["bluez"]["or_patterns"]
    } == {
        b"\x01",
        b"\x02",
        b"\x05",
        b"\x06",
    }
