"""Publishing the calendar somewhere else: into a CalDAV calendar, or as static files.

- :func:`split_events` cuts a built calendar into one iCalendar object per UID (RFC 4791
  section 4.1: a calendar object resource holds one UID), each with the VTIMEZONE it refers to.
  It works on the text :func:`~wearsync.calendar.export.build_calendar` writes, without parsing
  it again.
- :func:`publish_caldav` brings an existing CalDAV calendar in line with those objects: new UIDs
  are created, those whose SEQUENCE or LAST-MODIFIED moved are replaced, wearsync's UIDs no
  longer published are removed; other events in the calendar are left alone. It uses the
  ``caldav`` client library, and it is blocking: run it in a thread from asyncio code.
- :func:`publish_dir` writes the feed and its ETag as files, each replaced atomically, for a
  static web server to serve.

The CalDAV password comes from :func:`caldav_password` (an environment variable or the system
keyring), never from the command line, and is never logged.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wearsync.calendar.uids import UID_DOMAIN
from wearsync.errors import WearSyncError

PASSWORD_ENV = "WEARSYNC_CALDAV_PASSWORD"
"""The environment variable that may hold the CalDAV password."""
USER_ENV = "WEARSYNC_CALDAV_USER"
"""The environment variable that may hold the CalDAV user name."""
KEYRING_SERVICE = "wearsync-caldav"
"""The keyring service name; the keyring user is ``<user>@<host>``."""

_LOOPBACK = ("localhost", "127.0.0.1", "::1")  # where plain http cannot expose the password

_BLOCK = re.compile(rb"BEGIN:(VEVENT|VTIMEZONE)\r\n.*?END:\1\r\n", re.DOTALL)
_PROP = re.compile(rb"^(UID|SEQUENCE|LAST-MODIFIED|TZID):([^\r\n]*)", re.M)
_RECURRENCE_ID = re.compile(rb"^RECURRENCE-ID(?:;[^:\r\n]*)?:([^\r\n]*)", re.M)
_TZID_PARAM = re.compile(rb";TZID=([^:;\r\n]+)")


class PublishError(WearSyncError):
    """The calendar cannot be published where it was asked to go."""


@dataclass(frozen=True, slots=True)
class EventObject:
    """One event as a calendar object resource.

    Attributes:
        uid: its UID.
        revision: its (SEQUENCE, LAST-MODIFIED) text: what moves when the event changes.
        body: a whole VCALENDAR holding the event and the VTIMEZONE it refers to.
    """

    uid: str
    revision: tuple[str, str]
    body: bytes


@dataclass
class PublishReport:
    """What a publish did, by UID."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0


def _props(block: bytes) -> dict[bytes, bytes]:
    unfolded = block.replace(b"\r\n ", b"")  # RFC 5545 section 3.1
    found: dict[bytes, bytes] = {}
    for name, value in _PROP.findall(unfolded):
        found.setdefault(name, value)
    zone = _TZID_PARAM.search(unfolded)
    if zone is not None:
        found.setdefault(b"TZID", zone.group(1))
    rid = _RECURRENCE_ID.search(unfolded)
    if rid is not None:
        found[b"RECURRENCE-ID"] = rid.group(1)
    return found


def _group_revision(parts: list[tuple[bytes, bytes, bytes]]) -> tuple[str, str]:
    """The revision of an object of several components (a series and its overrides): the
    series' SEQUENCE and a digest of every component's RECURRENCE-ID, SEQUENCE and
    LAST-MODIFIED, so a mark added, changed or dropped replaces the object."""
    if len(parts) == 1:
        _rid, sequence, modified = parts[0]
        return sequence.decode(), modified.decode()
    master = next((p for p in parts if not p[0]), parts[0])
    digest = hashlib.sha256(b"\n".join(b"|".join(p) for p in sorted(parts))).hexdigest()[:16]
    return master[1].decode(), f"{master[2].decode()}+{digest}"


def split_events(body: bytes) -> list[EventObject]:
    """The events of a built calendar, one VCALENDAR each (with PRODID and its VTIMEZONE)."""
    head = body[: body.index(b"BEGIN:", len(b"BEGIN:VCALENDAR"))]
    prolog = b"".join(
        line + b"\r\n"
        for line in head.split(b"\r\n")
        if line.startswith((b"BEGIN:VCALENDAR", b"VERSION:", b"PRODID:", b"CALSCALE:"))
    )
    zones: dict[bytes, bytes] = {}
    # UID -> its zone and its components: a series and its instance overrides (the done and
    # missed marks) are one object (RFC 4791 section 4.1).
    groups: dict[bytes, tuple[bytes, list[bytes], list[tuple[bytes, bytes, bytes]]]] = {}
    for match in _BLOCK.finditer(body):
        block = match.group(0)
        props = _props(block)
        if match.group(1) == b"VTIMEZONE":
            zones[props[b"TZID"]] = block
            continue
        zone = zones.get(props.get(b"TZID", b""), b"")
        _zone, blocks, parts = groups.setdefault(props[b"UID"], (zone, [], []))
        blocks.append(block)
        parts.append(
            (
                props.get(b"RECURRENCE-ID", b""),
                props.get(b"SEQUENCE", b"0"),
                props.get(b"LAST-MODIFIED", b""),
            )
        )
    return [
        EventObject(
            uid=uid.decode(),
            revision=_group_revision(parts),
            body=prolog + zone + b"".join(blocks) + b"END:VCALENDAR\r\n",
        )
        for uid, (zone, blocks, parts) in groups.items()
    ]


