"""The citizens' SVG charts: described for screen readers, values escaped, bands counted."""

from __future__ import annotations

import pytest

from joinedup.citizens.charts import Pair, chance_bands, chance_chart, share_chart


def test_share_chart_names_the_largest_shortfall_and_escapes_labels() -> None:
    pairs = [Pair("<b>16-24</b>", 0.05, 0.15), Pair("75+", 0.30, 0.12), Pair("Other", 0.1, None)]

    svg = str(share_chart("age", "Age band", pairs))

    assert 'role="img"' in svg
    assert "16-24" in svg
    assert "<b>" not in svg
    assert "largest shortfall is &lt;b&gt;16-24&lt;/b&gt;, 10.0 percentage points" in svg
    assert "5.0%" in svg
    assert "15.0%" in svg
    assert 'style="' not in svg  # the content security policy forbids inline styles


def test_share_chart_says_when_there_is_no_gap() -> None:
    svg = str(share_chart("sex", "Sex", [Pair("Female", 0.5, 0.5), Pair("Male", 0.5, 0.5)]))

    assert "share of the pool is below its share of the population" in svg
    assert "shortfall" not in svg


def test_chance_bands_count_every_volunteer_once() -> None:
    probabilities = [0.1, 0.1, 0.2, 0.25, 0.5, 0.5, 0.0]

    bands = chance_bands(probabilities, bands=5)

    assert sum(b.count for b in bands) == len(probabilities)
    assert bands[-1].high == pytest.approx(0.5)
    assert bands[-1].count == 2
    assert bands[0].count == 1


def test_chance_chart_marks_the_equal_share() -> None:
    svg = str(chance_chart("chances", chance_bands([0.2] * 10), 0.2))

    assert "equal share 0.2000" in svg
    assert "How many of the 10 volunteers" in svg
