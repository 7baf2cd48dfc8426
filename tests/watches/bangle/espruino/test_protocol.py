"""The pure side of the Bangle.js driver: runner generation, upload lines, commands, parsing."""

from __future__ import annotations

import itertools
import json
import re
import zlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wearsync.protocol.errors import DecodeError, EncodeError
from wearsync.routine import CompileOptions, TimerProgram, compile_routine, load_routine
from wearsync.watches.bangle.codec import (
    HELLO_PROBE,
    MAX_STEPS,
    MIN_LINE_BUDGET,
    RUNNER_FILE,
    RUNNER_VERSION,
    Ack,
    DumpDone,
    Event,
    Hello,
    Identity,
    LineAssembler,
    ProgrammableOffError,
    ProgramTooLargeError,
    Reply,
    RunnerBusyError,
    UploadVerifyError,
    VerifyResult,
    WatchError,
    ack_commands,
    check_verify,
    chunk_for_mtu,
    clock_commands,
    command,
    data_commands,
    dump_command,
    expect_hello,
    identify_command,
    parse_line,
    plan_upload,
    plan_uploads,
    program_data,
    runtime_source,
    start_command,
    upload_commands,
)
from wearsync.watches.bangle.plan import BanglePlan

WRITE_LINE = re.compile(
    rb"^\x10(?:global\.WSw=function\(d,o,t\)\{"
    rb'require\("Storage"\)\.write\("wearsync\.js",d,o,t\)\};)?'
    rb'WSw\((".*"),(\d+)(?:,(\d+))?\)\n$'
)

EVENT_LINE = (
    b'{"t":"wearsync","k":"ev","boot":1804171463,"seq":88,"at":1736150960000,'
    b'"kind":"exercise_completed","ex":4,"set":1,"rep":5,"side":"right","step":81,'
    b'"dur":135000,"prog":"8d1d37c455a8"}'
)


def identity(
    program_hash: str,
    *,
    state: str = "idle",
    version: int = RUNNER_VERSION,
    data: str | None = None,
) -> Identity:
    return Identity(
        program_hash=program_hash,
        runner_version=version,
        routine="foot-care",
        boot=7,
        seq=0,
        unacked=0,
        state=state,
        step=0,
        now_ms=0,
        data_crc=None if data is None else zlib.crc32(data.encode("ascii")),
    )


def pieces(lines: list[bytes]) -> list[tuple[str, int, int | None]]:
    """(data, offset, total if given) of every Storage write line."""
    found = []
    for line in lines:
        match = WRITE_LINE.match(line)
        if match:
            total = int(match[3]) if match[3] else None
            found.append((json.loads(match[1]), int(match[2]), total))
    return found


def decode_program(data: str) -> list[list[int]]:
    """The step rows the runtime builds from ``data``, by the format's documentation."""
    j = json.loads(data)

    def cols(text: str, widths: list[int]) -> list[list[int]]:
        size = sum(widths)
        rows = []
        for i in range(0, len(text), size):
            row, at = [], i
            for w in widths:
                row.append(int(text[at : at + w], 36) if w else 0)
                at += w
            rows.append(row)
        return rows

    shapes = cols(j["t"], j["tw"])
    rows, x = [], 0
    for i, (shape, ex, set_less_one, rep) in enumerate(cols(j["s"], j["sw"])):
        if j["sw"][1]:
            x = ex
        else:
            while i >= j["f"][x][0] + j["f"][x][1]:
                x += 1
        side, kind, direction, ms, cue, countdown, countdown_ms = shapes[shape]
        rows.append(
            [x, set_less_one + 1, rep, side, kind, direction, ms, cue, countdown - 1, countdown_ms]
        )
    return rows


class TestRuntime:
    def test_is_ascii_generic_and_minified(self) -> None:
        runtime = runtime_source()
        assert runtime.isascii()
        assert f"var V={RUNNER_VERSION};" in runtime
        assert "/*@DATA@*/" not in runtime
        assert not any(line.lstrip().startswith("//") for line in runtime.splitlines())
        assert "foot-care" not in runtime and "Toe Presses" not in runtime


