"""The exception root of wearsync and its typed subclasses.

Every error a user can cause or meet carries typed fields and a one-line message; the CLI turns
any :class:`WearSyncError` into ``error: <message>`` plus an optional hint and a non-zero exit
status, never a traceback.
"""

from __future__ import annotations


class WearSyncError(Exception):
    """Root of every error raised by wearsync on purpose.

    Attributes:
        hint: an optional sentence telling the user what to do about it.
        exit_code: the process exit status the CLI uses for this error.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputError(WearSyncError):
    """Bad input from the user: a file, a field or an argument is wrong (exit status 2)."""

    exit_code = 2


class RoutineError(InputError):
    """A routine file could not be read or is invalid.

    Attributes:
        source: the file (or built-in routine name) the problem is in.
        field: the dotted field path, e.g. ``exercises[0].hold.seconds``, or ``None``.
        problem: what is wrong, in words.
        line: the 1-based TOML line, when the parser reports one.
    """

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        field: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        self.line = line
        where = source if line is None else f"{source}:{line}"
        parts = [where]
        if field:
            parts.append(field)
        parts.append(problem)
        super().__init__(": ".join(parts), hint=hint)
