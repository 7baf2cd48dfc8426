"""The GATT cache file (``gatt_cache.json``): what one process saves the next one reads, and a
damaged or foreign file costs a discovery, never a crash."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from wearsync.ble.bumble_backend.gatt import (
    CachedCharacteristic,
    CachedDescriptor,
    CachedService,
    GattLayout,
)
from wearsync.ble.bumble_backend.gatt_cache import GattCache

KEY = ("F0:00:00:00:00:01", ())
LAYOUT = GattLayout(
    bytes(range(16)),
    (
        CachedService(
            1,
            9,
            bytes.fromhex("0118"),
            (
                CachedCharacteristic(
                    3, 4, bytes.fromhex("2a2b"), 0x1A, (CachedDescriptor(4, bytes.fromhex("0229")),)
                ),
            ),
        ),
    ),
)


def test_a_saved_layout_is_read_back_by_a_new_cache(tmp_path: Path) -> None:
    path = tmp_path / "gatt_cache.json"
    GattCache(path).put(KEY, LAYOUT)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert GattCache(path).get(KEY) == LAYOUT
    GattCache(path).pop(KEY)
    assert GattCache(path).get(KEY) is None


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        json.dumps({"format": 99, "peers": []}),
        json.dumps({"format": 1, "peers": [{"address": "A", "filter": [], "layout": {}}]}),
        json.dumps(
            {
                "format": 1,
                "peers": [
                    {
                        "address": "A",
                        "filter": [],
                        "layout": {"hash": "00" * 16, "services": [[0, 2, "0018", []]]},
                    }
                ],
            }
        ),
    ],
)
def test_a_damaged_file_is_ignored_and_replaced(tmp_path: Path, text: str) -> None:
    path = tmp_path / "gatt_cache.json"
    path.write_text(text)
    cache = GattCache(path)
    assert cache.get(("A", ())) is None
    cache.put(KEY, LAYOUT)
    assert GattCache(path).get(KEY) == LAYOUT


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    valid = tmp_path / "valid.json"
    GattCache(valid).put(KEY, LAYOUT)
    path = tmp_path / "gatt_cache.json"
    path.write_text(" " * (1 << 20) + valid.read_text())  # valid JSON, past the bound
    assert GattCache(valid).get(KEY) == LAYOUT
    assert GattCache(path).get(KEY) is None
