"""The layering of ../shared/HOUSE_STYLE.md, read from the imports with ``ast``.

Dependencies point one way: cli -> sync/calendar -> ble/store -> protocol/routine. bleak and
bumble stay inside ble/ and sim/; protocol/ and routine/ do no I/O and no asyncio.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wearsync"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules_under(*parts: str) -> list[Path]:
    base = PACKAGE.joinpath(*parts)
    if base.suffix == ".py":
        return [base] if base.exists() else []
    return sorted(base.rglob("*.py"))


def top(name: str) -> str:
    return name.split(".")[0]


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if parts[0] == "wearsync" and len(parts) > 1 else ""


ALL = modules_under()


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_bleak_and_bumble_only_in_ble_and_sim(path: Path) -> None:
    rel = path.relative_to(PACKAGE).parts
    if rel[0] in ("ble", "sim"):
        return
    offending = {m for m in imported_modules(path) if top(m) in ("bleak", "bumble")}
    assert not offending, f"{'/'.join(rel)} imports {offending}: only wearsync/ble and sim may"


PURE = modules_under("protocol") + modules_under("routine")


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_protocol_and_routine_do_no_io(path: Path) -> None:
    forbidden = {"asyncio", "socket", "sqlite3", "aiohttp", "subprocess"}
    found = {m for m in imported_modules(path) if top(m) in forbidden}
    inner = {m for m in imported_modules(path) if layer(m) not in ("", "protocol", "routine")}
    inner -= {"wearsync.errors"}
    assert not found, f"{path.name} imports {found}"
    assert not inner, f"{path.name} reaches up into {inner}"


LOWER = {
    "protocol": {"protocol", "routine"},
    "routine": {"routine"},
    "ble": {"ble", "protocol", "routine", "profiles"},
    "store": {"store", "routine", "protocol"},
    "sync": {"sync", "ble", "store", "protocol", "routine", "profiles"},
    "calendar": {"calendar", "store", "routine", "protocol"},
    "records": set(),
    "paths": set(),
    "errors": set(),
}


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_below_imports_the_cli(path: Path) -> None:
    rel = path.relative_to(PACKAGE).parts
    here = rel[0].removesuffix(".py")
    if here in ("cli", "__main__"):
        return
    ups = {m for m in imported_modules(path) if layer(m) == "cli"}
    assert not ups, f"{'/'.join(rel)} imports the CLI: {ups}"
    allowed = LOWER.get(here)
    if allowed is None:
        return
    allowed = allowed | {"errors", "records", "paths", ""}
    wrong = {m for m in imported_modules(path) if top(m) == "wearsync" and layer(m) not in allowed}
    assert not wrong, f"{'/'.join(rel)} imports {wrong}, above its layer"


def test_the_checks_see_the_package() -> None:
    assert len(ALL) >= 10
    assert any(p.parent.name == "routine" for p in PURE)
