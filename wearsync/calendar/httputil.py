"""Small pure HTTP helpers for the feed server: conditional requests, content coding, addresses.

No I/O; each function cites the part of RFC 9110 it follows.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

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


def base_url(host: str, port: int) -> str:
    """``http://host:port/``; a wildcard host is replaced by this machine's name."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def webcal_url(url: str) -> str:
    """The ``webcal://`` form of an http(s) feed URL, which calendar apps open to subscribe."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return url
