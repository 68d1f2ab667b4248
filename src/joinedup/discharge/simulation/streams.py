"""Named random-number streams, so that scenarios share random numbers.

Every random draw in the simulator comes from a stream named by (seed, purpose, key,
replication): replication 7 of pathway "pathway 2" sees the same arrivals and the same
lengths of stay whatever its capacity, whatever the other pathways do and however many
replications run beside it. That is common random numbers: the difference between two
capacities is measured on the same patients, so it is far less noisy than the noise of
either run. Streams come from ``numpy.random.SeedSequence`` spawn keys; this module must
never touch a global seed.
"""

from __future__ import annotations

import zlib
from typing import Final, Literal

import numpy as np

Purpose = Literal["arrivals", "stays", "census"]
_PURPOSES: Final[dict[str, int]] = {"arrivals": 1, "stays": 2, "census": 3}


def stream(seed: int, *, purpose: Purpose, key: str, replication: int) -> np.random.Generator:
    """The generator for one purpose of one queue (``key``) in one replication."""
    spawn_key = (_PURPOSES[purpose], zlib.crc32(key.encode("utf-8")), replication)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))


def streams(
    seed: int, *, purpose: Purpose, key: str, replications: int
) -> list[np.random.Generator]:
    """One generator per replication, replication ``r`` being ``stream(..., replication=r)``."""
    return [stream(seed, purpose=purpose, key=key, replication=r) for r in range(replications)]
