"""The simulated watch and the virtual radio it runs on, built on bumble.

Nothing outside ``wearsync/sim`` and ``wearsync/ble`` imports bumble; tests and benchmarks use
this package to run real GATT traffic without Bluetooth hardware.
"""
