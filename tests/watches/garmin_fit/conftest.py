"""Fixtures for the Garmin FIT family: the foot-care program, its workout file, decoders.

Garmin's own SDKs decode what fit-tool wrote: the Python one in process, the JavaScript one in
Node.js (pinned in ``node/package.json``; ``.ci/run`` installs it with ``npm ci``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from garmin_fit_sdk import Decoder, Stream

from wearsync.routine import Routine, TimerProgram, compile_routine, load_routine
from wearsync.watches.garmin_fit.codec import EncodedWorkout, encode_workout

NODE_DIR = Path(__file__).parent / "node"
#: Fields whose values the JavaScript SDK names in camelCase (``repeatUntilStepsCmplt``).
ENUM_FIELDS = frozenset(
    {"type", "manufacturer", "sport", "sub_sport", "duration_type", "target_type", "intensity"}
)


@pytest.fixture(scope="session")
def routine() -> Routine:
    return load_routine("foot-care")


@pytest.fixture(scope="session")
def program(routine: Routine) -> TimerProgram:
    return compile_routine(routine)


@pytest.fixture(scope="session")
def workout(program: TimerProgram, routine: Routine) -> EncodedWorkout:
    return encode_workout(program, routine)


def decode_py(data: bytes) -> tuple[dict[str, list[dict[str, Any]]], list[Exception]]:
    """Garmin's Python decoder, raw field values (no sub-field expansion), after its checks."""
    checker = Decoder(Stream.from_byte_array(bytearray(data)))
    assert checker.is_fit()
    assert checker.check_integrity()
    # check_integrity() consumes the stream: read with a fresh decoder.
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read(
        expand_sub_fields=False
    )
    return messages, errors


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def decode_js(data: bytes, tmp_path: Path) -> dict[str, Any]:
    """Garmin's JavaScript decoder; keys and enum names turned from camelCase to snake_case."""
    if shutil.which("node") is None:
        pytest.fail("Node.js is required for the @garmin/fitsdk test: install it")
    if not (NODE_DIR / "node_modules" / "@garmin" / "fitsdk").exists():
        pytest.fail(f"@garmin/fitsdk is not installed: run `npm ci` in {NODE_DIR}")
    path = tmp_path / "decode-me.fit"
    path.write_bytes(data)
    done = subprocess.run(
        ["node", str(NODE_DIR / "decode.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)

    def convert(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {snake(k): convert(v, snake(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v, key) for v in value]
        if isinstance(value, str) and key in ENUM_FIELDS:
            return snake(value)
        return value

    result["messages"] = convert(result["messages"])
    return result
