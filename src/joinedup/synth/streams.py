"""Named, independent random streams for each part of the generator.

Every component asks for its own `numpy.random.Generator` by name. The stream is
derived from the run's seed and a stable hash of the name, so adding, removing or
reordering components never changes the numbers another component draws.

This module must never hold a global generator or seed numpy's legacy global state.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the generator for component `name` under run seed `seed`."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))
