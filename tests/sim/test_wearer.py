"""The wearer script of ``wearsync sim --wearer``."""

from __future__ import annotations

import pytest

from wearsync.errors import InputError
from wearsync.sim.wearer import Abort, Pause, Skip, Wearer, WearerScriptError


def test_an_empty_script_does_everything() -> None:
    assert Wearer.parse("") == Wearer.parse("all") == Wearer()
    assert str(Wearer()) == "all"


def test_items_combine_with_commas() -> None:
    wearer = Wearer.parse("skip=2, pause=10:5000,abort=40:1500,skip=3:7000,start=0,pause=4:100:20")
    assert wearer == Wearer(
        start_after_ms=0,
        skips=(Skip(2), Skip(3, 7000)),
        abort=Abort(40, 1500),
        pauses=(Pause(10, 5000), Pause(4, 100, 20)),
    )
    assert Wearer.parse(str(wearer)) == wearer
    assert wearer.skip_in(3) == Skip(3, 7000) and wearer.skip_in(1) is None
    assert wearer.pauses_in(4) == (Pause(4, 100, 20),)


def test_start_client_waits_for_the_companion() -> None:
    assert Wearer.parse("start=client").start_after_ms is None
    assert Wearer.parse("start=2500").start_after_ms == 2500
    assert Wearer.parse("start=now").start_after_ms == 0


@pytest.mark.parametrize(
    "script",
    [
        "skip",
        "skip=",
        "skip=a",
        "skip=1:2:3",
        "pause=3",
        "pause=3:0",
        "abort=1,abort=2",
        "jump=3",
        "skip=-1",
    ],
)
def test_bad_scripts_are_input_errors(script: str) -> None:
    with pytest.raises(WearerScriptError) as caught:
        Wearer.parse(script)
    assert isinstance(caught.value, InputError) and caught.value.hint
