"""The wearsync app as a Bangle.js App Loader folder.

The companion installs the same files itself on the first sync (the runtime and its boot
loader, :mod:`wearsync.watches.bangle.codec`); this folder lets a wearer install them from an
App Loader instead (the official one, or a local copy, given this folder under ``apps/``), after
which the first sync sends only the program. The App Loader reads ``metadata.json``: which
files go into Storage under which names, and which data files to remove on uninstall.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

from wearsync.watches.bangle.codec import (
    BOOT_FILE,
    BOOT_SOURCE,
    EVENTS_FILE,
    POINTER_FILE,
    REMINDER_FILE,
    RUNNER_FILE,
    RUNNER_VERSION,
    SESSION_FILE,
    STATE_FILE,
    runtime_source,
)

__all__ = ["APP_ID", "app_files", "export_app"]

APP_ID: Final = "wearsync"
_ICON_SIZE: Final = 48


def app_files() -> dict[str, bytes]:
    """Every file of the App Loader folder, by its name in the folder."""
    icon = _icon_bits()
    return {
        "metadata.json": _metadata().encode("ascii"),
        "runtime.js": runtime_source().encode("ascii"),
        "boot.js": BOOT_SOURCE.encode("ascii"),
        "app.js": _asset("app.js"),
        "settings.js": _asset("settings.js"),
        "app-icon.js": _espruino_image(icon).encode("ascii"),
        "app.png": _png(icon),
    }


def export_app(directory: Path) -> list[Path]:
    """Write the App Loader folder into ``directory`` (created if missing).

    Returns:
        The files written, in the order of :func:`app_files`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in app_files().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


def _metadata() -> str:
    meta = {
        "id": APP_ID,
        "name": "wearsync",
        "shortName": "wearsync",
        # The App Loader compares versions as dotted numbers; the runtime's is the minor part.
        "version": f"0.{RUNNER_VERSION:02d}",
        "description": "Interval timers for home exercise routines sent from the wearsync "
        "companion: the watch times every hold and rest, buzzes each cue, reminds you at the "
        "planned times (also from the clock face), and keeps what was done until the phone "
        "has stored it.",
        "icon": "app.png",
        "type": "app",
        "tags": "tool,health,outdoors",
        "supports": ["BANGLEJS2"],
        "allow_emulator": True,
        "storage": [
            {"name": f"{APP_ID}.app.js", "url": "app.js"},
            {"name": RUNNER_FILE, "url": "runtime.js"},
            {"name": BOOT_FILE, "url": "boot.js"},
            {"name": f"{APP_ID}.settings.js", "url": "settings.js"},
            {"name": f"{APP_ID}.img", "url": "app-icon.js", "evaluate": True},
        ],
        "data": [
            {"name": EVENTS_FILE, "storageFile": True},
            {"name": STATE_FILE},
            {"name": POINTER_FILE},
            {"name": REMINDER_FILE},
            {"name": SESSION_FILE},
            {"wildcard": f"{APP_ID}.p?"},
        ],
    }
    return json.dumps(meta, indent=2) + "\n"


def _asset(name: str) -> bytes:
    return resources.files(__package__).joinpath("app", name).read_bytes()


@cache
def _icon_bits() -> tuple[tuple[bool, ...], ...]:
    """A stopwatch: a ring, a crown and one hand, drawn from geometry (no image file to ship)."""
    size = _ICON_SIZE
    centre, radius = (size - 1) / 2, 19.0
    rows = []
    for y in range(size):
        row = []
        for x in range(size):
            dx, dy = x - centre, y - centre - 2
            d = (dx * dx + dy * dy) ** 0.5
            ring = radius - 3.5 <= d <= radius
            crown = abs(dx) <= 3 and -radius - 6 <= dy <= -radius
            hand = abs(dx) <= 1.5 and -radius + 6 <= dy <= 0
            hub = d <= 3
            row.append(ring or crown or hand or hub)
        rows.append(tuple(row))
    return tuple(rows)


def _espruino_image(bits: tuple[tuple[bool, ...], ...]) -> str:
    """``bits`` as an Espruino image string expression: width, height, 1 bpp, then the pixels
    row by row, most significant bit first."""
    height, width = len(bits), len(bits[0])
    flat = [pixel for row in bits for pixel in row]
    packed = bytearray([width, height, 1])
    for i in range(0, len(flat), 8):
        byte = 0
        for pixel in flat[i : i + 8]:
            byte = (byte << 1) | pixel
        packed.append(byte << (8 - len(flat[i : i + 8])))
    return f'atob("{base64.b64encode(bytes(packed)).decode("ascii")}")'


def _png(bits: tuple[tuple[bool, ...], ...]) -> bytes:
    """``bits`` as an 8-bit greyscale PNG (black on white), for the App Loader's listing."""
    raw = b"".join(b"\x00" + bytes(0 if p else 255 for p in row) for row in bits)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", len(bits[0]), len(bits), 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
