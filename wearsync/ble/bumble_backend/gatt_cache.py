"""The GATT layouts of bonded peers, kept in memory and, for a named transport, in a file.

A layout is used only while the peer's Database Hash is unchanged (the client checks it on
every bonded connection), so a file that is stale, from an older firmware or damaged costs at
most one discovery: it is never trusted blindly. The file (``gatt_cache.json`` beside the
bonds, owner-only like them) lets ``wearsync sync`` run in a new process skip discovery too.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from wearsync.ble.bumble_backend.gatt import (
    CachedCharacteristic,
    CachedDescriptor,
    CachedService,
    GattLayout,
)

logger = logging.getLogger(__name__)

#: A cache key: the peer's address (upper case) and the sorted service filter.
CacheKey = tuple[str, tuple[str, ...]]
#: Bumps when the file's shape changes; another version is ignored (and rewritten).
FORMAT = 1
#: Peers kept at most (bonds are few; this bounds a file someone else made huge).
MAX_PEERS = 64
#: A larger file is not read (64 peers of a few hundred attributes stay far below).
MAX_FILE_BYTES = 1 << 20


def _layout_to_json(layout: GattLayout) -> dict[str, Any]:
    return {
        "hash": layout.database_hash.hex(),
        "services": [
            [
                s.handle,
                s.end_group_handle,
                s.uuid.hex(),
                [
                    [
                        c.handle,
                        c.end_group_handle,
                        c.uuid.hex(),
                        c.properties,
                        [[d.handle, d.type.hex()] for d in c.descriptors],
                    ]
                    for c in s.characteristics
                ],
            ]
            for s in layout.services
        ],
    }


def _handle(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 0xFFFF:
        raise ValueError(f"not an attribute handle: {value!r}")
    return value


def _uuid(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"not a UUID: {value!r}")
    raw = bytes.fromhex(value)
    if len(raw) not in (2, 4, 16):
        raise ValueError(f"not a UUID: {value!r}")
    return raw


def _layout_from_json(data: Any) -> GattLayout:
    """Raises ValueError, TypeError or KeyError on anything but a layout this module wrote."""
    database_hash = bytes.fromhex(data["hash"])
    if len(database_hash) != 16:
        raise ValueError("not a 16-byte database hash")
    services = []
    for handle, end, uuid, characteristics in data["services"]:
        chars = []
        for c_handle, c_end, c_uuid, properties, descriptors in characteristics:
            if not isinstance(properties, int) or not 0 <= properties <= 0xFF:
                raise ValueError(f"not characteristic properties: {properties!r}")
            chars.append(
                CachedCharacteristic(
                    _handle(c_handle),
                    _handle(c_end),
                    _uuid(c_uuid),
                    properties,
                    tuple(CachedDescriptor(_handle(h), _uuid(t)) for h, t in descriptors),
                )
            )
        services.append(CachedService(_handle(handle), _handle(end), _uuid(uuid), tuple(chars)))
    return GattLayout(database_hash, tuple(services))


class GattCache:
    """Validated GATT layouts by (peer address, service filter); see the module docstring.

    Args:
        path: the file to keep them in, or ``None`` for memory only (an in-process link).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._layouts: dict[CacheKey, GattLayout] = {}
        if path is not None:
            self._layouts = self._load(path)

    def get(self, key: CacheKey) -> GattLayout | None:
        """The layout cached for ``key``, if any."""
        return self._layouts.get(key)

    def put(self, key: CacheKey, layout: GattLayout) -> None:
        """Cache (and save) a layout whose hash was just read after a full discovery."""
        if self._layouts.get(key) == layout:
            return
        self._layouts[key] = layout
        if len(self._layouts) > MAX_PEERS:
            del self._layouts[next(iter(self._layouts))]
        self._save()

    def pop(self, key: CacheKey) -> None:
        """Forget ``key``'s layout (its database changed, or it serves no hash)."""
        if self._layouts.pop(key, None) is not None:
            self._save()

    def __contains__(self, key: object) -> bool:
        return key in self._layouts

    @staticmethod
    def _load(path: Path) -> dict[CacheKey, GattLayout]:
        from wearsync.paths import tighten

        tighten(path)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.warning("ignoring the GATT cache %s: %s", path, exc)
            return {}
        layouts: dict[CacheKey, GattLayout] = {}
        try:
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("another format")
            for entry in data["peers"][:MAX_PEERS]:
                address, services = entry["address"], entry["filter"]
                if not isinstance(address, str) or not all(isinstance(s, str) for s in services):
                    raise ValueError("not a peer entry")
                key = (address.upper(), tuple(sorted(services)))
                layouts[key] = _layout_from_json(entry["layout"])
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("ignoring the GATT cache %s: %s", path, exc)
            return {}
        return layouts

    def _save(self) -> None:
        if self.path is None:
            return
        from wearsync.paths import write_private_text

        text = json.dumps(
            {
                "format": FORMAT,
                "peers": [
                    {"address": address, "filter": list(services), "layout": _layout_to_json(v)}
                    for (address, services), v in self._layouts.items()
                ],
            }
        )
        try:
            write_private_text(self.path, text)
        except OSError as exc:  # the cache is an optimisation: a sync goes on without it
            logger.warning("cannot save the GATT cache %s: %s", self.path, exc)