class TestProgramData:
    def test_is_ascii_and_carries_the_program_identity(
        self, program: TimerProgram, source: str
    ) -> None:
        assert source.isascii()
        data = json.loads(source)
        assert (data["v"], data["h"], data["p"]) == (1, program.content_hash, "foot-care")

    def test_steps_and_cues_decode_to_the_program(
        self, program: TimerProgram, plan: BanglePlan, source: str
    ) -> None:
        steps = decode_program(source)
        data = json.loads(source)
        table = data["c"]
        assert len(steps) == len(program.steps)
        cues = {**program.cues, "reminder": plan.reminder}
        names = sorted(cues)
        assert table[data["y"]] == [plan.reminder.strength, *plan.reminder.pattern]
        assert names[data["y"]] == "reminder"
        for step, row in zip(program.steps, steps, strict=True):
            assert row[0:3] == [step.exercise, step.set, step.rep]
            assert row[6] == step.duration_ms
            cue = cues[names[row[7]]]
            assert table[row[7]] == [cue.strength, *cue.pattern]
            assert row[9] == step.countdown_ms
        assert sum(r[6] for r in steps) == program.total_ms

    @pytest.mark.parametrize(
        "options",
        [
            CompileOptions(countdown_seconds=0),
            CompileOptions(count_seconds=2.5, countdown_seconds=5),
            CompileOptions(exercises=("ankle-circles", "toe-pencil-pickups")),
        ],
    )
    def test_other_programs_decode_too(self, options: CompileOptions) -> None:
        other = compile_routine(load_routine("foot-care"), options)
        steps = decode_program(program_data(other))
        assert [r[0] for r in steps] == [s.exercise for s in other.steps]
        assert [r[6] for r in steps] == [s.duration_ms for s in other.steps]

    def test_foot_care_is_under_a_kilobyte_on_the_air(self, program: TimerProgram) -> None:
        lines = data_commands(program_data(program), 131)
        assert all(len(line) <= 128 for line in lines)  # one ATT write each, 3 header bytes
        assert sum(len(line) + 3 for line in lines) <= 1024

    def test_foot_care_with_its_plan_adds_under_150_bytes(
        self, program: TimerProgram, source: str
    ) -> None:
        lines = data_commands(source, 131)
        assert all(len(line) <= 128 for line in lines)
        without = sum(len(line) + 3 for line in data_commands(program_data(program), 131))
        assert sum(len(line) + 3 for line in lines) - without <= 150

    def test_same_program_same_data(
        self, program: TimerProgram, plan: BanglePlan, source: str
    ) -> None:
        again = compile_routine(load_routine("foot-care"))
        assert program_data(again, plan) == source

    def test_other_program_other_identity(self, source: str) -> None:
        one = compile_routine(load_routine("foot-care"), CompileOptions(exercises=("toe-presses",)))
        other = program_data(one)
        assert one.content_hash in other
        assert other != source

    def test_non_ascii_names_are_escaped(self, program: TimerProgram) -> None:
        first = program.exercises[0].model_copy(update={"name": "Zehen 'drücken' \u2192"})
        renamed = program.model_copy(update={"exercises": (first, *program.exercises[1:])})
        text = program_data(renamed)
        assert text.isascii()
        assert json.loads(text)["x"][0] == "Zehen 'drücken' \u2192"

    def test_more_steps_than_the_watch_holds_are_refused(self, program: TimerProgram) -> None:
        first = program.steps[0]
        many = tuple(
            first.model_copy(update={"index": i, "start_ms": i * first.duration_ms})
            for i in range(MAX_STEPS + 1)
        )
        with pytest.raises(ProgramTooLargeError) as caught:
            program_data(program.model_copy(update={"steps": many}))
        assert str(caught.value) == (
            f"the routine has {MAX_STEPS + 1} timed steps; a Bangle.js 2 holds at most {MAX_STEPS}"
        )
        assert caught.value.hint
        assert program_data(program.model_copy(update={"steps": many[:MAX_STEPS]}))

    def test_gaps_between_steps_are_refused(self, program: TimerProgram) -> None:
        late = program.steps[1].model_copy(update={"start_ms": program.steps[1].start_ms + 1})
        broken = program.model_copy(update={"steps": (program.steps[0], late)})
        with pytest.raises(EncodeError, match="starts at"):
            program_data(broken)

    def test_step_of_no_exercise_is_refused(self, program: TimerProgram) -> None:
        odd = program.steps[0].model_copy(update={"exercise": len(program.exercises)})
        broken = program.model_copy(update={"steps": (odd, *program.steps[1:])})
        with pytest.raises(EncodeError, match="no exercise"):
            program_data(broken)

    def test_undefined_cue_is_refused(self, program: TimerProgram) -> None:
        odd = program.steps[0].model_copy(update={"cue": "nope"})
        broken = program.model_copy(update={"steps": (odd, *program.steps[1:])})
        with pytest.raises(EncodeError, match="undefined cue"):
            program_data(broken)


