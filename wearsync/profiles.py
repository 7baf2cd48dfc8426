"""Device profiles: what a wearable is, how to recognise it, and which driver speaks to it.

A profile is a TOML file validated into a frozen :class:`DeviceProfile`. The common part (how
to match a scan result, limits, security) is the same for every watch; the ``[driver]`` table
is a union tagged by ``driver.name`` so that each driver carries its own settings:

- ``wearsync-timer``: a watch running the WearSync Interval Timer Service (docs/protocol.md);
- ``espruino-uart``: a Bangle.js reached over the Nordic UART Service, running uploaded JS;
- ``host-timed``: a watch that can only buzz on command (Immediate Alert or Alert
  Notification, e.g. PineTime/InfiniTime); the companion keeps time and fires each cue.

Where the shipped profiles live: the canonical files are the repository's ``profiles/``
directory. A wheel packages only ``wearsync/``, so an identical copy ships as package data in
``wearsync/builtin_profiles/`` (a test keeps the two byte-identical). :func:`load_profiles`
with no directory reads the repository's ``profiles/`` when running from a checkout, else the
packaged copy through :mod:`importlib.resources`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self
from uuid import UUID

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from wearsync.errors import InputError
from wearsync.protocol.uuids import sig_uuid
from wearsync.routine.base import Frozen
from wearsync.routine.loader import describe_error, first_problem, toml_problem

_PACKAGED: Final = "wearsync.builtin_profiles"
_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{0,39}$"
_SHORT_UUID: Final = re.compile(r"^(?:0x)?([0-9a-fA-F]{4})$")


class ProfileError(InputError):
    """A device profile file could not be read or is invalid.

    Attributes:
        source: the file the problem is in.
        field: the dotted field path, e.g. ``match.local_name``, or ``None``.
        problem: what is wrong, in words.
    """

    def __init__(self, source: str, problem: str, *, field: str | None = None) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: {field}" if field else source
        super().__init__(
            f"{where}: {problem}", hint="see profiles/wearsync-timer.toml for a valid profile"
        )


def normalize_uuid(text: str) -> str:
    """The canonical lower-case 128-bit form of a UUID, expanding SIG 16-bit ones (``180d``).

    Raises:
        ValueError: ``text`` is not a UUID.
    """
    short = _SHORT_UUID.match(text.strip())
    if short:
        return str(sig_uuid(int(short.group(1), 16)))
    try:
        return str(UUID(text.strip()))
    except ValueError as exc:
        raise ValueError(f"not a Bluetooth UUID: {text!r}") from exc


class Match(Frozen):
    """How a scan result is recognised. Every criterion given must hold.

    Attributes:
        local_name: a Python regular expression searched for in the advertised local name
            (anchor it with ``^``/``$`` to match the whole name).
        service_uuids: UUIDs of which at least one must be advertised; 16-bit SIG UUIDs may be
            written short (``"1802"``).
    """

    local_name: str | None = None
    service_uuids: tuple[Annotated[str, AfterValidator(normalize_uuid)], ...] = ()

    @field_validator("local_name")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {v!r}: {exc}") from exc
        return v

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.local_name is None and not self.service_uuids:
            raise ValueError("give local_name, service_uuids or both")
        return self

    @property
    def criteria(self) -> int:
        """How many criteria the match has: the more, the more specific."""
        return (self.local_name is not None) + bool(self.service_uuids)

    def matches(self, name: str | None, service_uuids: Iterable[str | UUID]) -> bool:
        """Whether a device advertising ``name`` and ``service_uuids`` fits."""
        if self.local_name is not None and (name is None or not re.search(self.local_name, name)):
            return False
        if self.service_uuids:
            return not _normalized(service_uuids).isdisjoint(self.service_uuids)
        return True


def _normalized(uuids: Iterable[str | UUID]) -> set[str]:
    out = set()
    for u in uuids:
        try:
            out.add(normalize_uuid(str(u)))
        except ValueError:
            continue  # a garbled advertisement names no service we look for
    return out


class WearSyncTimerDriver(Frozen):
    """The WearSync Interval Timer Service over GATT (docs/protocol.md)."""

    name: Literal["wearsync-timer"]
    protocol_version: Literal[1] = 1
    set_clock: bool = True
    """Keep the watch's clock through the Current Time Service."""


class EspruinoUartDriver(Frozen):
    """A Bangle.js (Espruino) reached over the Nordic UART Service, running uploaded JS."""

    name: Literal["espruino-uart"]
    app_id: Annotated[str, Field(pattern=r"^[a-z0-9]{1,12}$")]
    """The watch-side app that runs the timer and prints events back."""
    requires_programmable: bool = False
    """Whether the watch's "Programmable" setting must be on for the upload."""


class HostTimedDriver(Frozen):
    """A watch that only buzzes on command; the companion keeps time and fires each cue."""

    name: Literal["host-timed"]
    alert: Literal["immediate-alert", "alert-notification"]
    alert_level: Literal["mild", "high"] = "high"
    set_clock: bool = False


Driver = Annotated[
    WearSyncTimerDriver | EspruinoUartDriver | HostTimedDriver, Field(discriminator="name")
]
_DRIVER_NAMES: Final = frozenset(
    cls.model_fields["name"].annotation.__args__[0]  # type: ignore[union-attr]
    for cls in (WearSyncTimerDriver, EspruinoUartDriver, HostTimedDriver)
)


