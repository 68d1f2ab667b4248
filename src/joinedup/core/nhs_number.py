"""The NHS number: validation, normalisation, display and synthetic generation.

This is the one place the platform knows what an NHS number is. It is 10 digits;
the last is a modulus 11 check digit over the first nine (weights 10 down to 2).
Numbers whose digits are all the same (0000000000, 1111111111, ...) pass the
check but are placeholders that systems type when the real number is unknown,
so they are refused. Synthetic numbers come from the 999 range, which is never
issued to a real person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from joinedup.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# numpy is imported only by the vectorised functions that need it: the ingest's validating
# workers check numbers one at a time, and importing numpy was a quarter of their start.
SYNTHETIC_PREFIX = "999"


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when no valid digit exists (remainder 10)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    return None if digit == 10 else digit


def normalise(raw: str) -> str:
    """Strip the spaces and hyphens people type between the groups of digits."""
    return "".join(ch for ch in raw if ch not in " -\t")


def invalid_reason(raw: str) -> str | None:
    """Why ``raw`` is not a valid NHS number, or None when it is."""
    value = normalise(raw)
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return "an NHS number has exactly 10 digits"
    if len(set(value)) == 1:
        return "a number of one repeated digit is a placeholder, not an NHS number"
    if check_digit(value[:9]) != int(value[9]):
        return "the check digit does not match (modulus 11)"
    return None


def is_valid(raw: str) -> bool:
    return invalid_reason(raw) is None


def parse(raw: str, *, where: str | None = None) -> str:
    """The normalised 10-digit number, or InvalidInput saying what is wrong and where."""
    reason = invalid_reason(raw)
    if reason is not None:
        raise InvalidInput(f"not a valid NHS number: {reason}", where=where)
    return normalise(raw)


def format_for_display(value: str) -> str:
    """``9434765919`` as ``943 476 5919``, the way NHS services show it."""
    digits = normalise(value)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else value


def is_synthetic(value: str) -> bool:
    return normalise(value).startswith(SYNTHETIC_PREFIX)


def synthetic_batch(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct valid NHS numbers from the synthetic 999 range.

    Vectorised: draws candidate 6-digit tails without replacement, computes
    every check digit at once and drops the ~1 in 11 whose check digit would be 10.
    """
    import numpy as np

    capacity = 1_000_000
    wanted = min(capacity, int(count * 1.15) + 16)
    if count > capacity * 10 // 11:
        raise InvalidInput(f"the synthetic range holds about 909,000 numbers, not {count}")
    tails = rng.choice(capacity, size=wanted, replace=False)
    digits = _digits(np.int64(999) * capacity + tails.astype(np.int64))
    checks = _check_digits(digits)
    keep = checks >= 0
    numbers = (np.int64(999) * capacity + tails[keep].astype(np.int64)) * 10 + checks[keep]
    if numbers.size < count:  # astronomically unlikely; draw again rather than fail
        return synthetic_batch(rng, count)
    return [str(n) for n in numbers[:count]]


def check_digits(first_nine: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Vectorised check digits of many 9-digit numbers; -1 where none exists (remainder 10)."""
    import numpy as np

    return _check_digits(_digits(np.asarray(first_nine, dtype=np.int64)))


def _digits(first_nine: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    import numpy as np

    powers = 10 ** np.arange(8, -1, -1, dtype=np.int64)
    return (first_nine[:, None] // powers) % 10


def _check_digits(digits: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    import numpy as np

    weights = np.arange(10, 1, -1, dtype=np.int64)  # 10, 9, ..., 2
    digit = 11 - (digits @ weights) % 11
    digit = np.where(digit == 11, 0, digit)
    return np.where(digit == 10, -1, digit)