DATA_LINE = re.compile(rb"^\x10WS\.w\('(.*)',(\d+)(?:,(\d+))?\)\n$")


def js_unquote(text: str) -> str:
    return re.sub(
        r"\\(u[0-9a-fA-F]{4}|.)",
        lambda m: chr(int(m[1][1:], 16)) if m[1][0] == "u" and len(m[1]) == 5 else m[1],
        text,
    )


class TestDataUpload:
    @given(
        st.text(st.characters(max_codepoint=127), min_size=1, max_size=600), st.integers(23, 300)
    )
    def test_any_ascii_data_round_trips_in_fitting_lines(self, text: str, mtu: int) -> None:
        lines = data_commands(text, mtu)
        *writes, verify, commit = lines
        found = [DATA_LINE.match(line) for line in writes]
        assert all(found)
        assert "".join(js_unquote(m[1].decode()) for m in found if m) == text
        assert next((m[2], m[3]) for m in found if m) == (b"0", str(len(text)).encode())
        assert all(m[3] is None for m in found[1:] if m)  # the size only where it is created
        assert all(len(line) <= max(mtu - 3, MIN_LINE_BUDGET) for line in lines)
        crc = zlib.crc32(text.encode())
        assert verify == f"\x10WS.v({crc},{len(text)})\n".encode()
        assert commit == f"\x10WS.c({crc})\n".encode()

    def test_a_fresh_watch_gets_runtime_then_program(
        self, program: TimerProgram, source: str
    ) -> None:
        h = program.content_hash
        assert [u.what for u in plan_uploads(None, h, source, 131)] == ["runtime", "program"]
        older = identity(h, version=RUNNER_VERSION - 1)
        assert [u.what for u in plan_uploads(older, h, source, 131)] == ["runtime", "program"]
        assert [u.what for u in plan_uploads(identity("0" * 64), h, source, 131)] == ["program"]
        assert [u.what for u in plan_uploads(identity(h, data=source), h, source, 131)] == []
        # the same program with another plan or first day (its data differ) goes again
        moved = source.replace('"d":', '"d":1')
        assert [u.what for u in plan_uploads(identity(h, data=source), h, moved, 131)] == [
            "program"
        ]


def lines_define_the_writer_once(lines: list[bytes]) -> bool:
    return [b"global.WSw=" in line for line in lines[:-2]] == [True] + [False] * (len(lines) - 3)


