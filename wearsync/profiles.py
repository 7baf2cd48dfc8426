"""Device profiles: what a wearable is, how to recognise it, and which driver speaks to it.

A profile is a TOML file validated into a frozen :class:`DeviceProfile`. The common part (how
to match a scan result, limits, security) is the same for every watch. The ``[driver]`` table
names the watch family (``driver.name``) and carries that family's own settings: this module
keeps it as a :class:`DriverTable`, and the family validates it with its
:class:`DriverSettings` subclass (:func:`driver_settings`; the registry does it for every
profile it loads), so a new family adds its settings without touching this module.

Where the shipped profiles live: the repository's ``profiles/`` directory is the only copy. The
wheel's build configuration packages it as ``wearsync/_profiles`` (``pyproject.toml``,
``force-include``); :func:`load_profiles` with no directory reads the checkout's ``profiles/``
when running from one, else the packaged folder through :mod:`importlib.resources`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from wearsync.errors import InputError
from wearsync.protocol.uuids import sig_uuid
from wearsync.routine.base import Frozen
from wearsync.routine.loader import (
    TOO_LARGE,
    FileTooLargeError,
    first_problem,
    read_small_text,
    toml_problem,
)

#: Where the wheel carries ``profiles/`` (see ``[tool.hatch.build.targets.wheel.force-include]``).
_PACKAGED: Final = "_profiles"
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


class DriverSettings(Frozen):
    """Base of a family's ``[driver]`` table: each family subclasses it with its own fields and
    a ``name: Literal[...]``; unknown fields are rejected."""

    name: str


class DriverTable(Frozen):
    """The ``[driver]`` table as the file has it: ``name`` picks the family, whose own
    :class:`DriverSettings` subclass validates the rest (see :func:`driver_settings`)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    name: Annotated[str, Field(pattern=_ID_PATTERN)]

    @property
    def table(self) -> dict[str, Any]:
        """Every field of the table, ``name`` included."""
        return {"name": self.name, **(self.model_extra or {})}


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
    driver: DriverTable
    limits: Limits = Limits()
    security: Security


S = TypeVar("S", bound=DriverSettings)


def driver_settings(profile: DeviceProfile, model: type[S], source: str | None = None) -> S:
    """``profile``'s ``[driver]`` table validated by its family's ``model``.

    Raises:
        ProfileError: a field is unknown, missing or invalid (named ``driver.<field>``).
    """
    try:
        return model.model_validate(profile.driver.table)
    except ValidationError as exc:
        field, problem = first_problem(exc)
        where = f"driver.{field}" if field else "driver"
        raise ProfileError(source or profile.id, problem, field=where) from exc


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
        field, problem = first_problem(exc)
        raise ProfileError(source, problem, field=field or None) from exc


def load_profile(path: Path | Traversable) -> DeviceProfile:
    """Load one profile file; its ``id`` must be its file name without ``.toml``.

    Raises:
        ProfileError: the file cannot be read or is invalid.
    """
    source = str(path)
    try:
        text = read_small_text(path)
    except FileTooLargeError as exc:
        raise ProfileError(source, TOO_LARGE.format(kind="profile")) from exc
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
    return resources.files("wearsync").joinpath(_PACKAGED)


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
