"""§6 and §12.1 on both watches: a transfer cut anywhere leaves the old program or the new one,
never a mix, and a program of several chunks is staged and committed."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from bleak import BleakClient
from bleak.exc import BleakError

from tests.watches.conftest import sync_watch
from tests.watches.wearsync_timer.both.watch import (
    TimerWatch,
    connected,
    found,
    read_info,
    timer_info,
)
from tests.watches.wearsync_timer.sim.helpers import DEMO, FOOT_CARE, push
from wearsync.profiles import DeviceProfile
from wearsync.routine import compile_routine
from wearsync.routine.loader import parse_routine
from wearsync.sim.link import VirtualLink
from wearsync.store import Store
from wearsync.watches.wearsync_timer.codec import (
    InfoFlags,
    encode_program,
    program_chunks,
    program_identity,
)

SHORT_TOML = Path(__file__).parents[3] / "firmware" / "data" / "short.toml"


@pytest.mark.slow
async def test_a_transfer_cut_at_any_pdu_leaves_old_or_new_never_a_mix(
    timer_watch: TimerWatch,
) -> None:
    """Cut the link after each ATT PDU of a whole transfer at ATT_MTU 23 (14 chunks)."""
    watch = timer_watch
    tap = watch.tap
    async with connected(watch) as client:
        await push(client, DEMO)
    # A full transfer, counted once: every chunk and the COMMIT, each a request and response.
    # Bonded from here on: each link is encrypted with the bond, without pairing again.
    async with connected(watch, pair=False, mtu=23) as client:
        mark = tap.current.mark()
        await push(client, FOOT_CARE)
        full = tap.current.since(mark).total
        await push(client, DEMO)
    assert full == 2 * (len(program_chunks(FOOT_CARE, 23)) + 1) == 30
    commit_request = full - 1

    async def check(client: BleakClient, cut: int) -> None:
        """On a new link: what the watch holds after the cut, put back to DEMO."""
        info = await read_info(client)
        expected = FOOT_CARE if cut >= commit_request else DEMO
        assert info.program_identity == program_identity(expected), f"cut after PDU {cut}"
        assert info.program_length == len(expected)
        assert not info.flags & InfoFlags.STAGING
        if expected is FOOT_CARE:
            await push(client, DEMO)

    for k in range(1, full + 2):
        async with connected(watch, pair=False, mtu=23) as client:
            if k > 1:
                await check(client, k - 1)
            if k > full:
                break
            tap.cut_after(k)  # counted from here: this link's transfer only
            with contextlib.suppress(BleakError):
                await push(client, FOOT_CARE)
            await tap.wait_for_cut()
    # What flash holds is the same whole program a new boot finds.
    await watch.reboot()
    info = await timer_info(watch)
    assert (info.program_identity, info.program_length) == (program_identity(DEMO), len(DEMO))


def long_routine_text() -> str:
    """A routine whose program needs several chunks at ATT_MTU 247 (over 240 bytes)."""
    head = SHORT_TOML.read_text().split("[[exercises]]")[0]
    exercises = "".join(
        f'[[exercises]]\nid = "move-{n}"\nname = "Movement number {n} of the long list"\n'
        f"hold = {{ counts = {2 + n % 3} }}\nrelease = {{ seconds = 1 }}\nreps = {1 + n % 4}\n\n"
        for n in range(12)
    )
    return head + exercises


async def test_a_program_of_several_chunks_is_pushed_and_committed(
    store: Store, link: VirtualLink, profiles: list[DeviceProfile], timer_watch: TimerWatch
) -> None:
    watch = timer_watch
    text = long_routine_text()
    routine = parse_routine(text)
    wire = encode_program(compile_routine(routine))
    assert len(wire) > 2 * 240
    report = await sync_watch(
        store=store,
        routine=routine,
        routine_text=text,
        watch=await found(link, profiles, watch),
        hci=link,
    )
    assert report.program_pushed and report.program_identity == program_identity(wire).hex()
    pdus = watch.tap.connections[-1].pdus
    writes = [p for p in pdus if p.direction == "rx" and p.opcode in (0x12, 0x52)]
    # Chunks of at most 240 program bytes (§6.1); CTS and COMMIT writes are 13 bytes or less.
    program_writes = [p for p in writes if p.size > 20]
    assert [p.size - 7 for p in program_writes] == [240, 240, len(wire) - 480]
    await watch.reboot()
    assert (await timer_info(watch)).program_identity == program_identity(wire)
