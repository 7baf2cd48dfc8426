"""Drives Espruino's own Linux build (``BOARD=BANGLEJS2_LINUX``) as a Bangle.js for tests.

The binary is the real interpreter: its REPL (on stdin/stdout, as the Linux port's console),
its timers on its own clock, its Storage (in ``espruino.flash`` in the working directory), its
``setWatch`` with debounce on BTN1 and its native ``Bangle`` and ``g``. Only what has no Linux
counterpart is stubbed, in JavaScript sent before anything else:

- ``Bluetooth``: the Linux build has none, so ``Bluetooth.println`` prints its text behind a
  marker byte; the harness splits those lines from the console.
- the motor: ``Bangle.buzz`` is a no-op in the emulated build, so the stub records each pulse
  with the interpreter's own ``Date.now()``, following the firmware's rule that a buzz asked
  for while another runs waits for it (``jswrap_banglejs_buzz`` chains on its promise).

BTN1 is the Linux port's sysfs GPIO pointed at ``gpio/`` in the working directory (see
``build.sh``): writing 1 or 0 to ``gpio/gpio17/value`` is pressing or releasing it.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Final, Self, TypeVar

REPO: Final = Path(__file__).resolve().parents[4]
BUILD_SCRIPT: Final = REPO / "wearsync/watches/bangle/espruino/build.sh"
BANGLE_BINARY: Final = REPO / "build/espruino/BANGLEJS2_LINUX/bin/espruino_banglejs2"
LINUX_BINARY: Final = REPO / "build/espruino/LINUX/bin/espruino"
#: BTN1 of the Bangle.js 2 is pin D17.
_BTN1_VALUE: Final = Path("gpio/gpio17/value")
_BT: Final = "\x02"
_MOTOR: Final = "\x03"
_MARK: Final = "\x05"
_WAIT_S: Final = 20.0
_T = TypeVar("_T")

#: The only stubs: Bluetooth (absent on Linux) and the motor (a no-op when emulated).
STUBS: Final = (
    "\x10global.Bluetooth={println:function(s){print('\\x02'+(s===undefined?'':s));},"
    "print:function(s){print('\\x02'+s);},write:function(s){print('\\x02'+s);}};\n",
    "\x10(function(){var end=0;Bangle.buzz=function(ms,s){"
    "if(!(ms>0))ms=200;if(ms>5000)ms=5000;if(!isFinite(s)||s>1)s=1;if(s<0)s=0;"
    "var n=Date.now(),on=Math.max(n,end);end=on+ms;"
    "print('\\x03'+JSON.stringify({on:on,off:end,s:s}));"
    "return new Promise(function(r){setTimeout(r,end-n);});};})();\n",
)


@dataclass(frozen=True)
class Pulse:
    """One motor pulse as the stub recorded it: interpreter ms, strength 0..1."""

    on_ms: float
    off_ms: float
    strength: float


class RealEspruino:
    """One run of the Linux Espruino binary in ``workdir`` (its flash and GPIO live there)."""

    def __init__(self, binary: Path, workdir: Path, *, stubs: Iterable[str] = STUBS) -> None:
        self.binary = binary
        self.workdir = workdir
        self._stubs = tuple(stubs)
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._cond = threading.Condition()
        self._bt: list[bytes] = []
        #: Every line sent over "Bluetooth" so far, whether taken or not.
        self.bluetooth: list[bytes] = []
        self.console: list[str] = []
        self.pulses: list[Pulse] = []
        self._marks: list[str] = []
        self._next_mark = 0
        self._boot_lines = 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start the interpreter, wait for its prompt, install the stubs."""
        value = self.workdir / _BTN1_VALUE
        value.parent.mkdir(parents=True, exist_ok=True)
        value.write_text("0")
        self._proc = subprocess.Popen(
            [str(self.binary)],
            cwd=self.workdir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._proc.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self._proc.stdout,), daemon=True)
        self._reader.start()
        self.install_stubs()
        # The Linux port's own start-up complaints (no serial device path) are not ours.
        self._boot_lines = len(self.console)

    def install_stubs(self) -> None:
        """(Re)define the stubs; ``load()`` clears the JS state, the stubs with it."""
        for line in self._stubs:
            self.send(line.encode("ascii"))
        self.sync()

    def close(self) -> None:
        """Stop the interpreter (Ctrl-D); the flash file stays in ``workdir``."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            assert proc.stdin is not None
            proc.stdin.write(b"\x04")
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._reader is not None:
            self._reader.join(5)
        if proc.stdout is not None:
            proc.stdout.close()

    def _read(self, stdout: IO[bytes]) -> None:
        buffer = b""
        while chunk := stdout.read1(4096):  # type: ignore[attr-defined]
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            with self._cond:
                for raw in lines:
                    self._classify(raw.rstrip(b"\r"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _classify(self, raw: bytes) -> None:
        # A line printed while the prompt is shown starts with the prompt and an erase-line
        # escape; what follows our marker bytes is the text.
        text = raw.decode("latin-1")
        for marker in (_BT, _MOTOR, _MARK):
            at = text.find(marker)
            if at < 0:
                continue
            body = text[at + 1 :]
            if marker == _BT:
                self._bt.append(body.encode("latin-1"))
                self.bluetooth.append(body.encode("latin-1"))
            elif marker == _MOTOR:
                p = json.loads(body)
                self.pulses.append(Pulse(p["on"], p["off"], p["s"]))
            else:
                self._marks.append(body)
            return
        self.console.append(text)

    def send(self, line: bytes) -> None:
        """Write ``line`` to the REPL as the UART would deliver it."""
        if self._proc is None or self._proc.stdin is None:
            raise RuntimeError("the interpreter is not running")
        self._proc.stdin.write(line)
        self._proc.stdin.flush()

    def send_all(self, lines: Iterable[bytes]) -> None:
        for line in lines:
            self.send(line)

    def sync(self) -> float:
        """Wait until the REPL has run everything sent so far; the interpreter's time then."""
        self._next_mark += 1
        tag = f"m{self._next_mark}:"
        self.send(f"\x10print('\\x05{tag}'+Date.now())\n".encode("ascii"))
        found = self.wait(lambda: next((m for m in self._marks if m.startswith(tag)), None))
        return float(found[len(tag) :])

    def wait(self, probe: Callable[[], _T | None], timeout: float = _WAIT_S) -> _T:
        """Wait until ``probe`` (called under the harness lock) returns something."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = probe()
                if result is not None:
                    return result
                left = deadline - time.monotonic()
                if left <= 0 or (self._proc is None or self._proc.poll() is not None):
                    tail = "\n".join(self.console[-10:])
                    raise TimeoutError(f"the interpreter did not answer; console:\n{tail}")
                self._cond.wait(min(left, 0.5))

    def bt_lines(self) -> list[bytes]:
        """Lines sent over "Bluetooth" since the last call."""
        with self._cond:
            lines, self._bt = self._bt, []
        return lines

    def wait_bt(self, match: Callable[[bytes], bool], timeout: float = _WAIT_S) -> bytes:
        """Wait for a Bluetooth line ``match`` accepts; it and the lines before it are taken."""

        def probe() -> bytes | None:
            for i, line in enumerate(self._bt):
                if match(line):
                    del self._bt[: i + 1]
                    return line
            return None

        return self.wait(probe, timeout)

    def evaluate(self, expression: str) -> object:
        """The JSON value of ``expression``, evaluated in the interpreter."""
        self._next_mark += 1
        tag = f"e{self._next_mark}:"
        self.send(f"\x10print('\\x05{tag}'+JSON.stringify({expression}))\n".encode("ascii"))
        found = self.wait(lambda: next((m for m in self._marks if m.startswith(tag)), None))
        return json.loads(found[len(tag) :])

    def set_button(self, pressed: bool) -> None:
        """Press or release BTN1 (the port polls the pin every millisecond)."""
        path = self.workdir / _BTN1_VALUE
        tmp = path.with_suffix(".tmp")
        tmp.write_text("1" if pressed else "0")
        os.replace(tmp, path)

    def errors(self) -> list[str]:
        """Console lines that report an uncaught error or a lack of memory."""
        with self._cond:
            return [
                line
                for line in self.console[self._boot_lines :]
                if "Uncaught" in line or "OUT OF MEMORY" in line or "ERROR" in line
            ]


def build_error() -> str | None:
    """Why the conformance tests cannot run here, or ``None`` when the binaries are built."""
    if BANGLE_BINARY.exists() and LINUX_BINARY.exists():
        return None
    return (
        f"Espruino's Linux build is missing ({BANGLE_BINARY.relative_to(REPO)}); "
        f"run {BUILD_SCRIPT.relative_to(REPO)} (needs a C compiler and make)"
    )
