from __future__ import annotations

from insights import charts


def test_bar_chart_scales_to_a_round_maximum():
    chart = charts.bar_chart([("Mon", 0), ("Tue", 3), ("Wed", 6)])

    # Max 6 rounds up to 10; the plot is 220 - 10 - 28 = 182 px tall.
    assert [t.label for t in chart.ticks] == ["0", "2.5", "5", "7.5", "10"]
    heights = [round(b.height, 1) for b in chart.bars]
    assert heights == [0.0, 54.6, 109.2]
    assert all(round(b.y + b.height, 1) == chart.baseline for b in chart.bars)


def test_bar_chart_labels_at_most_eight_days():
    chart = charts.bar_chart([(f"d{i}", 1) for i in range(30)])

    assert sum(b.show_label for b in chart.bars) == 8  # every 4th of 30 bars


def test_line_chart_maps_percentages_to_height():
    chart = charts.line_chart([("a", 0), ("b", 50), ("c", 100)])

    assert [round(p.y, 1) for p in chart.points] == [192.0, 101.0, 10.0]
    assert chart.polyline.startswith("44.0,192.0 ")


def test_level_chart_marks_targets():
    chart = charts.level_chart([("Python", 5, 8), ("SQL", 10, None)])

    # 600 - 150 - 10 - 30 = 410 px for levels 0-10.
    assert [round(r.width, 1) for r in chart.rows] == [205.0, 410.0]
    assert round(chart.rows[0].target_x, 1) == 150 + 328.0
    assert chart.rows[1].target_x is None
