"""A bar chart of planned against done, drawn on the server as inline SVG (no script, no image).

Colours come from the page's stylesheet (classes ``planned`` and ``done``), so the chart follows
the light or dark scheme. The chart is ``role="img"`` with a title and description; the page puts
the same figures in a table next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wearsync.web.markup import esc

WIDTH = 480
HEIGHT = 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 28, 6, 10, 30


@dataclass(frozen=True, slots=True)
class Bar:
    """One group: a label (a week) and its planned and done counts."""

    label: str
    planned: int
    done: int


def bar_chart(bars: Sequence[Bar], *, ident: str, title: str, description: str) -> str:
    """An ``<svg>`` with a planned bar and a done bar per group, and a y axis of whole counts.

    Args:
        bars: the groups, left to right.
        ident: a prefix for the ids of the title and description (unique on the page).
        title: the chart's accessible name.
        description: the chart's accessible description.
    """
    top = max([1, *(max(b.planned, b.done) for b in bars)])
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    slot = plot_w / max(1, len(bars))
    bar_w = min(24.0, max(2.0, slot * 0.36))
    label_every = 1 if len(bars) <= 6 else 2 if len(bars) <= 12 else 4

    def y(value: int) -> float:
        return _TOP + plot_h - plot_h * value / top

    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{esc(ident)}-t {esc(ident)}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{esc(ident)}-t">{esc(title)}</title>'
        f'<desc id="{esc(ident)}-d">{esc(description)}</desc>'
    ]
    step = max(1, -(-top // 4))
    for tick in range(0, top + 1, step):
        ty = y(tick)
        out.append(
            f'<line class="axis" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text x="{_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    for i, bar in enumerate(bars):
        x = _LEFT + i * slot + (slot - 2 * bar_w) / 2
        for offset, value, kind in ((0.0, bar.planned, "planned"), (bar_w, bar.done, "done")):
            by = y(value)
            out.append(
                f'<rect class="{kind}" x="{x + offset:.1f}" y="{by:.1f}" width="{bar_w:.1f}" '
                f'height="{_TOP + plot_h - by:.1f}"><title>{esc(bar.label)}: {value} {kind}'
                "</title></rect>"
            )
        if i % label_every == (len(bars) - 1) % label_every:
            out.append(
                f'<text x="{_LEFT + (i + 0.5) * slot:.1f}" y="{HEIGHT - _BOTTOM + 18}" '
                f'text-anchor="middle">{esc(bar.label)}</text>'
            )
    out.append("</svg>")
    return "".join(out)
