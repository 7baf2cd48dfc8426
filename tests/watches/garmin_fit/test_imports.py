"""The FIT library loads only when a file is written or read, never at import."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_family_does_not_load_fit_tool() -> None:
    code = (
        "import sys\n"
        "import wearsync.watches.garmin_fit.activity, wearsync.watches.garmin_fit.codec\n"
        "import wearsync.watches.garmin_fit.folder, wearsync.watches.garmin_fit.workout\n"
        "fit = ('fit_tool', 'garmin_fit_sdk')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in fit))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
