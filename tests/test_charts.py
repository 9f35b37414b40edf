"""Charts are readable pictures with their numbers in words, and safe to put in a page."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from engine.reporting.charts import Point, Series, Share, bar_chart, line_chart, share_chart

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


def test_a_line_chart_names_every_value_and_breaks_at_a_gap() -> None:
    svg = line_chart(
        "People accessing",
        ["Q1", "Q2", "Q3", "Q4"],
        [Series("Org A", (10, 12, None, 15))],
        target=14,
        ident="trend-people",
    )
    root = ET.fromstring(svg)
    assert root.get("aria-labelledby") == "trend-people-title trend-people-desc"
    assert root.find(f"{SVG}desc").text == "Q1: 10; Q2: 12; Q3: no data; Q4: 15; target 14"
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 2  # Q1 to Q2; Q4 alone
    assert len(root.findall(f"{SVG}circle")) == 3  # a marker for each value
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "no data" in texts and "target 14" in texts and "15" in texts


def test_several_lines_differ_by_dash_and_marker_and_have_a_legend() -> None:
    svg = line_chart(
        "By organisation",
        ["Q1", "Q2"],
        [Series("Org A", (1, 2)), Series("Org <B>", (3, None))],
    )
    root = ET.fromstring(svg)
    desc = root.find(f"{SVG}desc").text
    assert desc == "Q1: Org A 1, Org <B> 3; Q2: Org A 2, Org <B> no data"
    dashes = [p.get("stroke-dasharray") for p in root.findall(f"{SVG}polyline")]
    assert dashes == [None]  # Org <B> has one point: a marker, no line
    assert root.findall(f"{SVG}rect")  # the second series' markers are squares, not circles
    assert "Org <B>" in [t.text for t in root.iter(f"{SVG}text")]  # the legend, escaped
    assert "<B>" not in svg


def test_a_line_chart_with_no_values_says_so() -> None:
    root = ET.fromstring(line_chart("Nothing", ["Q1"], [Series("A", (None,))]))
    assert "no data yet" in [t.text for t in root.iter(f"{SVG}text")]


def test_a_share_chart_shows_each_share_the_population_and_hidden_counts() -> None:
    svg = share_chart(
        "Sex",
        [
            Share("Female", 60.0, 51.0),
            Share("Male", 30.0, 49.0),
            Share("Other", None, None, "fewer than 5"),
        ],
        ident="people-sex",
    )
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}desc").text == (
        "Female: 60%, population 51%; Male: 30%, population 49%; Other: fewer than 5"
    )
    assert len(root.findall(f"{SVG}rect")) == 2  # no bar for a hidden count
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "fewer than 5" in texts and "population share" in texts and "60%" in texts


def _axis(svg: str) -> list[str]:
    """The value axis's labels, bottom to top (the text just left of the plot)."""
    root = ET.fromstring(svg)
    return [
        t.text
        for t in root.iter(f"{SVG}text")
        if t.get("text-anchor") == "end" and t.get("x") == "50"
    ]


def test_a_count_axis_goes_up_in_whole_numbers_and_a_share_keeps_its_steps() -> None:
    assert _axis(bar_chart("Returns", [Point("Q1", 1), Point("Q2", 2)])) == ["0", "1", "2"]
    assert _axis(line_chart("Returns", ["Q1", "Q2"], [Series("A", (0, 3))], whole=True)) == [
        "0", "1", "2", "3"]  # fmt: skip
    # a percentage, and an average, may fall between whole numbers
    assert _axis(bar_chart("Share", [Point("Q1", 2)], unit="%")) == ["0", "0.5", "1", "1.5", "2"]
    assert _axis(bar_chart("Average", [Point("Q1", 1.5)])) == ["0", "0.5", "1", "1.5"]
    assert _axis(bar_chart("Spend", [Point("Q1", 30000)])) == ["0", "10,000", "20,000", "30,000"]


def test_charts_use_the_services_font_not_the_svg_default() -> None:
    for svg in (bar_chart("A", [Point("Q1", 1)]), line_chart("A", ["Q1"], [Series("A", (1,))]),
                share_chart("A", [Share("F", 50.0)])):  # fmt: skip
        assert "GDS Transport" in ET.fromstring(svg).get("font-family", "")


def test_a_period_not_reported_is_a_marked_gap_not_a_zero() -> None:
    svg = bar_chart("People", [Point("Q1", None, "not reported"), Point("Q2", 0)])
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}desc").text == "Q1: not reported; Q2: 0"
    assert "not reported" in [t.text for t in root.iter(f"{SVG}text")]
    line = line_chart("People", ["Q1", "Q2"], [Series("A", (None, 5), ("not reported", ""))])
    assert ET.fromstring(line).find(f"{SVG}desc").text == "Q1: not reported; Q2: 5"
    nothing = line_chart("People", ["Q1"], [Series("A", (None,), ("not reported",))])
    assert "nothing reported yet" in [t.text for t in ET.fromstring(nothing).iter(f"{SVG}text")]
