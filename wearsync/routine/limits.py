"""The limits of the watch's program format (docs/protocol.md §5), as the routine layer sees them.

The routine layer must not import a watch codec, yet a routine it accepts must be one every
watch can store: ``routine validate`` and a sync have to agree. So the numbers of §5 are
restated here, and the model (:mod:`wearsync.routine.model`) and the compiler
(:mod:`wearsync.routine.compiler`) check them; a test encodes a routine at every limit to keep
the two copies equal.
"""

from __future__ import annotations

from typing import Final

#: Longest step (§5.1.2): 2**31 - 1 ms, about 24.8 days.
MAX_DURATION_MS: Final = 0x7FFF_FFFF
#: The same in seconds, the unit routine files use.
MAX_DURATION_SECONDS: Final = MAX_DURATION_MS / 1000
#: Repetitions per set (§5.4: a varint of 1..65535).
MAX_REPS: Final = 0xFFFF
#: Sets per side (§5.4: a u8 of 1..255).
MAX_SETS: Final = 0xFF
#: Exercise records in one program (§5.2: a u8 of 1..255).
MAX_EXERCISES: Final = 0xFF
#: Cue table entries (§5.2: a u8 of 0..255).
MAX_CUES: Final = 0xFF
#: Steps the program unrolls into (§5.5: step indices are u16).
MAX_STEPS: Final = 0xFFFF
#: Longest gap between two sessions a schedule may ask for; beyond a year is not a routine.
MAX_EVERY_DAYS: Final = 366
#: Largest routine or profile file read; real ones are a few kilobytes, and a bound stops
#: ``/dev/zero`` or a mistyped path to a disk image from being read forever.
MAX_FILE_BYTES: Final = 1 << 20
