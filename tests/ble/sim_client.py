"""Subprocess for the two-process tests: a bleak client that connects and then hangs on.

Run as ``python -m tests.ble.sim_client HCI ADDRESS``. Prints ``CONNECTED`` once it has read a
characteristic, then waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys

from bleak import BleakClient

from tests.ble.ble_testdb import CHAR_RW
from wearsync.ble.bumble_backend import BumbleBleakClient


async def main(hci: str, address: str) -> None:
    client = BleakClient(address, backend=BumbleBleakClient, hci=hci, timeout=5.0)
    await client.connect()
    await client.read_gatt_char(CHAR_RW)
    sys.stdout.write("CONNECTED\n")
    sys.stdout.flush()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
