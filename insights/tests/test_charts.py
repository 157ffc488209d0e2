from __future__ import annotations

import pytest

from insights import charts


def test_bar_chart_of_counts_has_whole_number_ticks():
    chart = charts.bar_chart([("Mon", 0), ("Tue", 3), ("Wed", 6)])

    # Max 6 in steps of 2; the plot is 220 - 10 - 28 = 182 px tall.
    assert [t.label for t in chart.ticks] == ["0", "2", "4", "6"]
    heights = [round(b.height, 1) for b in chart.bars]
    assert heights == [0.0, 91.0, 182.0]
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


@pytest.mark.parametrize(
    ("values", "labels"),
    [
        ([1], ["0", "1"]),
        ([2, 3], ["0", "1", "2", "3"]),
        ([5], ["0", "2", "4", "6"]),
        ([13], ["0", "5", "10", "15"]),
        ([0, 0], ["0", "1"]),
        ([240], ["0", "100", "200", "300"]),
    ],
)
def test_count_ticks_are_never_fractional(values, labels):
    chart = charts.bar_chart([(str(i), v) for i, v in enumerate(values)])

    assert [t.label for t in chart.ticks] == labels


def test_the_last_date_label_is_not_clipped():
    chart = charts.bar_chart([(f"{day:02d} Dec", 1) for day in range(1, 31)])

    assert chart.x_labels[0].text == "02 Dec"  # every 4th day, counted from the latest
    last = chart.x_labels[-1]
    assert last.text == "30 Dec"
    assert last.anchor in ("end", "middle")
    right_edge = last.x + (charts.LABEL_HALF_WIDTH if last.anchor == "middle" else 0)
    assert right_edge <= chart.width


def test_line_chart_has_dates_under_the_axis():
    chart = charts.line_chart([("01 Dec", 50), ("03 Dec", 70), ("09 Dec", 90)])

    assert [label.text for label in chart.x_labels] == ["01 Dec", "03 Dec", "09 Dec"]
    assert chart.x_labels[-1].anchor == "end"
