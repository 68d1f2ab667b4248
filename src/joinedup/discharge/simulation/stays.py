"""Length-of-stay distributions, sampled by inverse transform.

Each distribution turns uniforms into stays (``quantile``), so two scenarios that differ
only in the distribution still use the same uniforms (common random numbers, see
``streams``). ``remaining`` draws the stay still to run for a patient found in service
at a random moment of a steady state: the stay is length-biased (long stays are more
likely to be caught in progress) and a uniform fraction of it remains.

Stays are in days. Nothing here knows about queues.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri  # type: ignore[import-untyped]

from joinedup.errors import InvalidInput

FloatArray = NDArray[np.float64]


class StayDistribution(Protocol):
    """What the simulator needs from a length-of-stay distribution."""

    @property
    def mean_days(self) -> float: ...

    def quantile(self, u: FloatArray) -> FloatArray:
        """Stays for uniforms ``u`` in [0, 1)."""
        ...

    def remaining(self, u: FloatArray, v: FloatArray) -> FloatArray:
        """Residual stays of patients in service in a steady state, from two uniforms."""
        ...

    def describe(self) -> dict[str, object]:
        """A JSON-ready description (for results and scenario files)."""
        ...


@dataclass(frozen=True)
class Exponential:
    """Exponential stays: memoryless, so the residual stay has the same distribution."""

    mean_days: float

    def __post_init__(self) -> None:
        _check_positive(self.mean_days, "mean_days")

    def quantile(self, u: FloatArray) -> FloatArray:
        return -self.mean_days * np.log(1.0 - u)  # np.log is vectorised; log1p is not

    def remaining(self, u: FloatArray, v: FloatArray) -> FloatArray:  # noqa: ARG002
        return self.quantile(u)

    def describe(self) -> dict[str, object]:
        return {"distribution": "exponential", "mean_days": self.mean_days}


@dataclass(frozen=True)
class Lognormal:
    """Lognormal stays given by their mean and coefficient of variation (sd / mean)."""

    mean_days: float
    cv: float

    def __post_init__(self) -> None:
        _check_positive(self.mean_days, "mean_days")
        _check_positive(self.cv, "cv")

    @property
    def sigma(self) -> float:
        return math.sqrt(math.log1p(self.cv**2))

    @property
    def mu(self) -> float:
        return math.log(self.mean_days) - self.sigma**2 / 2

    def quantile(self, u: FloatArray) -> FloatArray:
        return np.exp(self.mu + self.sigma * ndtri(u))  # type: ignore[no-any-return]

    def remaining(self, u: FloatArray, v: FloatArray) -> FloatArray:
        # The length-biased lognormal(mu, sigma) is lognormal(mu + sigma^2, sigma).
        biased = np.exp(self.mu + self.sigma**2 + self.sigma * ndtri(u))
        return v * biased  # type: ignore[no-any-return]

    def describe(self) -> dict[str, object]:
        return {"distribution": "lognormal", "mean_days": self.mean_days, "cv": self.cv}


@dataclass(frozen=True)
class Empirical:
    """Stays resampled (with replacement) from observed stays."""

    samples_days: tuple[float, ...]
    _sorted: FloatArray = field(init=False, repr=False, compare=False)
    _weights: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = np.sort(np.asarray(self.samples_days, dtype=np.float64))
        if values.size == 0:
            raise InvalidInput("an empirical stay distribution needs at least one stay")
        if not np.all(np.isfinite(values)) or values[0] < 0 or values[-1] <= 0:
            raise InvalidInput("empirical stays must be finite, non-negative and not all zero")
        object.__setattr__(self, "_sorted", values)
        object.__setattr__(self, "_weights", np.cumsum(values) / values.sum())

    @property
    def mean_days(self) -> float:
        return float(self._sorted.mean())

    def quantile(self, u: FloatArray) -> FloatArray:
        index = np.minimum((u * self._sorted.size).astype(np.int64), self._sorted.size - 1)
        return self._sorted[index]

    def remaining(self, u: FloatArray, v: FloatArray) -> FloatArray:
        index = np.minimum(np.searchsorted(self._weights, u, side="right"), self._sorted.size - 1)
        return v * self._sorted[index]

    def describe(self) -> dict[str, object]:
        return {
            "distribution": "empirical",
            "mean_days": self.mean_days,
            "samples": int(self._sorted.size),
        }


def _check_positive(value: float, name: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise InvalidInput(f"{name} must be a positive number, not {value!r}", where=name)
