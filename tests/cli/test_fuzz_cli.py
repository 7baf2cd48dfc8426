"""Fuzzing the real CLI: whatever the input files and options, exit 0 or 2, at most one
``error:`` line, never a traceback.

Every command that reads a file or parses a value is driven through ``CliRunner`` on the root
app: routine TOML (mutated from the shipped routine, or arbitrary text and bytes), wearer
scripts, simulator speeds, sync intervals, dates and times of day. Commands that would start
something long-running on valid input (``sim``, ``serve``) get a second, always-invalid option
parsed after the fuzzed one, so a valid value ends in that option's one-line error instead.
No command takes a profile file, so profiles are fuzzed through :func:`load_profile` on real
files. Examples are bounded so the module runs in seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from wearsync.cli.app import app
from wearsync.profiles import ProfileError, load_profile
from wearsync.routine.loader import builtin_text

runner = CliRunner()
GOOD = builtin_text("foot-care")
SHIPPED_PROFILE = (
    Path(__file__).resolve().parents[2] / "profiles" / "wearsync-timer.toml"
).read_text()
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Values that broke a parser once, or sit on a limit, as TOML literals.
NASTY_TOML = (
    "inf", "-inf", "nan", "+nan", "1e308", "-1e308", "1e-320", "0", "-0.0", "-1",
    "2147483.647", "2147483.648", "2147483647", "2147483648", "65535", "65536", "255", "256",
    "9223372036854775807", "99999999999999999999", '""', '"x"', '"' + "x" * 5000 + '"',
    "[]", "{}", "true", '"24:61"', '"../../etc/passwd"', "1979-05-27T07:32:00Z",
)  # fmt: skip
#: Values that broke an option parser once, or sit on a limit.
NASTY_ARGS = (
    "", " ", "0", "-1", "inf", "-inf", "nan", "1e308", "1e400", "0x10", "99999999999999h",
    "32d", "31d", "1.5h", "500ms", "0.0001ms", "9" * 400, "2026-02-30", "0000-01-01",
    "9999-12-31", "24:00", "23:59", "-5m", "\x00", "é", "skip=-1", "pause=1:-1",
    "abort=999999999999999999999", "start=now", "pause=1:99999999999999999999:3",
)  # fmt: skip

#: Every value a mutation may replace: numbers (also inside inline tables such as
#: ``hold = { counts = 3 }``) and quoted strings, outside comments.
_VALUE = re.compile(r'(?<=[=\s{\[,])(-?\d+(?:\.\d+)?|"[^"\n]*")(?=[\s,}\]])')
_VALUES = [
    m
    for m in _VALUE.finditer(GOOD)
    if "#" not in GOOD[GOOD.rfind("\n", 0, m.start()) : m.start()]
    and GOOD[: m.start()].count('"""') % 2 == 0  # not inside a multi-line string
]
_NUMBERS = [m for m in _VALUES if not m.group().startswith('"')]
_STRINGS = [m for m in _VALUES if m.group().startswith('"')]
#: The numbers of NASTY_TOML: the values that reach the limits of the model and the compiler.
NASTY_NUMBERS = tuple(v for v in NASTY_TOML if not v.startswith(('"', "[", "{", "t", "1979")))


def check(result: Result, *, codes: tuple[int, ...] = (0, 2)) -> None:
    """Exit status in ``codes``, at most one ``error:`` line, no traceback."""
    output = result.output + (result.stderr or "")
    assert result.exit_code in codes, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in output, output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) <= 1, result.stderr


@st.composite
def mutated_routines(draw: st.DrawFn) -> str:
    """The shipped routine with one to three values replaced by nasty or arbitrary ones."""
    text = GOOD
    for match in sorted(
        draw(
            st.lists(
                st.sampled_from(_NUMBERS) | st.sampled_from(_STRINGS),
                min_size=1,
                max_size=3,
                unique_by=id,
            )
        ),
        key=lambda m: -m.start(),
    ):
        value = draw(
            st.one_of(
                st.sampled_from(NASTY_NUMBERS),
                st.sampled_from(NASTY_NUMBERS),
                st.sampled_from(NASTY_TOML),
                st.floats().map(repr),
                st.integers().map(str),
            )
        )
        text = text[: match.start()] + value + text[match.end() :]
    return text


