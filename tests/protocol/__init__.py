"""Tests of the pure codecs of docs/protocol.md, organised by section."""
