"""The server-drawn chart: bars in proportion to the counts, every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from wearsync.web.chart import Bar, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def bars_of(svg: str) -> dict[str, list[float]]:
    root = ET.fromstring(svg)
    heights: dict[str, list[float]] = {"planned": [], "done": []}
    for rect in root.iter(f"{SVG}rect"):
        heights[rect.get("class", "")].append(float(rect.get("height", "nan")))
    return heights


def test_bar_heights_are_in_proportion_to_the_counts() -> None:
    bars = [Bar("01 Sep", 4, 2), Bar("08 Sep", 4, 4), Bar("15 Sep", 3, 0)]
    heights = bars_of(bar_chart(bars, ident="c", title="t", description="d"))
    tallest = heights["planned"][0]
    assert tallest > 0
    assert heights["planned"] == [tallest, tallest, tallest * 3 / 4]
    assert heights["done"] == [tallest / 2, tallest, 0.0]


def test_the_chart_is_an_image_with_a_name_and_escaped_text() -> None:
    svg = bar_chart([Bar("<b>&", 1, 1)], ident="x", title="Toe <presses>", description='say "hi"')
    root = ET.fromstring(svg)  # well-formed XML: nothing leaked unescaped
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "x-t x-d"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Toe <presses>"
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg


def test_an_empty_week_draws_no_height_but_keeps_the_axis() -> None:
    svg = bar_chart([Bar("01 Sep", 0, 0)], ident="e", title="t", description="d")
    heights = bars_of(svg)
    assert heights == {"planned": [0.0], "done": [0.0]}
    assert ">0</text>" in svg and ">1</text>" in svg