#: Mostly mutated routines (they reach the model and the compiler), some plain garbage.
routine_files = st.one_of(
    mutated_routines().map(str.encode),
    mutated_routines().map(str.encode),
    mutated_routines().map(str.encode),
    st.text(max_size=300).map(str.encode),
    st.binary(max_size=300),
)


@pytest.mark.slow
@settings(FUZZ, max_examples=80)
@given(data=routine_files, command=st.sampled_from(["validate", "show", "plan"]))
def test_routine_files(tmp_path: Path, data: bytes, command: str) -> None:
    path = tmp_path / "fuzzed.toml"
    path.write_bytes(data)
    check(runner.invoke(app, ["routine", command, str(path)]))


@FUZZ
@given(
    count=st.sampled_from(NASTY_ARGS) | st.floats().map(repr),
    rest=st.sampled_from(["min", "mid", "max", "MAX", "", "inf"]),
)
def test_plan_options(count: str, rest: str) -> None:
    check(
        runner.invoke(
            app, ["routine", "plan", "foot-care", "--count-seconds", count, "--rest", rest]
        )
    )


@FUZZ
@given(interval=st.sampled_from(NASTY_ARGS) | st.text(max_size=20) | st.floats().map(repr))
def test_sync_intervals(interval: str) -> None:
    # A valid --sync-every is followed by an invalid --retry: exit 2 either way, no daemon.
    result = runner.invoke(app, ["serve", "--sync-every", interval, "--retry", "never"])
    check(result, codes=(2,))


@FUZZ
@given(interval=st.sampled_from(NASTY_ARGS) | st.text(max_size=20))
def test_retry_intervals(interval: str) -> None:
    result = runner.invoke(app, ["serve", "--sync-every", "0", "--retry", interval])
    check(result, codes=(2,))


@FUZZ
@given(speed=st.sampled_from(NASTY_ARGS) | st.floats().map(repr))
def test_simulator_speeds(speed: str) -> None:
    # --features is parsed after --speed and this one is never valid, so no simulator starts.
    result = runner.invoke(app, ["sim", "--port", "0", "--speed", speed, "--features", "bogus"])
    check(result, codes=(2,))


@FUZZ
@given(script=st.sampled_from(NASTY_ARGS) | st.text(max_size=40))
def test_wearer_scripts(script: str) -> None:
    result = runner.invoke(app, ["sim", "--port", "0", "--wearer", script, "--features", "bogus"])
    check(result, codes=(2,))


@FUZZ
@given(days=st.sampled_from(NASTY_ARGS) | st.integers().map(str))
def test_history_days(days: str) -> None:
    check(runner.invoke(app, ["history", "--days", days]))


@FUZZ
@given(
    option=st.sampled_from(["--start", "--at", "--daily-at"]),
    value=st.sampled_from(NASTY_ARGS) | st.dates().map(str) | st.text(max_size=12),
)
def test_export_dates_and_times(tmp_path: Path, option: str, value: str) -> None:
    out = tmp_path / "out.ics"
    check(runner.invoke(app, ["export", "ics", "--history", "none", option, value, "-o", str(out)]))


@FUZZ
@given(
    data=st.text(max_size=300).map(str.encode)
    | st.binary(max_size=200)
    | st.sampled_from(NASTY_TOML).map(
        lambda v: re.sub(
            r"(?m)^(max_program_bytes\s*=\s*).*$", rf"\g<1>{v}", SHIPPED_PROFILE
        ).encode()
    )
)
def test_profile_files(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "wearsync-timer.toml"
    path.write_bytes(data)
    try:
        load_profile(path)
    except ProfileError as exc:
        assert "\n" not in str(exc)
        assert exc.exit_code == 2