class TestUpload:
    @pytest.mark.parametrize("mtu", [23, 131, 247, 517])
    def test_pieces_rebuild_the_source(self, source: str, mtu: int) -> None:
        found = pieces(upload_commands(source, mtu))
        assert found[0][1] == 0
        assert [total for _, _, total in found] == [len(source)] + [None] * (len(found) - 1)
        assert lines_define_the_writer_once(upload_commands(source, mtu))
        rebuilt = "".join(data for data, _, _ in found)
        assert rebuilt == source
        offsets = [offset for _, offset, _ in found]
        assert offsets == sorted(offsets)

    @given(
        st.text(st.characters(max_codepoint=127), min_size=1, max_size=600), st.integers(23, 300)
    )
    def test_any_ascii_source_round_trips(self, text: str, mtu: int) -> None:
        lines = upload_commands(text, mtu)
        found = pieces(lines)
        assert "".join(data for data, _, _ in found) == text
        budget = max(mtu - 3, MIN_LINE_BUDGET)
        assert all(len(line) <= budget for line in lines if WRITE_LINE.match(line))
        assert len(found) == len(lines) - 2

    @pytest.mark.parametrize("mtu", [131, 247])
    def test_each_write_line_fits_one_att_write(self, source: str, mtu: int) -> None:
        lines = upload_commands(source, mtu)
        writes = [line for line in lines if WRITE_LINE.match(line)]
        assert all(len(line) <= mtu - 3 for line in writes)
        assert len(writes) == len(lines) - 2  # then verify and install

    def test_tiny_mtu_keeps_lines_at_the_minimum_budget(self, source: str) -> None:
        lines = upload_commands(source, 23)
        assert all(len(line) <= MIN_LINE_BUDGET for line in lines if WRITE_LINE.match(line))

    def test_verify_and_install_carry_the_crc(self, source: str) -> None:
        *_, verify, install = upload_commands(source, 247)
        crc = zlib.crc32(source.encode())
        assert f"E.CRC32(c)=={crc}&&c.length=={len(source)}".encode() in verify
        assert f"E.CRC32(c)!={crc}".encode() in install
        assert b'WS.cmd({c:"id"})' in install
        assert all(line.startswith(b"\x10") and line.endswith(b"\n") for line in (verify, install))

    def test_same_program_uploads_nothing(self, program: TimerProgram, source: str) -> None:
        same = identity(program.content_hash, data=source)
        assert plan_upload(same, program.content_hash, source, 131) == []

    def test_other_program_or_runner_version_uploads(
        self, program: TimerProgram, source: str
    ) -> None:
        h = program.content_hash
        assert plan_upload(identity("0" * 64), h, source, 131)
        assert plan_upload(identity(h, version=RUNNER_VERSION - 1), h, source, 131)

    def test_busy_watch_is_not_replaced(self, program: TimerProgram, source: str) -> None:
        with pytest.raises(RunnerBusyError) as caught:
            plan_upload(identity("0" * 64, state="paused"), program.content_hash, source, 131)
        assert caught.value.state == "paused"
        assert caught.value.hint

    def test_source_of_another_program_is_refused(self, source: str) -> None:
        with pytest.raises(EncodeError):
            plan_upload(None, "f" * 64, source, 131)

    def test_check_verify(self, source: str) -> None:
        crc = zlib.crc32(source.encode())
        check_verify(VerifyResult(RUNNER_FILE, crc, len(source), True), source)
        with pytest.raises(UploadVerifyError) as caught:
            check_verify(VerifyResult(RUNNER_FILE, crc ^ 1, len(source), False), source)
        assert caught.value.expected_crc == crc
        assert caught.value.actual_crc == crc ^ 1


class TestChunking:
    @given(st.binary(max_size=2000), st.integers(min_value=23, max_value=517))
    def test_chunks_round_trip_and_fit(self, data: bytes, mtu: int) -> None:
        chunks = chunk_for_mtu(data, mtu)
        assert b"".join(chunks) == data
        assert all(0 < len(c) <= mtu - 3 for c in chunks)
        assert all(len(c) == mtu - 3 for c in chunks[:-1])

    def test_mtu_below_minimum(self) -> None:
        with pytest.raises(EncodeError):
            chunk_for_mtu(b"x", 22)


