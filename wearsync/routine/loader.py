"""Reading routine files (TOML) into validated :class:`~wearsync.routine.model.Routine` models.

A routine is named either by a built-in name (``foot-care``) or by a path to a ``.toml`` file.
Every problem becomes a :class:`~wearsync.errors.RoutineError` naming the file, the field path
and what is wrong, so the CLI can print it on one line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from wearsync.errors import RoutineError
from wearsync.routine.limits import MAX_FILE_BYTES
from wearsync.routine.model import Routine

_BUILTIN_PACKAGE = "wearsync.routine.builtin"
_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


#: The one-line problem reported for a file over :data:`MAX_FILE_BYTES`.
TOO_LARGE = "is larger than 1 MiB; a {kind} file is a few kilobytes"


class FileTooLargeError(Exception):
    """A file is longer than :data:`MAX_FILE_BYTES` (or never ends, like ``/dev/zero``)."""


def read_small_text(path: Path | Traversable, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of ``path``, reading at most ``limit`` bytes of it.

    Reads one byte past the limit instead of asking for the size first: a pipe, a device or a
    growing file has no size worth trusting.

    Raises:
        FileTooLargeError: the file has more than ``limit`` bytes.
        UnicodeDecodeError: the file is not UTF-8.
        OSError: the file cannot be read.
    """
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(str(path))
    return data.decode("utf-8")


def builtin_names() -> list[str]:
    """Names of the routines that ship inside the package, sorted."""
    folder = resources.files(_BUILTIN_PACKAGE)
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def builtin_text(name: str) -> str:
    """The TOML text of the built-in routine ``name``.

    Raises:
        RoutineError: there is no such built-in routine.
    """
    if name not in builtin_names():
        raise RoutineError(
            name,
            "no such built-in routine",
            hint=f"built-in routines: {', '.join(builtin_names())}; or give a path to a .toml file",
        )
    return resources.files(_BUILTIN_PACKAGE).joinpath(f"{name}.toml").read_text("utf-8")


def load_routine(ref: str | Path) -> Routine:
    """Load a routine from a built-in name or a TOML file path.

    A ``ref`` that names an existing file, or looks like a path (has a ``/`` or ends in
    ``.toml``), is read as a file; anything else is looked up among the built-in routines.

    Raises:
        RoutineError: the file cannot be read, is not valid TOML, or is not a valid routine.
    """
    return load_routine_and_text(ref)[0]


def load_routine_and_text(ref: str | Path) -> tuple[Routine, str]:
    """Like :func:`load_routine`, also returning the TOML text (a sync stores it with a push).

    Raises:
        RoutineError: the file cannot be read, is not valid TOML, or is not a valid routine.
    """
    text, source = read_routine_text(ref)
    return parse_routine(text, source), text


def read_routine_text(ref: str | Path) -> tuple[str, str]:
    """Return ``(toml_text, source_label)`` for a built-in name or a file path."""
    path = Path(ref)
    looks_like_path = isinstance(ref, Path) or "/" in str(ref) or str(ref).endswith(".toml")
    if not looks_like_path and not path.exists():
        return builtin_text(str(ref)), str(ref)
    try:
        return read_small_text(path), str(path)
    except FileTooLargeError as exc:
        raise RoutineError(str(path), TOO_LARGE.format(kind="routine")) from exc
    except FileNotFoundError as exc:
        raise RoutineError(str(path), "file not found") from exc
    except IsADirectoryError as exc:
        raise RoutineError(str(path), "is a directory, not a routine file") from exc
    except UnicodeDecodeError as exc:
        raise RoutineError(str(path), "is not UTF-8 text") from exc
    except OSError as exc:
        raise RoutineError(str(path), f"cannot be read ({exc.strerror})") from exc


def parse_routine(text: str, source: str = "<routine>") -> Routine:
    """Parse TOML ``text`` into a :class:`Routine`; ``source`` labels errors.

    Raises:
        RoutineError: ``text`` is not valid TOML or not a valid routine.
    """
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, problem = toml_problem(exc)
        raise RoutineError(source, problem, line=line) from exc
    try:
        return Routine.model_validate(data)
    except ValidationError as exc:
        field, problem = first_problem(exc)
        raise RoutineError(source, problem, field=field or None) from exc


def toml_problem(exc: tomllib.TOMLDecodeError) -> tuple[int | None, str]:
    """``(line, "invalid TOML: ...")`` for a TOML syntax error (shared with profile files)."""
    message = str(exc)
    match = _TOML_LINE.search(message)
    line = int(match.group(1)) if match else None
    return line, "invalid TOML: " + _TOML_LINE.sub("", message).strip().rstrip(".")


def first_problem(
    exc: ValidationError, describe: Callable[[ErrorDetails], tuple[str, str]] | None = None
) -> tuple[str, str]:
    """``(field, problem)`` of the first validation error, counting the others in words.

    ``describe`` words one error (default :func:`describe_error`).
    """
    errors = exc.errors()
    field, problem = (describe or describe_error)(errors[0])
    if len(errors) > 1:
        problem += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return field, problem


def field_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a dotted path: ``exercises[0].hold.seconds``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def describe_error(error: ErrorDetails) -> tuple[str, str]:
    """Turn one pydantic error into ``(field_path, problem)`` in words a routine author reads."""
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx", {})
    given = error.get("input")
    if kind == "extra_forbidden":
        return field_path(loc), "unknown field"
    if kind == "missing":
        return field_path(loc), "required field is missing"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        bound = next(iter(ctx.values()), "?")
        shown = f"{bound:.12g}" if isinstance(bound, int | float) else str(bound)
        return field_path(loc), f"must be {words} {shown} (got {given!r})"
    if kind == "finite_number":
        return field_path(loc), f"must be a finite number (got {given!r})"
    if kind == "too_short" and loc and loc[-1] == "exercises":
        return field_path(loc), "a routine needs at least one exercise"
    message = error["msg"].removeprefix("Value error, ")
    # Cross-field checks on the routine report their own path as "path: problem".
    nested = re.match(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (.+)$", message)
    if nested and not loc:
        return nested.group(1), nested.group(2)
    return field_path(loc), message[0].lower() + message[1:] if message else kind
