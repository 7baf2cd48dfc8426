"""The firmware's stdin harnesses (firmware/tools/, built with the sanitizers) as processes:
one line in, lines out. Each differential test drives one of them."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import TypeVar

from tests.firmware.build import validate_binary


class ToolProcess:
    """One running harness ``name`` from the sanitized tools build."""

    def __init__(self, name: str) -> None:
        self.process = subprocess.Popen(
            [str(validate_binary().parent / name)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def send(self, text: str) -> None:
        """Write ``text`` (whole lines) and flush."""
        assert self.process.stdin is not None
        self.process.stdin.write(text)
        self.process.stdin.flush()

    def tell(self, line: str) -> None:
        """Write one line without waiting for an answer (flushed by the next ask)."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")

    def read_line(self) -> str:
        """The next output line, stripped; empty means the harness died."""
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self, line: str) -> str:
        """Send ``line``, return the one line it answers."""
        self.send(line + "\n")
        answer = self.read_line()
        assert answer, "the harness died"
        return answer

    def close(self) -> str:
        """Stop the harness; its stderr (sanitizer reports land there)."""
        assert self.process.stdin is not None and self.process.stderr is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        return self.process.stderr.read()


T = TypeVar("T", bound=ToolProcess)


def run_checked(tool: T) -> Iterator[T]:
    """Yield ``tool``; then stop it and fail on a non-zero exit or a sanitizer report (for a
    module-scoped fixture: ``yield from run_checked(Harness())``)."""
    yield tool
    stderr = tool.close()
    assert tool.process.returncode == 0, stderr
    assert "runtime error" not in stderr and "Sanitizer" not in stderr, stderr