def caldav_password(user: str, url: str) -> str:
    """The CalDAV password: ``$WEARSYNC_CALDAV_PASSWORD``, else the keyring's entry for service
    ``wearsync-caldav`` and user ``<user>@<host>``.

    Raises:
        PublishError: neither has one.
    """
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    account = f"{user}@{urlsplit(url).hostname}"
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            stored = keyring.get_password(KEYRING_SERVICE, account)
        except KeyringError:
            stored = None
    except ImportError:  # pragma: no cover - keyring is a dependency
        stored = None
    if not stored:
        raise PublishError(
            f"--caldav: no password for {account}",
            hint=f"set {PASSWORD_ENV}, or store it: keyring set {KEYRING_SERVICE} {account}",
        )
    return stored


def check_caldav_url(url: str) -> tuple[str, str | None]:
    """``url`` without any user name in it, and that user name.

    Raises:
        PublishError: not an http(s) URL, or a password in it (it would be in the process
            list and the shell history).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublishError(f"--caldav: {url!r} is not an http(s) URL of a calendar")
    if parts.password is not None:
        raise PublishError(
            "--caldav: the URL holds a password",
            hint=f"remove it from the URL and set {PASSWORD_ENV} or use the keyring",
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise PublishError(
            f"--caldav: {url!r} is plain http, which would send the password in clear",
            hint="use the server's https:// URL (plain http is for this machine only)",
        )
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc).geturl(), parts.username


def publish_caldav(url: str, user: str, password: str, events: list[EventObject]) -> PublishReport:
    """Make the CalDAV calendar at ``url`` hold exactly ``events`` among wearsync's UIDs.

    Plain http is refused except to this machine, so that the password never crosses a
    network in clear.

    Raises:
        PublishError: the server cannot be reached, refuses the credentials, has no calendar
            at ``url``, or refuses a change.
    """
    from caldav.davclient import DAVClient
    from caldav.lib import error as dav_error

    local = urlsplit(url).hostname in _LOOPBACK
    report = PublishReport()
    try:
        with DAVClient(url=url, username=user, password=password, require_tls=not local) as client:
            calendar = client.calendar(url=url)  # type: ignore[no-untyped-call]
            existing = {}
            for obj in calendar.events():
                component = obj.icalendar_component
                uid = str(component.get("UID", ""))
                if uid.endswith("@" + UID_DOMAIN):
                    existing[uid] = (obj, _revision(obj.icalendar_instance.walk("VEVENT")))
            wanted = {e.uid for e in events}
            for event in events:
                have = existing.get(event.uid)
                if have is not None and have[1] == event.revision:
                    report.unchanged += 1
                    continue
                # Verbatim: the ledger's SEQUENCE is the one to publish (the library would
                # otherwise bump it on every save).
                calendar.add_event(event.body.decode(), increase_seqno=False)
                (report.updated if have is not None else report.created).append(event.uid)
            for uid, (obj, _rev) in existing.items():
                if uid not in wanted:
                    obj.delete()
                    report.deleted.append(uid)
    except dav_error.AuthorizationError as exc:
        raise PublishError(
            f"--caldav {url}: the server refused user {user!r} or the password",
            hint=f"check the user name and {PASSWORD_ENV} (or the keyring entry)",
        ) from exc
    except dav_error.NotFoundError as exc:
        raise PublishError(
            f"--caldav {url}: no calendar there", hint="create the calendar first"
        ) from exc
    except dav_error.DAVError as exc:
        raise PublishError(f"--caldav {url}: the server refused a change ({exc})") from exc
    except OSError as exc:  # connection refused, TLS, DNS (niquests' errors are OSErrors)
        raise PublishError(f"--caldav {url}: cannot reach the server ({_reason(exc)})") from exc
    return report


def _reason(exc: BaseException) -> str:
    """The innermost OS-level reason ("Connection refused"), not the HTTP stack's long repr."""
    seen: BaseException | None = exc
    reason = ""
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            reason = seen.strerror
        seen = seen.__cause__ or seen.__context__
    return reason or type(exc).__name__


def _revision(components: list[Any]) -> tuple[str, str]:
    """A stored object's revision, worked out as :func:`split_events` does for a new one."""
    from icalendar import vDDDTypes

    parts = []
    for component in components:
        rid = component.get("RECURRENCE-ID")
        modified = component.get("LAST-MODIFIED")
        parts.append(
            (
                vDDDTypes(rid.dt).to_ical() if rid is not None else b"",
                str(component.get("SEQUENCE", "0")).encode(),
                vDDDTypes(modified.dt).to_ical() if modified is not None else b"",
            )
        )
    return _group_revision(parts) if parts else ("0", "")


def publish_dir(directory: Path, name: str, body: bytes, etag: str) -> bool:
    """Write ``<name>.ics`` and ``<name>.ics.etag`` into ``directory``, each replaced at once
    (a static server never serves half a file); returns False if they were already current.

    Raises:
        PublishError: the directory cannot be written.
    """
    target = directory / f"{name}.ics"
    tag = directory / f"{name}.ics.etag"
    try:
        if tag.exists() and target.exists() and tag.read_text().strip() == etag:
            return False
        directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(target, body)
        _atomic_write(tag, (etag + "\n").encode())
    except OSError as exc:
        raise PublishError(
            f"--dir {directory}: cannot write the calendar ({exc.strerror or exc})"
        ) from exc
    return True


def _atomic_write(path: Path, data: bytes) -> None:
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o644)  # mkstemp makes 0600; a web server must read it
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
