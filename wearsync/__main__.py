"""``python -m wearsync`` runs the CLI."""

from wearsync.cli.app import main

main()
