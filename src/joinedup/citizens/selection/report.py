"""The fairness report: lowest, highest and Gini of the selection probabilities, against k/n.

Pure arithmetic over a probability vector; nothing here decides a selection.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from joinedup.citizens.selection.highs import FloatArray


def gini(values: FloatArray) -> float:
    """The Gini coefficient (0 = everyone equal; towards 1 = concentrated)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(x), float(x.sum())
    if n == 0 or total == 0.0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * (ranks * x).sum()) / (n * total) - (n + 1.0) / n)


def fairness(probabilities: FloatArray, k: int, selectable: np.ndarray) -> dict[str, Any]:
    """Min (over volunteers who can be selected), max, Gini, and how they compare with k/n."""
    n = len(probabilities)
    fair = k / n
    p = probabilities[selectable] if selectable.any() else probabilities
    low, high = float(p.min()), float(probabilities.max())
    return {
        "min_probability": low,
        "min_probability_all": float(probabilities.min()),
        "max_probability": high,
        "gini": gini(probabilities),
        "equal_share": fair,
        "min_over_equal_share": low / fair,
        "max_over_equal_share": high / fair,
        "sum_probabilities": float(probabilities.sum()),
        "below_half_equal_share": int((probabilities < fair / 2).sum()),
    }
