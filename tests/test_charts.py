"""Charts are readable pictures with their numbers in words, and safe to put in a page."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from engine.charts import Point, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_a_bar_chart_names_every_value_and_the_target() -> None:
    svg = bar_chart(
        "People accessing, by quarter",
        [Point("Q1", 120), Point("Q2", 150), Point("Q3", None)],
        target=140,
    )
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").get("id") == "chart-title"
    assert root.find(f"{SVG}title").text == "People accessing, by quarter"
    assert root.find(f"{SVG}desc").text == "Q1: 120; Q2: 150; Q3: no data; target 140"
    assert len(root.findall(f"{SVG}rect")) == 2  # a gap, not a zero bar, where there is no data
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "no data" in texts and "target 140" in texts


def test_labels_are_escaped() -> None:
    svg = bar_chart("<script>alert(1)</script>", [Point("<b>org</b>", 3)])
    assert "<script>" not in svg and "<b>" not in svg
    ET.fromstring(svg)  # still well-formed
