"""A simulated Bangle.js (Espruino) for tests: Node.js runs the real watch-side JavaScript.

``espruino_vm.js`` stands in for the Espruino APIs the wearsync runner uses (``Bangle.buzz``,
timers on a virtual clock, ``require("Storage")`` kept on disk, ``setWatch`` on BTN1, ``g``,
``Bluetooth.println``, the REPL and the Programmable setting); :class:`EspruinoVM` drives it.
"""

from wearsync.watches.bangle.espruino.vm import (
    DEFAULT_WALL_START,
    Buzz,
    EspruinoVM,
    NodeNotFoundError,
    SimulatorError,
    VMState,
)

__all__ = [
    "DEFAULT_WALL_START",
    "Buzz",
    "EspruinoVM",
    "NodeNotFoundError",
    "SimulatorError",
    "VMState",
]
