"""Subprocess for the two-process tests: the HCI server plus the test peripheral.

Run as ``python -m tests.ble.sim_server`` from the project root. Prints
``READY <hci-spec> <address>`` once serving and runs until its stdin closes.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from tests.ble.ble_testdb import NAME, SERVICE, DemoDb
from wearsync.sim.hci_server import HciServer
from wearsync.sim.link import VirtualLink
from wearsync.sim.peripheral import start_peripheral


async def main() -> None:
    link = VirtualLink()
    async with HciServer(link, port=0) as server:
        watch = await start_peripheral(
            link, name=NAME, services=[DemoDb().service], service_uuids=[SERVICE]
        )
        sys.stdout.write(f"READY {server.hci_spec} {watch.address}\n")
        sys.stdout.flush()
        # Serve until the parent closes our stdin (or dies).
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await watch.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
