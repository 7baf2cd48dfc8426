"""``wearsync routine``: list, show, plan and validate routines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel

from wearsync.cli.common import JsonOption, emit, format_duration, new_app
from wearsync.routine.compiler import CompileOptions, TimerProgram, compile_routine
from wearsync.routine.describe import describe_schedule, describe_structure
from wearsync.routine.loader import builtin_names, load_routine
from wearsync.routine.model import RangePick, Routine

app = new_app()

RoutineRef = Annotated[
    str,
    typer.Argument(help="A built-in routine name (see 'wearsync routine list') or a .toml file."),
]
CountSecondsOption = Annotated[
    float | None,
    typer.Option(
        "--count-seconds",
        min=0.1,
        max=10,
        help="Seconds per spoken count (default: the routine's).",
    ),
]
RestPickOption = Annotated[
    RangePick,
    typer.Option("--rest", help="Which end of a rest range to use when the routine does not say."),
]


class ExerciseSummary(BaseModel):
    """One exercise of ``routine show``."""

    id: str
    name: str
    structure: str
    equipment: list[str]
    times_per_day: int
    active_ms: int


class RoutineSummary(BaseModel):
    """One line of ``routine list``."""

    name: str
    title: str
    exercises: int
    total_ms: int


class RoutineList(BaseModel):
    """The result of ``routine list``."""

    routines: list[RoutineSummary]


class RoutineShow(BaseModel):
    """The result of ``routine show``: the routine, its per-exercise times and total time."""

    routine: Routine
    exercises: list[ExerciseSummary]
    total_ms: int
    program_hash: str
    schedule: str


class ValidateResult(BaseModel):
    """The result of ``routine validate`` on a valid file."""

    file: str
    valid: bool
    name: str
    exercises: int
    total_ms: int


def _options(count_seconds: float | None, rest: RangePick) -> CompileOptions:
    return CompileOptions(count_seconds=count_seconds, rest_pick=rest)


@app.command("list")
def list_routines(as_json: JsonOption = False) -> None:
    """List the built-in routines."""
    rows = []
    for name in builtin_names():
        routine = load_routine(name)
        rows.append(
            RoutineSummary(
                name=name,
                title=routine.title,
                exercises=len(routine.exercises),
                total_ms=compile_routine(routine).total_ms,
            )
        )
    emit(RoutineList(routines=rows), as_json, _render_list)


@app.command()
def show(
    ref: RoutineRef,
    count_seconds: CountSecondsOption = None,
    rest: RestPickOption = RangePick.MAX,
    as_json: JsonOption = False,
) -> None:
    """Show a routine: its exercises, the time each takes, the total time and the schedule."""
    routine = load_routine(ref)
    program = compile_routine(routine, _options(count_seconds, rest))
    exercises = [
        ExerciseSummary(
            id=ex.id,
            name=ex.name,
            structure=describe_structure(routine, ex.id),
            equipment=list(ex.equipment),
            times_per_day=ex.times_per_day,
            active_ms=pex.active_ms,
        )
        for ex, pex in zip(routine.exercises, program.exercises, strict=True)
    ]
    result = RoutineShow(
        routine=routine,
        exercises=exercises,
        total_ms=program.total_ms,
        program_hash=program.content_hash,
        schedule=describe_schedule(routine),
    )
    emit(result, as_json, _render_show)


@app.command()
def plan(
    ref: RoutineRef,
    count_seconds: CountSecondsOption = None,
    rest: RestPickOption = RangePick.MAX,
    exercise: Annotated[
        list[str] | None,
        typer.Option("--exercise", "-e", help="Only this exercise id (repeatable)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the compiled timer program: every step with its time, duration and cue."""
    routine = load_routine(ref)
    opts = CompileOptions(
        count_seconds=count_seconds,
        rest_pick=rest,
        exercises=tuple(exercise) if exercise else None,
    )
    try:
        program = compile_routine(routine, opts)
    except KeyError as exc:
        from wearsync.errors import InputError

        known = ", ".join(ex.id for ex in routine.exercises)
        raise InputError(
            f"--exercise: no exercise {exc.args[0]!r} in {ref} (ids: {known})"
        ) from exc
    emit(program, as_json, _render_plan)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="The routine file to check.")],
    as_json: JsonOption = False,
) -> None:
    """Check a routine file; exit 2 with one line naming the file, field and problem if invalid."""
    routine = load_routine(file)
    program = compile_routine(routine)
    result = ValidateResult(
        file=str(file),
        valid=True,
        name=routine.name,
        exercises=len(routine.exercises),
        total_ms=program.total_ms,
    )
    emit(
        result,
        as_json,
        lambda r: typer.echo(
            f"{r.file}: valid routine {r.name!r}, "
            f"{r.exercises} exercises, "
            f"{format_duration(r.total_ms)} total"
        ),
    )


def _render_list(result: RoutineList) -> None:
    for r in result.routines:
        typer.echo(
            f"{r.name:<16} {r.exercises} exercises  {format_duration(r.total_ms):>6}  {r.title}"
        )


def _render_show(result: RoutineShow) -> None:
    from rich.console import Console
    from rich.table import Table

    routine = result.routine
    console = Console(highlight=False)
    console.print(f"[bold]{routine.title}[/bold]  ({routine.name})")
    if routine.description:
        console.print(routine.description)
    table = Table(show_edge=False)
    table.add_column("#", justify="right")
    table.add_column("exercise")
    table.add_column("structure")
    table.add_column("per day", justify="right")
    table.add_column("time", justify="right")
    for n, ex in enumerate(result.exercises, 1):
        table.add_row(
            str(n), ex.name, ex.structure, str(ex.times_per_day), format_duration(ex.active_ms)
        )
    console.print(table)
    budget = routine.schedule.session_minutes
    console.print(
        f"total {format_duration(result.total_ms)} with transitions"
        + (f" (budget {budget:g} min)" if budget else "")
    )
    console.print(f"schedule: {result.schedule}")
    console.print(f"program hash: {result.program_hash[:16]}")


def _render_plan(program: TimerProgram) -> None:
    names = [ex.name for ex in program.exercises]
    for step in program.steps:
        where = f"set {step.set} rep {step.rep}" if step.rep else ""
        side = "" if step.side.value == "both" else step.side.value
        direction = "" if step.direction.value == "none" else step.direction.value
        detail = " ".join(x for x in (where, side, direction) if x)
        countdown = f" countdown {step.countdown_ms // 1000}s" if step.countdown_ms else ""
        typer.echo(
            f"{format_duration(step.start_ms):>6}  {step.duration_ms / 1000:>5g}s  "
            f"{step.kind.value:<11} {names[step.exercise]:<20} {detail:<28} "
            f"cue {step.cue}{countdown}"
        )
    typer.echo(f"{format_duration(program.total_ms):>6}  end          cue {program.end_cue}")
    typer.echo(
        f"total {format_duration(program.total_ms)}, {len(program.steps)} steps, "
        f"hash {program.content_hash[:16]}"
    )
