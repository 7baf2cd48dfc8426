"""The firmware's command line: a name it would have to escape is refused in one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.firmware.build import firmware_binary


@pytest.mark.parametrize(
    "name",
    ['quo"te', "back\\slash", "tab\there", "x" * 30],
    ids=["quote", "backslash", "tab", "long"],
)
def test_a_name_the_json_lines_cannot_carry_is_refused_in_one_line(
    name: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(firmware_binary()), "--hci-port", "1", "--dir", str(tmp_path), "--name", name],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "--name: at most 29 bytes" in lines[0]
