"""The Espruino stand-in itself: the APIs behave as Espruino documents them."""

from __future__ import annotations

import asyncio
import json
import random
import zlib
from pathlib import Path

import pytest

from tests.watches.bangle.espruino.conftest import needs_node
from wearsync.watches.bangle.espruino import Buzz, EspruinoVM, NodeNotFoundError, SimulatorError

pytestmark = needs_node


async def run(vm: EspruinoVM, code: str) -> list[bytes]:
    """Evaluate ``code`` silently (a ``\\x10`` line) and return what the watch printed."""
    await vm.write_uart(b"\x10" + code.encode("latin-1") + b"\n")
    return vm.read_lines()


async def value(vm: EspruinoVM, expr: str) -> object:
    lines = await run(vm, f"Bluetooth.println(JSON.stringify({expr}))")
    assert len(lines) == 1, lines
    return json.loads(lines[0].decode("latin-1"))


async def test_crc32_is_zlibs(vm: EspruinoVM) -> None:
    rng = random.Random(6)
    samples = [b"", b"hello", bytes(range(256))]
    samples += [rng.randbytes(rng.randrange(1, 300)) for _ in range(60)]
    literals = ",".join(json.dumps(s.decode("latin-1")) for s in samples)
    assert await value(vm, f"[{literals}].map(E.CRC32)") == [zlib.crc32(s) for s in samples]


async def test_storage_write_at_offsets_as_documented(vm: EspruinoVM) -> None:
    s = 'require("Storage")'
    await run(vm, f's={s};s.write("a","Hello",0,14)')
    assert await value(vm, 's.read("a")') == "Hello" + "\u00ff" * 9
    await run(vm, 's.write("a"," ",5);s.write("a","World!!!",6)')
    assert await value(vm, 's.read("a")') == "Hello World!!!"
    await run(vm, 's.write("a"," ",0)')
    assert await value(vm, '[s.read("a"),s.read("nope")===undefined]') == [" ", True]
    assert await value(vm, 's.readJSON("bad",1)===undefined') is True
    await run(vm, 's.writeJSON("j",{x:1});f=s.open("log","a");f.write("one\\n");f.write("two")')
    assert await value(vm, 's.readJSON("j")') == {"x": 1}
    assert await value(vm, '[s.open("log","r").readLine(),s.list(/^log/,{sf:true})]') == [
        "one\n",
        ["log"],
    ]


async def test_flash_bits_only_clear(vm: EspruinoVM) -> None:
    """Writing over written bytes gives their AND, which a CRC check catches."""
    await run(vm, 's=require("Storage");s.write("f","\\x0f",0,2);s.write("f","\\x3c",1)')
    await run(vm, 's.write("f","\\xf0",1)')
    assert await value(vm, 's.read("f").split("").map(c=>c.charCodeAt(0))') == [0x0F, 0x30]


async def test_storage_survives_a_restart_of_the_process(tmp_path: Path) -> None:
    path = tmp_path / "flash.json"
    async with EspruinoVM(path) as vm:
        await run(vm, 'require("Storage").write("keep","me")')
    async with EspruinoVM(path) as vm:
        assert (await vm.storage())["keep"] == b"me"


async def test_timers_run_in_order_on_the_virtual_clock(vm: EspruinoVM) -> None:
    await run(
        vm,
        "o=[];setTimeout(()=>o.push(['b',Date.now()]),20);setTimeout(()=>o.push(['a',Date.now()]),10);"
        "setTimeout(()=>o.push(['c',Date.now()]),20);i=setInterval(()=>o.push(['i',getTime()]),15)",
    )
    start = (await vm.state()).wall_ms
    await vm.advance(31)
    got = await value(vm, "o")
    assert got == [
        ["a", start + 10],
        ["i", (start + 15) / 1000],
        ["b", start + 20],
        ["c", start + 20],
        ["i", (start + 30) / 1000],
    ]


async def test_clearing_an_unknown_timer_is_ignored_as_espruino_does(vm: EspruinoVM) -> None:
    await run(vm, "setTimeout(function(){Bluetooth.println('fired')},10)")
    assert await run(vm, "clearTimeout(12345)") == []
    await vm.advance(20)
    assert vm.read_lines() == [b"fired"]
    assert (await vm.state()).errors == ()