class TestCommands:
    def test_golden_lines(self) -> None:
        assert identify_command() == b'\x10GB({"t":"wearsync","c":"id"})\n'
        assert start_command(req=3) == b'\x10GB({"t":"wearsync","c":"start","i":3})\n'
        assert dump_command(10) == b'\x10GB({"t":"wearsync","c":"dump","max":10})\n'
        assert command("ack", b=5, n=9) == b'\x10GB({"t":"wearsync","c":"ack","b":5,"n":9})\n'

    def test_gb_lines_are_what_the_programmable_off_handler_accepts(self) -> None:
        """The watch's handler strips \\x10, wants ``GB({`` ... ``})`` and JSON inside."""
        line = dump_command(5).rstrip(b"\n")[1:]
        assert line.startswith(b"GB({") and line.endswith(b"})")
        assert json.loads(line[3:-1]) == {"t": "wearsync", "c": "dump", "max": 5}

    def test_dump_limit(self) -> None:
        with pytest.raises(EncodeError):
            dump_command(0)

    def test_acks_one_per_boot_up_to_its_newest(self) -> None:
        found = [parse_line(EVENT_LINE)]
        assert isinstance(found[0], Event)
        more = [
            Event(1, 3, 0, "paused", 0, 1, 0, "both", 0, 0, "ab"),
            Event(2, 10, 0, "paused", 0, 1, 0, "both", 0, 0, "ab"),
            Event(1, 5, 0, "paused", 0, 1, 0, "both", 0, 0, "ab"),
        ]
        assert ack_commands([found[0], *more]) == [
            command("ack", b=1, n=5),
            command("ack", b=2, n=10),
            command("ack", b=1804171463, n=88),
        ]
        assert ack_commands([]) == []

    def test_hello_probe_asks_the_repl(self) -> None:
        assert HELLO_PROBE.startswith(b"\x10Bluetooth.println(") and HELLO_PROBE.endswith(b"\n")
        assert expect_hello([None, Hello("2v25")]) == Hello("2v25")
        with pytest.raises(ProgrammableOffError) as caught:
            expect_hello([None, Reply("start")])
        assert caught.value.hint is not None and "Programmable" in caught.value.hint


class TestClock:
    def test_summer_time_in_london(self) -> None:
        now = datetime(2025, 7, 1, 12, 0, 0, 250000, tzinfo=UTC)
        set_time, zone, persist, arm = clock_commands(now, ZoneInfo("Europe/London"))
        assert set_time == b"\x10setTime(1751371200.250)\n"
        assert zone == b"\x10E.setTimeZone(1)\n"
        assert b"s.timezone!==1" in persist and b'writeJSON("setting.json",s)' in persist
        assert arm == b"\x10if(global.WS&&WS.arm)WS.arm()\n"  # reminders on the new time

    def test_fractional_and_negative_offsets(self) -> None:
        now = datetime(2025, 1, 15, tzinfo=UTC)
        assert clock_commands(now, ZoneInfo("Asia/Kolkata"))[1] == b"\x10E.setTimeZone(5.5)\n"
        assert clock_commands(now, ZoneInfo("Asia/Kathmandu"))[1] == b"\x10E.setTimeZone(5.75)\n"
        assert clock_commands(now, ZoneInfo("America/St_Johns"))[1] == b"\x10E.setTimeZone(-3.5)\n"

    def test_naive_time_is_refused(self) -> None:
        with pytest.raises(EncodeError):
            clock_commands(datetime(2025, 1, 1), ZoneInfo("UTC"))