class Limits(Frozen):
    """What the device can hold and how large an ATT MTU to ask for.

    Attributes:
        max_program_bytes: the largest program it stores; ``None`` if it stores none.
        event_log_size: events it keeps for the companion; 0 if it keeps none.
        preferred_mtu: the ATT MTU the companion requests after connecting.
    """

    max_program_bytes: Annotated[int, Field(ge=1, le=65535)] | None = None
    event_log_size: Annotated[int, Field(ge=0, le=65535)] = 0
    preferred_mtu: Annotated[int, Field(ge=23, le=517)] = 247


class Security(Frozen):
    """What the link needs before the driver's characteristics can be used."""

    bonding: Literal["required", "optional", "none"]
    pairing: Literal["just-works", "passkey", "numeric-comparison"] = "just-works"


class DeviceProfile(Frozen):
    """One kind of wearable and how wearsync drives it."""

    format: Literal[1] = 1
    id: Annotated[str, Field(pattern=_ID_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: str = ""
    match: Match
    driver: Driver
    limits: Limits = Limits()
    security: Security

    @model_validator(mode="after")
    def _driver_fits(self) -> Self:
        stores_program = self.limits.max_program_bytes is not None
        if isinstance(self.driver, HostTimedDriver):
            if stores_program or self.limits.event_log_size:
                raise ValueError(
                    "limits: a host-timed device stores no program and no events; "
                    "leave out max_program_bytes and event_log_size"
                )
        elif not stores_program:
            raise ValueError(f"limits.max_program_bytes: required by driver {self.driver.name}")
        if isinstance(self.driver, WearSyncTimerDriver) and self.security.bonding != "required":
            raise ValueError(
                "security.bonding: the wearsync-timer service needs an encrypted link; "
                "set it to 'required'"
            )
        return self


def parse_profile(text: str, source: str = "<profile>") -> DeviceProfile:
    """Parse TOML ``text`` into a :class:`DeviceProfile`; ``source`` labels errors.

    Raises:
        ProfileError: ``text`` is not valid TOML or not a valid profile.
    """
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, problem = toml_problem(exc)
        raise ProfileError(source if line is None else f"{source}:{line}", problem) from exc
    try:
        return DeviceProfile.model_validate(data)
    except ValidationError as exc:
        field, problem = first_problem(exc, _describe)
        raise ProfileError(source, problem, field=field or None) from exc


def _describe(error: ErrorDetails) -> tuple[str, str]:
    """Like the routine loader's ``describe_error``, aware of the tagged ``[driver]`` union."""
    loc = tuple(error["loc"])
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        known = ", ".join(sorted(_DRIVER_NAMES))
        tag = error.get("ctx", {}).get("tag")
        problem = f"unknown driver {tag!r}" if tag else "required field is missing"
        return "driver.name", f"{problem} (known drivers: {known})"
    if len(loc) >= 2 and loc[0] == "driver" and loc[1] in _DRIVER_NAMES:
        # pydantic puts the union tag in the path; the file has no such level.
        loc = (loc[0], *loc[2:])
        error = {**error, "loc": loc}
    return describe_error(error)


def load_profile(path: Path | Traversable) -> DeviceProfile:
    """Load one profile file; its ``id`` must be its file name without ``.toml``.

    Raises:
        ProfileError: the file cannot be read or is invalid.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProfileError(source, "is not UTF-8 text") from exc
    except OSError as exc:
        raise ProfileError(source, f"cannot be read ({exc.strerror or exc})") from exc
    profile = parse_profile(text, source)
    stem = path.name.removesuffix(".toml")
    if profile.id != stem:
        raise ProfileError(source, f"id {profile.id!r} differs from the file name", field="id")
    return profile


def default_profiles_dir() -> Path | Traversable:
    """Where the shipped profiles are: the checkout's ``profiles/``, else the packaged copy."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "profiles").is_dir():
        return root / "profiles"
    return resources.files(_PACKAGED)


def load_profiles(directory: Path | str | None = None) -> list[DeviceProfile]:
    """Load every ``*.toml`` profile of ``directory`` (default: the shipped ones), by file name.

    Raises:
        ProfileError: the directory does not exist, a file is invalid, or two share an id.
    """
    folder: Path | Traversable = default_profiles_dir() if directory is None else Path(directory)
    if not folder.is_dir():
        raise ProfileError(str(folder), "profile directory not found")
    return list(_load_all(folder))


def _load_all(folder: Path | Traversable) -> Iterator[DeviceProfile]:
    files = sorted(
        (f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()),
        key=lambda f: f.name,
    )
    for f in files:
        yield load_profile(f)


def match_profile(
    name: str | None,
    service_uuids: Iterable[str | UUID],
    profiles: Iterable[DeviceProfile],
) -> DeviceProfile | None:
    """The profile for a device seen in a scan, or ``None``.

    Args:
        name: the advertised local name, if any.
        service_uuids: the advertised service UUIDs (any form :func:`normalize_uuid` reads).
        profiles: candidates, e.g. from :func:`load_profiles`.

    Returns:
        Among the profiles whose every criterion holds, the one with the most criteria; on a
        tie, the first given.
    """
    advertised = list(service_uuids)
    best: DeviceProfile | None = None
    for profile in profiles:
        if profile.match.matches(name, advertised) and (
            best is None or profile.match.criteria > best.match.criteria
        ):
            best = profile
    return best