async def test_clearing_undefined_throws_and_clears_nothing(vm: EspruinoVM) -> None:
    await run(vm, "setTimeout(function(){Bluetooth.println('fired')},10)")
    lines = await run(vm, "clearTimeout(undefined)")
    assert lines == [
        b"Uncaught Error: clearTimeout(undefined) not allowed. Use clearTimeout() instead"
    ]
    await vm.advance(20)
    # After the error the prompt is shown, so the timer's line follows it.
    assert vm.read_lines() == [b">fired"]


async def test_clearing_with_no_argument_clears_every_timer(vm: EspruinoVM) -> None:
    await run(vm, "setTimeout(function(){Bluetooth.println('a')},10);setInterval(function(){},5)")
    await run(vm, "clearTimeout()")
    await vm.advance(20)
    assert vm.read_lines() == []
    assert (await vm.state()).timers == 0


async def test_buzz_during_another_waits_for_it(vm: EspruinoVM) -> None:
    await run(vm, "Bangle.buzz(300,0.5).then(()=>Bluetooth.println('one '+Date.now()))")
    start = (await vm.state()).wall_ms
    await vm.advance(100)
    await run(vm, "Bangle.buzz().then(()=>Bluetooth.println('two '+Date.now()))")
    await vm.advance(600)
    assert await vm.buzzes() == [Buzz(0, 300, 0.5), Buzz(300, 500, 1)]
    assert vm.read_lines() == [f"one {start + 300}".encode(), f"two {start + 500}".encode()]


async def test_button_watch_sees_both_edges_with_times(vm: EspruinoVM) -> None:
    await run(
        vm,
        "e=[];setWatch(x=>e.push([x.state,Math.round((x.time-x.lastTime)*1000)]),BTN1,"
        "{repeat:true,edge:'both'});setWatch(x=>e.push('once'),BTN1,{edge:'falling'})",
    )
    await vm.advance(500)
    await vm.press_button(1200)
    await vm.press_button(100)
    assert await value(vm, "e") == [[True, 500], [False, 1200], "once", [True, 0], [False, 100]]


async def test_repl_echoes_lines_without_the_quiet_prefix(vm: EspruinoVM) -> None:
    await vm.write_uart(b"1+")
    assert vm.read_lines() == []
    await vm.write_uart(b"2\r\n")
    assert vm.read_lines() == [b"1+2", b"=3"]
    assert await run(vm, "1+2") == []


async def test_programmable_off_passes_only_gb_lines(vm: EspruinoVM) -> None:
    """As the bootloader's handler does: ``GB({...})`` lines, strict JSON, reach global.GB."""
    await run(vm, "require('Storage').write('t.boot.js',\"GB=m=>Bluetooth.println('GB '+m.x)\")")
    await vm.set_programmable(False)
    assert (await vm.state()).programmable is False
    await vm.write_uart(b'\x10GB({"x":1})\nGB({"x":2})\nBluetooth.println("no")\n')
    await vm.write_uart(b'\x10GB({x:3})\n\x10GB({"x":4});\n')
    assert vm.read_lines() == [b"GB 1", b"GB 2"]


async def test_output_is_lost_while_disconnected(vm: EspruinoVM) -> None:
    await vm.set_connected(False)
    assert await run(vm, "Bluetooth.println('lost')") == []
    await vm.set_connected(True)
    assert await run(vm, "Bluetooth.println('seen')") == [b"seen"]


async def test_load_restarts_js_and_runs_boot_files(vm: EspruinoVM) -> None:
    await run(vm, "require('Storage').write('b.boot.js','var booted=(global.booted||0)+1');x=1")
    await run(vm, "load()")
    assert vm.boots == ["power-on", "load"]
    assert await value(vm, "[booted,typeof x]") == [1, "undefined"]


async def test_realtime_runs_the_clock_scaled(vm: EspruinoVM) -> None:
    await run(vm, "setTimeout(()=>Bluetooth.println('tick'),3000)")
    await vm.realtime(100)
    async with asyncio.timeout(5):
        assert await vm.wait_for_line(lambda line: line == b"tick") == b"tick"
    await vm.realtime(0)
    assert await vm.now() >= 3000


async def test_refused_request_is_an_error(vm: EspruinoVM) -> None:
    with pytest.raises(SimulatorError, match="unknown op"):
        await vm._request("explode")


async def test_missing_node_has_an_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NodeNotFoundError) as caught:
        await EspruinoVM(tmp_path / "s.json").start()
    assert caught.value.hint and "Node.js" in caught.value.hint
