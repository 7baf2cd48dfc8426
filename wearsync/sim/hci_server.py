"""Serve HCI over TCP on loopback: one virtual controller per client, on one shared link.

A client process opens ``tcp-client:127.0.0.1:PORT`` (for bleak: ``hci=`` of the bumble
backend) and gets a controller of its own on the server's :class:`VirtualLink`, next to the
simulated watch. When the client goes away, cleanly or by ``kill -9``, its controller leaves
the link and every connection it had is dropped as a link loss, so the watch advertises again
and the next run starts clean.

Run standalone (the link then has no peripheral; attach one in-process with
:func:`~wearsync.sim.peripheral.start_peripheral`)::

    python -m wearsync.sim.hci_server --port 0 [--connection-event-ms 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from bumble.transport.common import PacketParser

from wearsync.sim.link import LinkController, VirtualLink

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


class _ClientSession(asyncio.Protocol):
    """One TCP client: H4 bytes in to its controller, controller's packets out to the socket."""

    def __init__(self, server: HciServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.controller: LinkController | None = None
        self.parser: PacketParser | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.controller = self.server.link.new_controller(f"tcp{peer[1] if peer else ''}")
        self.controller.host = self
        self.parser = PacketParser(self.controller)
        self.server.sessions.add(self)
        logger.info("HCI client %s attached as %s", peer, self.controller.name)

    def data_received(self, data: bytes) -> None:
        assert self.parser is not None
        try:
            self.parser.feed_data(data)
        except Exception:
            logger.exception("bad HCI data from client; dropping it")
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        # Also reached when the client process is killed: the kernel closes its socket.
        logger.info("HCI client %s gone (%s)", self.controller and self.controller.name, exc)
        self.transport = None
        if self.controller is not None:
            self.controller.detach()
        self.server.sessions.discard(self)

    def on_packet(self, packet: bytes) -> None:
        """Packet sink for the controller: write the H4 packet to the client."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(packet)


class HciServer:
    """A TCP HCI server on 127.0.0.1 that gives each client its own controller.

    Args:
        link: the shared link the controllers join.
        port: TCP port; 0 picks a free one (read :attr:`port` after :meth:`start`).
    """

    def __init__(self, link: VirtualLink, port: int = 0) -> None:
        self.link = link
        self.requested_port = port
        self.sessions: set[_ClientSession] = set()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port actually listened on."""
        if self._server is None:
            raise RuntimeError("server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def hci_spec(self) -> str:
        """The transport string a client passes as ``hci=``."""
        return f"tcp-client:{LOOPBACK}:{self.port}"

    async def start(self) -> int:
        """Start listening; returns the port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _ClientSession(self), host=LOOPBACK, port=self.requested_port
        )
        logger.info("HCI server listening on %s", self.hci_spec)
        return self.port

    async def close(self) -> None:
        """Stop listening and drop every client."""
        if self._server is None:
            return
        self._server.close()
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.close()
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> HciServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def _serve(port: int, connection_event_ms: float | None) -> None:
    link = VirtualLink(connection_event_ms=connection_event_ms)
    async with HciServer(link, port) as server:
        # The first line on stdout tells a parent process where to connect.
        sys.stdout.write(f"HCI {server.hci_spec}\n")
        sys.stdout.flush()
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: serve a bare link until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument(
        "--connection-event-ms",
        type=float,
        default=None,
        help="hold each PDU until the next connection event of this period",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.connection_event_ms))


if __name__ == "__main__":
    main()
