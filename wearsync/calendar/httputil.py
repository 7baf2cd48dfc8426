"""Small pure HTTP helpers for the feed server: conditional requests, content coding, addresses.

No I/O; each function cites the part of RFC 9110 it follows.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

DEFAULT_HOST = "127.0.0.1"
"""The feed server's default address: this machine only."""
DEFAULT_PORT = 8765


@dataclass(frozen=True, slots=True)
class Answer:
    """A response, before a server writes it.

    Attributes:
        status: the status code.
        headers: header fields, without Date, Server and Content-Length (the writer adds them).
        body: the representation; a HEAD answer still carries it, for its length.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


def etag_matches(header: str, tags: tuple[str, ...]) -> bool:
    """Whether an If-None-Match value matches any of ``tags``.

    If-None-Match uses the weak comparison (RFC 9110 section 13.1.2): ``W/"x"`` matches ``"x"``.
    """
    for item in header.split(","):
        tag = item.strip()
        if tag == "*":
            return True
        if tag.removeprefix("W/") in tags:
            return True
    return False


def not_modified_since(header: str, last_modified: datetime) -> bool:
    """Whether an If-Modified-Since value is at or after ``last_modified`` (aware).

    An unparsable date is ignored (RFC 9110 section 13.1.3): the answer is then False.
    """
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified <= since


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding value allows gzip (RFC 9110 section 12.5.3), ``q=0`` refusing."""
    if not header:
        return False
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.replace(" ", "").lower().removeprefix("q=")
            try:
                return not params or float(q) > 0
            except ValueError:
                return False
    return False


def is_loopback(remote: str | None) -> bool:
    """Whether a peer address is this machine (127.0.0.0/8, ::1)."""
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


WILDCARDS = frozenset({"", "0.0.0.0", "::"})
"""Bind addresses that mean every interface."""


def lan_address() -> str | None:
    """This machine's address on its local network (the source address of its default route),
    or None without a network. Sends nothing: connecting a UDP socket only picks the route."""
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                address = str(s.getsockname()[0])
        except OSError:
            continue
        if not ipaddress.ip_address(address).is_loopback:
            return address
    return None


def base_url(host: str, port: int) -> str:
    """``http://host:port/``; a wildcard host is replaced by this machine's LAN address (a phone
    on the same network reaches it without name resolution), else its name."""
    if host in WILDCARDS:
        host = lan_address() or socket.gethostname()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _normal(name: str) -> str:
    name = name.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        address = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return name
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def server_names(host: str, public_url: str | None) -> frozenset[str]:
    """The names and addresses a request's Host may name to reach this server: the bound host,
    ``localhost``, ``127.0.0.1`` and ``::1``, the public URL's host, and, bound to a wildcard,
    this machine's name and LAN address."""
    names = {"localhost", "127.0.0.1", "::1"}
    if host in WILDCARDS:
        hostname = socket.gethostname()
        names.update({hostname, f"{hostname}.local"})  # no getfqdn(): a DNS lookup can hang
        lan = lan_address()
        if lan:
            names.add(lan)
    else:
        names.add(host)
    if public_url:
        public = urlsplit(public_url).hostname
        if public:
            names.add(public)
    return frozenset(_normal(n) for n in names if n)


def host_allowed(header: str | None, names: frozenset[str], local: str | None = None) -> bool:
    """Whether a Host header value (``name``, ``name:port``, ``[v6]:port``) names this server:
    one of ``names``, or the address the request arrived at (RFC 9110 section 7.2)."""
    if not header:
        return False
    value = header.strip()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return False
        name = value[: end + 1]
    else:
        name = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
    name = _normal(name)
    return name in names or (local is not None and name == _normal(local))


def link_reach(url: str) -> str:
    """Who can open ``url``: ``"this computer"`` (a loopback host), ``"local network"`` (a
    private or link-local address, a ``.local`` or dotless name) or ``"internet"``."""
    host = (urlsplit(url).hostname or "").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost":
            return "this computer"
        return "local network" if host.endswith(".local") or "." not in host else "internet"
    if address.is_loopback:
        return "this computer"
    return "local network" if address.is_private or address.is_link_local else "internet"


def webcal_url(url: str) -> str:
    """The ``webcal://`` form of an http(s) feed URL, which calendar apps open to subscribe."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return url
