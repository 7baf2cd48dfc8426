"""Every test runs with its own data directory, so none reads or writes the user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fixtures and tests that need a particular directory set their own afterwards.
    monkeypatch.setenv("WEARSYNC_HOME", str(tmp_path / "wearsync-home"))
    monkeypatch.delenv("WEARSYNC_HCI", raising=False)
