"""A scripted wearer: what the person wearing the simulated watch does during a session.

By default the wearer does every step and leaves starting to the companion (START_SESSION).
A script changes that, written as comma-separated items (indices are 0-based, as in events
and Session Status; times in milliseconds of watch time):

=====================  ==========================================================================
``start=client``       wait for a client's START_SESSION (the default)
``start=MS``           press start on the watch MS ms after boot, or as soon as a program is
                       committed after that; once per watch (``start=now``: ``start=0``)
``skip=K``             skip exercise K as soon as its first step starts
``skip=K:MS``          skip exercise K once MS ms have passed in it (if it is still running)
``abort=N``            stop the session when step N starts
``abort=N:MS``         stop it MS ms into step N
``pause=N:D``          pause when step N starts, resume D ms later
``pause=N:D:MS``       pause MS ms into step N, resume D ms later
``all``                do everything (same as an empty script)
=====================  ==========================================================================

Example: ``Wearer.parse("skip=2,pause=10:5000,abort=40")``. ``skip`` and ``pause`` may repeat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from wearsync.errors import InputError

_WHOLE: Final = re.compile(r"[0-9]+")
_START_WORDS: Final[dict[str, int | None]] = {"client": None, "now": 0}


class WearerScriptError(InputError):
    """A wearer script that cannot be parsed.

    Attributes:
        script: the whole script.
        item: the item that is wrong.
    """

    def __init__(self, script: str, item: str, problem: str) -> None:
        self.script = script
        self.item = item
        super().__init__(
            f"wearer script {script!r}: {item!r}: {problem}",
            hint="items are start=client|MS, skip=K[:MS], abort=N[:MS], pause=N:D[:MS], all",
        )


@dataclass(frozen=True)
class Skip:
    """Skip exercise ``exercise`` ``after_ms`` into it (session time, pauses excluded)."""

    exercise: int
    after_ms: int = 0


@dataclass(frozen=True)
class Abort:
    """Stop the session ``after_ms`` into step ``step``."""

    step: int
    after_ms: int = 0


@dataclass(frozen=True)
class Pause:
    """Pause ``after_ms`` into step ``step`` and resume ``duration_ms`` later."""

    step: int
    duration_ms: int
    after_ms: int = 0


@dataclass(frozen=True)
class Wearer:
    """What the wearer does; the default does every step and lets the companion start.

    Attributes:
        start_after_ms: when the wearer presses start on the watch, in ms of uptime; ``None``
            to wait for a client's START_SESSION.
        skips: exercises skipped.
        abort: where the wearer stops the session, if anywhere.
        pauses: where the wearer pauses and for how long.
    """

    start_after_ms: int | None = None
    skips: tuple[Skip, ...] = ()
    abort: Abort | None = None
    pauses: tuple[Pause, ...] = ()

    @classmethod
    def parse(cls, script: str) -> Wearer:
        """Read a script of the module's format.

        Raises:
            WearerScriptError: an item is unknown or its numbers are malformed.
        """
        start: int | None = None
        skips: list[Skip] = []
        pauses: list[Pause] = []
        abort: Abort | None = None
        for raw in script.split(","):
            item = raw.strip()
            if not item or item == "all":
                continue
            key, sep, value = item.partition("=")
            if not sep:
                raise WearerScriptError(script, item, "expected key=value")
            key, value = key.strip(), value.strip()
            if key == "start":
                if value in _START_WORDS:
                    start = _START_WORDS[value]
                else:
                    start = _numbers(script, item, value, 1)[0]
            elif key == "skip":
                exercise, after = _numbers(script, item, value, 1, 2)
                skips.append(Skip(exercise, after))
            elif key == "abort":
                if abort is not None:
                    raise WearerScriptError(script, item, "only one abort")
                step, after = _numbers(script, item, value, 1, 2)
                abort = Abort(step, after)
            elif key == "pause":
                step, duration, after = _numbers(script, item, value, 2, 3)
                if duration == 0:
                    raise WearerScriptError(script, item, "a pause lasts at least 1 ms")
                pauses.append(Pause(step, duration, after))
            else:
                raise WearerScriptError(script, item, f"unknown action {key!r}")
        return cls(start, tuple(skips), abort, tuple(pauses))

    def __str__(self) -> str:
        items: list[str] = []
        if self.start_after_ms is not None:
            items.append(f"start={self.start_after_ms}")
        items += [
            f"skip={s.exercise}" + (f":{s.after_ms}" if s.after_ms else "") for s in self.skips
        ]
        if self.abort is not None:
            suffix = f":{self.abort.after_ms}" if self.abort.after_ms else ""
            items.append(f"abort={self.abort.step}{suffix}")
        for p in self.pauses:
            suffix = f":{p.after_ms}" if p.after_ms else ""
            items.append(f"pause={p.step}:{p.duration_ms}{suffix}")
        return ",".join(items) or "all"

    def skip_in(self, exercise: int) -> Skip | None:
        """The skip of ``exercise``, if the wearer skips it."""
        return next((s for s in self.skips if s.exercise == exercise), None)

    def pauses_in(self, step: int) -> tuple[Pause, ...]:
        """The pauses the wearer takes in ``step``."""
        return tuple(p for p in self.pauses if p.step == step)


def _numbers(script: str, item: str, value: str, least: int, most: int | None = None) -> list[int]:
    """The ``:``-separated whole numbers of ``value``; missing optional ones are 0."""
    parts = value.split(":")
    most = least if most is None else most
    if not least <= len(parts) <= most:
        want = str(least) if least == most else f"{least} to {most}"
        raise WearerScriptError(script, item, f"expected {want} number(s) separated by ':'")
    numbers: list[int] = []
    for part in parts:
        text = part.strip()
        if not _WHOLE.fullmatch(text):
            raise WearerScriptError(script, item, f"{text!r} is not a whole number")
        numbers.append(int(text))
    return numbers + [0] * (most - len(numbers))
