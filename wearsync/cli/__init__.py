"""The typer command-line interface: parse input, call a service, render output."""
