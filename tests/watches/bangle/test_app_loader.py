"""The App Loader folder: what ``export_app`` writes and what ``metadata.json`` promises."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from pathlib import Path

from wearsync.watches.bangle.app_loader import APP_ID, app_files, export_app
from wearsync.watches.bangle.codec import (
    BOOT_FILE,
    BOOT_SOURCE,
    DATA_FILE,
    REMINDER_FILE,
    RUNNER_FILE,
    SESSION_FILE,
    runtime_source,
)


def test_export_writes_every_file(tmp_path: Path) -> None:
    written = export_app(tmp_path / "wearsync")
    assert {p.name for p in written} == set(app_files())
    assert all(p.read_bytes() == app_files()[p.name] for p in written)


def test_metadata_names_files_that_exist_under_storage_names_that_fit() -> None:
    files = app_files()
    meta = json.loads(files["metadata.json"])
    assert meta["id"] == APP_ID and meta["supports"] == ["BANGLEJS2"]
    assert meta["icon"] in files
    storage = {entry["name"]: entry["url"] for entry in meta["storage"]}
    assert all(url in files for url in storage.values())
    assert all(len(name) <= 28 for name in storage)  # Espruino's Storage name limit
    assert files[storage[RUNNER_FILE]].decode() == runtime_source()
    assert files[storage[BOOT_FILE]].decode() == BOOT_SOURCE
    assert re.fullmatch(r"\d+\.\d+", meta["version"])


def test_uninstall_removes_every_file_the_runtime_writes() -> None:
    """The App Loader removes what ``data`` lists: every Storage name the runtime uses that
    is not one of the app's own files (the program slots through the wildcard)."""
    meta = json.loads(app_files()["metadata.json"])
    used = set(re.findall(r"'(wearsync\.[a-z0-9]+)'", runtime_source())) - {DATA_FILE}
    assert {REMINDER_FILE, SESSION_FILE, "wearsync.p0", "wearsync.p1"} <= used
    owned = {e["name"] for e in meta["storage"]} | {e["name"] for e in meta["data"] if "name" in e}
    patterns = [
        e["wildcard"].replace(".", r"\.").replace("?", ".") for e in meta["data"] if "wildcard" in e
    ]
    left = {n for n in used - owned if not any(re.fullmatch(p, n) for p in patterns)}
    assert left == set()


def test_watch_icon_is_a_48_pixel_one_bit_image() -> None:
    text = app_files()["app-icon.js"].decode()
    match = re.fullmatch(r'atob\("([A-Za-z0-9+/=]+)"\)', text)
    assert match
    image = base64.b64decode(match[1])
    assert image[:3] == bytes([48, 48, 1]) and len(image) == 3 + 48 * 48 // 8
    assert any(image[3:]) and not all(b == 255 for b in image[3:])


def test_listing_icon_is_a_png_of_the_same_picture() -> None:
    png = app_files()["app.png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", png[8:16])
    width, height = struct.unpack(">II", png[16:24])
    assert (kind, width, height) == (b"IHDR", 48, 48)
    idat = png.index(b"IDAT")
    (size,) = struct.unpack(">I", png[idat - 4 : idat])
    raw = zlib.decompress(png[idat + 4 : idat + 4 + size])
    assert len(raw) == 48 * (48 + 1)
    assert length == 13
