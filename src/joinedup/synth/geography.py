"""The borough's geography: LSOAs with IMD deciles, neighbourhoods, postcodes.

LSOAs are square cells on a grid clipped to a disc around the borough centre, so
every coordinate drawn inside a cell is inside its LSOA. Deprivation is highest in
the centre (with noise), as in Stockport. Postcodes are synthetic but shaped like
real ones (district, sector, unit letters real units never use are avoided).

It must never use real LSOA codes or boundaries: codes are in the unused E019 range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from joinedup.synth import config

_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
_STREET_STEMS = (
    "Oak",
    "Ash",
    "Beech",
    "Elm",
    "Hazel",
    "Holly",
    "Larch",
    "Maple",
    "Rowan",
    "Willow",
    "Alder",
    "Birch",
    "Cedar",
    "Laurel",
    "Poplar",
    "Chestnut",
    "Mersey",
    "Goyt",
    "Tame",
    "Etherow",
    "Castle",
    "Church",
    "Mill",
    "Station",
    "Market",
    "Bridge",
    "Park",
    "Hall",
    "Moor",
    "Green",
    "Meadow",
    "Brook",
    "Heath",
    "Lyme",
    "Werneth",
    "Kinder",
    "Bollin",
    "Dane",
    "Cheviot",
    "Pennine",
    "Grange",
    "Manor",
    "Priory",
    "Abbey",
    "Albert",
    "Victoria",
    "Wellington",
    "Nelson",
    "Gladstone",
    "Peel",
    "Lark",
    "Wren",
    "Heron",
    "Kestrel",
)
_STREET_KINDS = (
    "Road",
    "Street",
    "Lane",
    "Avenue",
    "Close",
    "Drive",
    "Grove",
    "Way",
    "Crescent",
    "Gardens",
    "Place",
    "Terrace",
    "Walk",
    "Rise",
    "View",
)


@dataclass(frozen=True)
class Geography:
    """LSOAs (one row per index) and postcodes (one row per index)."""

    lsoa_code: npt.NDArray[np.str_]
    lsoa_name: npt.NDArray[np.str_]
    imd_decile: npt.NDArray[np.int64]
    neighbourhood: npt.NDArray[np.int64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    half_cell_km: float
    weight: npt.NDArray[np.float64]
    postcode: npt.NDArray[np.str_]
    postcode_lsoa: npt.NDArray[np.int64]
    postcode_lat: npt.NDArray[np.float64]
    postcode_lon: npt.NDArray[np.float64]
    postcode_street: npt.NDArray[np.str_]


def lsoa_count(people: int) -> int:
    """Number of LSOAs for a borough of `people` (about 1,550 residents each)."""
    return max(config.MIN_LSOAS, round(config.LSOAS_AT_DEFAULT * people / config.DEFAULT_PEOPLE))


def decile_quota(n_lsoa: int) -> npt.NDArray[np.int64]:
    """LSOAs per decile, proportional to the Stockport-like profile, each at least 1."""
    share = np.array(config.LSOAS_PER_DECILE, dtype=np.float64)
    raw = share / share.sum() * n_lsoa
    quota = np.maximum(1, np.floor(raw)).astype(np.int64)
    while quota.sum() < n_lsoa:  # largest remainder, at most 10 steps
        quota[np.argmax(raw - quota)] += 1
    while quota.sum() > n_lsoa:
        quota[np.argmax(np.where(quota > 1, quota - raw, -np.inf))] -= 1
    result: npt.NDArray[np.int64] = quota
    return result


def _grid_cells(n_lsoa: int, rng: np.random.Generator) -> tuple[npt.NDArray[Any], ...]:
    """Centres (km east, km north of the centre) of the n cells nearest the centre."""
    side = int(np.ceil(np.sqrt(4 * n_lsoa / np.pi))) + 2
    cell = config.EXTENT_KM / side
    ix, iy = np.meshgrid(np.arange(side), np.arange(side))
    x = (ix.ravel() - (side - 1) / 2) * cell
    y = (iy.ravel() - (side - 1) / 2) * cell
    distance = np.hypot(x, y) + rng.uniform(0, cell * 0.3, size=x.size)
    keep = np.argsort(distance, kind="stable")[:n_lsoa]
    return x[keep], y[keep], np.full(n_lsoa, cell / 2)


def _assign_deciles(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Most deprived near the centre (slightly north-east, like Brinnington), with noise."""
    distance = np.hypot(x - 0.8, y - 0.6)
    key = distance / distance.max() + rng.normal(0, 0.12, size=x.size)
    order = np.argsort(key, kind="stable")
    deciles = np.repeat(np.arange(1, 11), decile_quota(x.size))
    result = np.empty(x.size, dtype=np.int64)
    result[order] = deciles
    return result


