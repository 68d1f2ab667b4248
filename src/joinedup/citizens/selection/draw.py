"""From a distribution to a panel: the seeded draw, the public lottery and its draw.

``sample_panel`` picks a composition by its weight, then the members of each type
uniformly; every volunteer's chance is then exactly their probability. ``public_lottery``
turns the distribution into a published list of equally likely concrete panels (e.g.
1,000, after Flanigan, Kehne and Procaccia, "Fair sortition made transparent", 2021), so
that a number announced at a meeting picks the panel and anyone can check it.
It never reads files or the clock: the randomness is the caller's Generator.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from joinedup.citizens.selection.highs import FloatArray, IntArray
from joinedup.citizens.selection.model import Distribution, Instance
from joinedup.errors import InvalidInput


def sample_panel(inst: Instance, dist: Distribution, rng: np.random.Generator) -> tuple[int, ...]:
    """Draw one panel (pool row indices, sorted)."""
    j = int(rng.choice(len(dist.weights), p=dist.weights))
    chosen: list[int] = []
    for t in np.flatnonzero(dist.compositions[j]):
        members = inst.members[t]
        count = int(dist.compositions[j][t])
        chosen.extend(int(m) for m in rng.choice(members, size=count, replace=False))
    return tuple(sorted(chosen))


def _round_counts(weights: FloatArray, size: int) -> IntArray:
    """Largest-remainder rounding of ``weights * size`` to whole panels summing to size."""
    exact = weights * size
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: size - int(counts.sum())]] += 1
    return counts


def public_lottery(
    inst: Instance, dist: Distribution, rng: np.random.Generator, *, size: int = 1000
) -> list[tuple[int, ...]]:
    """``size`` concrete panels, each to be equally likely, close to the distribution.

    Copies of a composition are rounded from its weight; within a type, members fill the
    seats in a shuffled cyclic order, so members' counts differ by at most one.
    """
    counts = _round_counts(dist.weights, size)
    cursor = [0] * inst.num_types
    order = [rng.permutation(m) for m in inst.members]
    panels = []
    for j in np.flatnonzero(counts):
        for _ in range(int(counts[j])):
            panel: list[int] = []
            for t in np.flatnonzero(dist.compositions[j]):
                m = len(order[t])
                for _ in range(int(dist.compositions[j][t])):
                    panel.append(int(order[t][cursor[t] % m]))
                    cursor[t] += 1
            panels.append(tuple(sorted(panel)))
    return [panels[i] for i in rng.permutation(len(panels))]


def lottery_probabilities(num_agents: int, panels: list[tuple[int, ...]]) -> FloatArray:
    """Each volunteer's chance under a uniform draw from the published panels."""
    counts = np.zeros(num_agents)
    for panel in panels:
        counts[list(panel)] += 1
    return counts / len(panels)


def public_draw(panels: list[tuple[str, ...]], number: int) -> tuple[str, ...]:
    """The panel an announced number (1 to the number of panels) selects."""
    if not 1 <= number <= len(panels):
        raise InvalidInput(f"the number must be between 1 and {len(panels)}", where="number")
    return panels[number - 1]


def lottery_digest(panels: list[tuple[str, ...]]) -> str:
    """SHA-256 of the published list, to announce before the number is drawn."""
    return hashlib.sha256(json.dumps(panels, separators=(",", ":")).encode()).hexdigest()
