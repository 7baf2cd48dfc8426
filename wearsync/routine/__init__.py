"""Routines: the pydantic models, the TOML loader and the timer compiler."""

from wearsync.routine.compiler import (
    CompileOptions,
    ProgramExercise,
    Step,
    StepKind,
    TimerProgram,
    compile_routine,
)
from wearsync.routine.cues import CUE_SLOTS, DEFAULT_CUES, Cue
from wearsync.routine.loader import builtin_names, load_routine, parse_routine
from wearsync.routine.model import (
    Direction,
    Exercise,
    Range,
    RangePick,
    Routine,
    Schedule,
    Side,
    Span,
)

__all__ = [
    "CUE_SLOTS",
    "DEFAULT_CUES",
    "CompileOptions",
    "Cue",
    "Direction",
    "Exercise",
    "ProgramExercise",
    "Range",
    "RangePick",
    "Routine",
    "Schedule",
    "Side",
    "Span",
    "Step",
    "StepKind",
    "TimerProgram",
    "builtin_names",
    "compile_routine",
    "load_routine",
    "parse_routine",
]
