"""The subscribe link as a QR code, so a phone's camera can take it off the screen (segno)."""

from __future__ import annotations

import io


def terminal_qr(text: str) -> str:
    """``text`` as a QR code drawn with block characters, two modules per character row."""
    import segno  # only the commands that draw a code pay for the import

    out = io.StringIO()
    segno.make(text, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def svg_qr(text: str) -> str:
    """``text`` as an inline ``<svg>`` element (no XML declaration), for an HTML page."""
    import segno

    svg: str = segno.make(text, error="m").svg_inline(scale=5, title="Subscribe link")
    return svg
