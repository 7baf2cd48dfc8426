"""The layering of ../shared/HOUSE_STYLE.md, read from the imports with ``ast``.

Dependencies point one way: cli -> watches/registry -> watches/<family> -> sync, ble, sim ->
store, protocol, routine; calendar beside sync. No family imports another, no shared layer
imports a family (only the registry names them), bleak stays inside ble/, bumble inside ble/,
sim/ and the families' simulated peripherals, and protocol/ and routine/ do no I/O.
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
    """``wearsync.watches.bangle.driver`` -> ``watches.bangle``; ``wearsync.sync.x`` -> ``sync``."""
    parts = name.split(".")
    if parts[0] != "wearsync" or len(parts) < 2:
        return ""
    if parts[1] == "watches" and len(parts) > 2:
        return f"watches.{parts[2]}"
    return parts[1].removesuffix(".py")


def layer_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    return layer(".".join(("wearsync", *rel.parts)))


ALL = modules_under()
FAMILIES = sorted(
    p.name for p in (PACKAGE / "watches").iterdir() if p.is_dir() and (p / "__init__.py").exists()
)
SHARED = {"records", "paths", "errors", "protocol", "routine", "profiles", "store"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "records": set(),
    "paths": set(),
    "routine": {"errors"},
    "protocol": {"errors"},
    "profiles": {"errors", "protocol", "routine"},
    "store": {"errors", "records", "paths"},
    "ble": {"errors", "paths", "protocol", "profiles"},
    "sim": {"errors", "ble", "protocol", "routine"},
    "sync": SHARED | {"ble"},
    "calendar": SHARED,
    # The web pages: records to HTML over the calendar's server; never the CLI or a watch.
    "web": {"calendar", "store", "routine", "records", "sync", "errors", "paths"},
    # The record a family fills in for the registry; families may import it, nothing else here.
    "watches.family": SHARED | {"sync", "sim"},
}
FAMILY_ALLOWED = SHARED | {"sync", "ble", "sim", "watches.family"}


def ids(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize("path", ALL, ids=ids)
def test_bleak_only_in_ble(path: Path) -> None:
    if layer_of(path) == "ble":
        return
    offending = {m for m in imported_modules(path) if top(m) == "bleak"}
    assert not offending, f"{ids(path)} imports {offending}: only wearsync/ble may"


@pytest.mark.parametrize("path", ALL, ids=ids)
def test_bumble_only_in_ble_sim_and_simulated_watches(path: Path) -> None:
    rel = path.relative_to(PACKAGE).parts
    in_family_sim = rel[0] == "watches" and any(part in ("sim", "sim.py") for part in rel)
    if rel[0] in ("ble", "sim") or in_family_sim:
        return
    offending = {m for m in imported_modules(path) if top(m) == "bumble"}
    assert not offending, f"{ids(path)} imports {offending}: only ble/, sim/ and watches/*/sim"


PURE = modules_under("protocol") + modules_under("routine")


@pytest.mark.parametrize("path", PURE, ids=ids)
def test_protocol_and_routine_do_no_io(path: Path) -> None:
    forbidden = {"asyncio", "socket", "sqlite3", "aiohttp", "subprocess"}
    found = {m for m in imported_modules(path) if top(m) in forbidden}
    assert not found, f"{path.name} imports {found}"


@pytest.mark.parametrize("path", ALL, ids=ids)
def test_each_layer_imports_only_below_it(path: Path) -> None:
    here = layer_of(path)
    ours = {m for m in imported_modules(path) if top(m) == "wearsync"}
    if here in ("cli", "__main__"):
        return
    ups = {m for m in ours if layer(m) == "cli"}
    assert not ups, f"{ids(path)} imports the CLI: {ups}"
    if here in ("watches.registry", "watches"):
        return  # the registry is the one place that names every family
    if here.startswith("watches.") and here != "watches.family":
        allowed = FAMILY_ALLOWED | {here}
    else:
        allowed = ALLOWED.get(here, set()) | {here}
    wrong = {m for m in ours if layer(m) not in allowed and layer(m) != ""}
    assert not wrong, f"{ids(path)} ({here}) imports {wrong}, outside {sorted(allowed)}"


def test_every_family_is_checked_and_none_imports_another() -> None:
    assert {"wearsync_timer", "bangle", "host_timed"} <= set(FAMILIES)
    for family in FAMILIES:
        for path in modules_under("watches", family):
            others = {
                m
                for m in imported_modules(path)
                if layer(m).startswith("watches.")
                and layer(m) not in (f"watches.{family}", "watches.family")
            }
            assert not others, f"{ids(path)} imports another family: {others}"


def test_the_checks_see_the_package() -> None:
    assert len(ALL) >= 10
    assert any(p.parent.name == "routine" for p in PURE)
    assert any(layer_of(p).startswith("watches.") for p in ALL)


def test_web_takes_only_the_history_report_from_sync() -> None:
    pages = modules_under("web")
    assert pages, "the web pages are checked"
    for path in pages:
        wrong = {
            m for m in imported_modules(path) if layer(m) == "sync" and m != "wearsync.sync.history"
        }
        assert not wrong, f"{ids(path)} imports {wrong}: the pages read only the history report"