class TestParseLine:
    def test_event(self) -> None:
        """Exercise 4 (Toe Pencil Pickups) completed at 2025-01-06 08:09:20 UTC, after 135 s."""
        event = parse_line(EVENT_LINE + b"\r")
        assert event == Event(
            boot=1804171463,
            seq=88,
            at_ms=1736150960000,
            kind="exercise_completed",
            exercise=4,
            set=1,
            rep=5,
            side="right",
            step=81,
            duration_ms=135000,
            program="8d1d37c455a8",
        )
        assert event.at == datetime(2025, 1, 6, 8, 9, 20, tzinfo=UTC)

    def test_reminder_of_an_entry(self) -> None:
        """Entry 2 (Toe Walking, exercise 1, its lead-in at step 21) reminded at 2025-01-06
        08:00 UTC: ``en`` names the entry, left out for the whole routine (entry 0)."""
        line = (
            b'{"t":"wearsync","k":"ev","boot":7,"seq":3,"at":1736150400000,"kind":"reminder",'
            b'"ex":1,"set":1,"rep":0,"side":"both","step":21,"dur":0,"prog":"8d1d37c455a8",'
            b'"en":2}'
        )
        event = parse_line(line)
        assert isinstance(event, Event)
        assert (event.kind, event.entry, event.exercise, event.step) == ("reminder", 2, 1, 21)
        assert event.at == datetime(2025, 1, 6, 8, tzinfo=UTC)
        routine = parse_line(line.replace(b',"en":2', b""))
        assert isinstance(routine, Event) and routine.entry == 0
        for bad in (b'"en":-1', b'"en":256', b'"en":"2"', b'"en":1.5'):
            with pytest.raises(DecodeError, match="'en'"):
                parse_line(line.replace(b'"en":2', bad))

    def test_identity_reports_the_data_it_loaded(self) -> None:
        base = {
            "t": "wearsync",
            "k": "id",
            "hash": "ab",
            "v": 3,
            "prog": "p",
            "boot": 1,
            "seq": 0,
            "unacked": 0,
            "state": "idle",
            "step": 0,
            "now": 0,
        }
        found = parse_line(json.dumps({**base, "dc": 4294967295}).encode())
        assert isinstance(found, Identity) and found.data_crc == 4294967295
        older = parse_line(json.dumps(base).encode())
        assert isinstance(older, Identity) and older.data_crc is None
        with pytest.raises(DecodeError, match="'dc'"):
            parse_line(json.dumps({**base, "dc": 2**32}).encode())

    def test_every_kind(self) -> None:
        def line(**fields: object) -> bytes:
            return json.dumps({"t": "wearsync", **fields}).encode()

        assert parse_line(line(k="hello", fw="2v25")) == Hello("2v25")
        assert parse_line(line(k="dump", n=3, left=0, i=4)) == DumpDone(3, 0, 4)
        assert parse_line(line(k="ack", b=1, n=9, removed=9, left=0)) == Ack(1, 9, 9, 0)
        assert parse_line(line(k="crc", f="wearsync.js", crc=4294967295, len=7, ok=True)) == (
            VerifyResult("wearsync.js", 4294967295, 7, True)
        )
        assert parse_line(line(k="ok", c="start")) == Reply("start")
        assert parse_line(line(k="err", c="stop", e="idle")) == WatchError("stop", "idle")
        ident = parse_line(
            line(
                k="id",
                hash="ab",
                v=1,
                prog="p",
                boot=2,
                seq=3,
                unacked=4,
                state="idle",
                step=0,
                now=1.7e12,
            )
        )
        assert isinstance(ident, Identity) and ident.now_ms == 1_700_000_000_000

    @pytest.mark.parametrize(
        "noise",
        [
            b"",
            b">",
            b"Uncaught ReferenceError: GB is not defined",
            b'>{"t":"notify","id":1}',
            b"=undefined",
            b"{not json",
            b'{"t":"wearsyncX","k":"ev"}',
            b"[1,2,3]",
            b'GB({"t":"wearsync","c":"id"})',
        ],
    )
    def test_noise_is_not_ours(self, noise: bytes) -> None:
        assert parse_line(noise) is None

    def test_prompt_before_our_line_is_skipped(self) -> None:
        assert isinstance(parse_line(b"\r>" + EVENT_LINE), Event)

    @pytest.mark.parametrize(
        "bad",
        [
            b'{"t":"wearsync","k":"ev","boot":1',
            b'{"t":"wearsync","k":"mystery"}',
            b'{"t":"wearsync"}',
            b'{"t":"wearsync","k":"ack","b":-1,"n":0,"removed":0,"left":0}',
            b'{"t":"wearsync","k":"ack","b":1.5,"n":0,"removed":0,"left":0}',
            b'{"t":"wearsync","k":"ok","c":7}',
            b'{"t":"wearsync","k":"crc","f":"x","crc":1,"len":1,"ok":1}',
            b'{"t":"wearsync","k":"dump","n":true,"left":0}',
            b'{"t":"wearsync","k":"dump","n":NaN,"left":0}',
        ],
    )
    def test_ours_but_malformed(self, bad: bytes) -> None:
        with pytest.raises(DecodeError):
            parse_line(bad)

    def test_every_truncation_is_none_or_decode_error(self) -> None:
        marker_end = EVENT_LINE.index(b'"wearsync"') + len(b'"wearsync"')
        for cut in range(len(EVENT_LINE)):
            if cut >= marker_end:
                with pytest.raises(DecodeError):
                    parse_line(EVENT_LINE[:cut])
            else:
                try:
                    assert parse_line(EVENT_LINE[:cut]) is None
                except DecodeError:
                    pytest.fail(f"cut at {cut} claimed to be ours")

    @given(st.binary(max_size=300))
    def test_fuzz_bytes_only_none_or_decode_error(self, data: bytes) -> None:
        try:
            result = parse_line(data)
        except DecodeError:
            return
        assert result is None or isinstance(result, (Hello, Event, Identity, DumpDone))

    @settings(suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.dictionaries(
            st.sampled_from(
                [
                    "k",
                    "boot",
                    "seq",
                    "at",
                    "kind",
                    "ex",
                    "set",
                    "rep",
                    "side",
                    "step",
                    "dur",
                    "prog",
                    "re",
                    "n",
                    "left",
                    "b",
                    "removed",
                    "c",
                    "e",
                    "i",
                    "f",
                    "crc",
                    "len",
                    "ok",
                    "hash",
                    "v",
                    "unacked",
                    "state",
                    "now",
                    "fw",
                ]
            ),
            st.one_of(
                st.sampled_from(["ev", "id", "ack", "dump", "crc", "ok", "err", "hello"]),
                st.integers(min_value=-(2**60), max_value=2**60),
                st.floats(allow_nan=True),
                st.booleans(),
                st.none(),
                st.text(max_size=5),
                st.lists(st.integers(), max_size=2),
            ),
        )
    )
    def test_fuzz_our_messages_only_parse_or_decode_error(self, fields: dict[str, object]) -> None:
        line = json.dumps({"t": "wearsync", **fields}).encode()
        try:
            result = parse_line(line)
        except DecodeError:
            return
        assert result is not None


class TestLineAssembler:
    @given(
        st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b and not b.endswith(b"\r"))),
        st.booleans(),
        st.lists(st.integers(min_value=0, max_value=2000)),
    )
    def test_any_split_gives_back_the_lines(
        self, lines: list[bytes], crlf: bool, cuts: list[int]
    ) -> None:
        ending = b"\r\n" if crlf else b"\n"
        stream = b"".join(line + ending for line in lines)
        points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
        assembler = LineAssembler()
        out: list[bytes] = []
        for start, end in itertools.pairwise(points):
            out.extend(assembler.feed(stream[start:end]))
        assert out == lines
        assert assembler.pending == b""

    def test_partial_line_is_kept(self) -> None:
        assembler = LineAssembler()
        assert assembler.feed(b'{"t":"wear') == []
        assert assembler.pending == b'{"t":"wear'
        assert assembler.feed(b'sync"}\r\nnext') == [b'{"t":"wearsync"}']
        assert assembler.pending == b"next"

    def test_overlong_line_is_dropped_up_to_its_end(self) -> None:
        assembler = LineAssembler(max_line=10)
        assert assembler.feed(b"x" * 25) == []
        assert assembler.feed(b"yyy\nok\n") == [b"ok"]
        assert assembler.overflows == 1