def _assign_neighbourhoods(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Central eighth of cells is 'Stockport Central'; the rest are seven angular sectors."""
    n = x.size
    distance = np.hypot(x, y)
    central = np.argsort(distance, kind="stable")[: max(1, n // 8)]
    result = np.zeros(n, dtype=np.int64)
    outer = np.setdiff1d(np.arange(n), central)
    angle = np.arctan2(y[outer], x[outer])
    ranks = np.argsort(np.argsort(angle, kind="stable"), kind="stable")
    result[outer] = 1 + (ranks * 7) // max(1, outer.size)
    return result


def _postcodes(
    lsoa_nb: npt.NDArray[np.int64], per_lsoa: npt.NDArray[np.int64]
) -> npt.NDArray[np.str_]:
    """Unique postcodes like 'SK4 3QX', numbered within each neighbourhood's district."""
    nb = np.repeat(lsoa_nb, per_lsoa)
    order = np.argsort(nb, kind="stable")
    seq = np.empty(nb.size, dtype=np.int64)
    counts = np.bincount(nb, minlength=len(config.NEIGHBOURHOODS))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    seq[order] = np.arange(nb.size) - np.repeat(starts, counts)
    # A neighbourhood owns sectors 0-9 of its district (4,000 units), or five sectors
    # when two neighbourhoods share a district; overflow gets a synthetic extra district
    # so codes stay unique at any size.
    shared = np.isin(nb, (3, 4, 6, 7))
    capacity = np.where(shared, 2000, 4000)
    block = seq // capacity
    within = seq % capacity
    sector = np.where(np.isin(nb, (4, 7)), 5, 0) + within // 400
    unit = within % 400
    base = np.array(config.POSTCODE_DISTRICTS)[nb]
    district = np.where(
        block == 0, base, np.strings.add("SK", (20 + nb * 10 + block).astype(np.str_))
    )
    letters = np.strings.add(_UNIT_LETTERS[unit // 20], _UNIT_LETTERS[unit % 20])
    return np.strings.add(
        np.strings.add(district, " "), np.strings.add(sector.astype(np.str_), letters)
    )


def build_geography(people: int, rng: np.random.Generator) -> Geography:
    """Lay out LSOAs, deciles, neighbourhoods and postcodes for `people` residents."""
    n = lsoa_count(people)
    x, y, half = _grid_cells(n, rng)
    deciles = _assign_deciles(x, y, rng)
    nb = _assign_neighbourhoods(x, y)
    weight = rng.uniform(0.8, 1.2, size=n)
    households = people / 2.36 * weight / weight.sum()
    per_lsoa = np.maximum(3, np.ceil(households * 1.15 / config.HOUSEHOLDS_PER_POSTCODE)).astype(
        np.int64
    )
    pc_lsoa = np.repeat(np.arange(n), per_lsoa)
    pc_x = x[pc_lsoa] + rng.uniform(-0.95, 0.95, size=pc_lsoa.size) * half[0]
    pc_y = y[pc_lsoa] + rng.uniform(-0.95, 0.95, size=pc_lsoa.size) * half[0]
    stems = np.array(_STREET_STEMS)[rng.integers(0, len(_STREET_STEMS), size=pc_lsoa.size)]
    kinds = np.array(_STREET_KINDS)[rng.integers(0, len(_STREET_KINDS), size=pc_lsoa.size)]
    msoa = np.arange(n) // 5 + 1
    letter = np.array(list("ABCDE"))[np.arange(n) % 5]
    return Geography(
        lsoa_code=np.strings.add("E019", np.char.zfill((np.arange(n) + 1).astype(np.str_), 5)),
        lsoa_name=np.strings.add(
            np.strings.add("Stockport ", np.char.zfill(msoa.astype(np.str_), 3)), letter
        ),
        imd_decile=deciles,
        neighbourhood=nb,
        lat=config.CENTRE_LAT + y / config.KM_PER_DEG_LAT,
        lon=config.CENTRE_LON + x / config.KM_PER_DEG_LON,
        half_cell_km=float(half[0]),
        weight=weight,
        postcode=_postcodes(nb, per_lsoa),
        postcode_lsoa=pc_lsoa,
        postcode_lat=config.CENTRE_LAT + pc_y / config.KM_PER_DEG_LAT,
        postcode_lon=config.CENTRE_LON + pc_x / config.KM_PER_DEG_LON,
        postcode_street=np.strings.add(np.strings.add(stems, " "), kinds),
    )
