"""``wearsync export bangle-app DIR``: the App Loader folder, every file its metadata names."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from wearsync.cli.app import app
from wearsync.watches.bangle.app_loader import app_files

runner = CliRunner()


def test_the_app_folder_has_every_file_its_metadata_names(tmp_path: Path) -> None:
    folder = tmp_path / "wearsync-app"
    result = runner.invoke(app, ["export", "bangle-app", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)["files"]
    assert sorted(written) == sorted(app_files())
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["id"] == "wearsync" and "BANGLEJS2" in metadata["supports"]
    for entry in metadata["storage"]:
        assert (folder / entry["url"]).is_file(), entry
    assert (folder / metadata["icon"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The same bytes every time: an App Loader install and a sync's upload agree.
    again = tmp_path / "again"
    assert runner.invoke(app, ["export", "bangle-app", str(again)]).exit_code == 0
    assert all((folder / n).read_bytes() == (again / n).read_bytes() for n in written)


def test_a_file_in_the_way_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["export", "bangle-app", str(blocker)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {blocker}: exists and is not a folder"
