"""Synthetic identifiers: NHS numbers from the test range, and local record numbers.

NHS numbers are drawn from the range NHS England reserves for testing (numbers
beginning 999, never issued to patients), each with a valid modulus-11 check digit.
Boroughs larger than that range can hold spill into the 998, 997... prefixes, which
are also in the never-issued 9xx block.

It must never produce a number outside the 9xx block, and never reuse a number.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from joinedup.core.nhs_number import check_digits

_PREFIX_CAPACITY = 1_000_000
_VALID_SHARE = 0.85  # about 1 in 11 bases has check digit 10 and is skipped


def nhs_numbers(rng: np.random.Generator, count: int) -> npt.NDArray[np.int64]:
    """Draw `count` distinct valid NHS numbers from the 999 test range (and below)."""
    prefixes = max(1, int(np.ceil(count / (_PREFIX_CAPACITY * _VALID_SHARE * 0.9))))
    low = (1000 - prefixes) * _PREFIX_CAPACITY
    draw = min(prefixes * _PREFIX_CAPACITY, int(count / _VALID_SHARE * 1.05) + 1000)
    base = low + rng.choice(prefixes * _PREFIX_CAPACITY, size=draw, replace=False).astype(np.int64)
    check = check_digits(base)
    valid = check >= 0
    numbers = base[valid] * 10 + check[valid]
    if numbers.size < count:  # pragma: no cover - guarded by the over-draw above
        raise RuntimeError("NHS number range exhausted")
    return numbers[:count]


def is_valid_nhs_number(numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """True where a 10-digit number carries the right check digit."""
    numbers = np.asarray(numbers, dtype=np.int64)
    check = check_digits(numbers // 10)
    valid: npt.NDArray[np.bool_] = (check >= 0) & (check == numbers % 10)
    return valid


def corrupt_nhs_number(
    rng: np.random.Generator, numbers: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Change one digit of each number (a keying error); usually breaks the check digit."""
    position = rng.integers(0, 9, size=numbers.size)
    place = (10 ** (9 - position)).astype(np.int64)
    digit = (numbers // place) % 10
    new_digit = (digit + rng.integers(1, 10, size=numbers.size)) % 10
    changed: npt.NDArray[np.int64] = (numbers + (new_digit - digit) * place).astype(np.int64)
    return changed


def local_ids(
    prefix: str, rng: np.random.Generator, count: int, width: int = 7
) -> npt.NDArray[np.str_]:
    """Distinct local record numbers in random order, e.g. MRN 'RM1234567'."""
    numbers = rng.choice(10**width - 10 ** (width - 1), size=count, replace=False)
    numbers = numbers + 10 ** (width - 1)
    return np.strings.add(prefix, numbers.astype(np.str_))
