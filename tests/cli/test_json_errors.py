"""Under ``--json`` an error is one JSON object on stderr, with the exit status people get."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearsync.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "code", "kind", "words"),
    [
        (["routine", "show", "nosuch"], 2, "RoutineError", "no such built-in routine"),
        (["routine", "show", "foot-care", "--bogus"], 2, "NoSuchOption", "--bogus"),
        (["sim", "--speed", "inf"], 2, "BadParameter", "--speed"),
        (["sim", "--watch", "pager"], 2, "InputError", "unknown watch 'pager'"),
        (["sync", "--scan-seconds", "0"], 2, "BadParameter", "--scan-seconds"),
    ],
    ids=["input error", "usage error", "bad value", "unknown watch", "out of range"],
)
def test_errors_as_json(args: list[str], code: int, kind: str, words: str) -> None:
    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.exit_code == code
    assert as_json.stdout == ""
    (line,) = as_json.stderr.strip().splitlines()
    error = json.loads(line)["error"]
    assert error["type"] == kind and error["code"] == code
    assert words in error["message"]
    for_people = runner.invoke(app, args)
    assert for_people.exit_code == code
    assert "{" not in for_people.stderr.splitlines()[-1]


def test_a_bad_routine_file_as_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('format = 1\nname = "x"\n')
    result = runner.invoke(app, ["routine", "validate", str(bad), "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stderr)["error"]
    assert error["message"].startswith(f"{bad}:")
