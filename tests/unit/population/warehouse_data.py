"""A small random warehouse written straight to Parquet (no Django), for the aggregation
spec tests that run on DuckDB and, in tests/spark, on Spark."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from joinedup.population import vaccines
from joinedup.population.warehouse import Warehouse, age_band

AS_OF = dt.date(2026, 4, 1)
HOODS = ("North", "South", "East")


def make_warehouse(root: Path, *, people: int = 600, seed: int = 3) -> Warehouse:
    rng = np.random.default_rng(seed)
    wh = Warehouse(root)
    lsoas = [f"E0199{i:04d}" for i in range(12)]
    wh.reference_write(
        "lsoas",
        pa.table(
            {
                "lsoa": lsoas,
                "lsoa_name": [f"Area {i}" for i in range(12)],
                "imd_decile": [1 + i % 10 for i in range(12)],
                "neighbourhood": [HOODS[i % 3] for i in range(12)],
            }
        ),
    )
    wh.reference_write("postcodes", pa.table({"postcode": ["ZZ1 1AA"], "lsoa": [lsoas[0]]}))
    bands = [age_band(a) for a in range(0, 95, 5)]
    rows = [
        (y, lsoa, s, b, int(rng.integers(40, 120)))
        for y in range(2021, 2026)
        for lsoa in lsoas
        for s in ("female", "male")
        for b in bands
    ]
    wh.reference_write(
        "population",
        pa.table(
            dict(
                zip(
                    ("year", "lsoa", "sex", "age_band", "count"),
                    map(list, zip(*rows, strict=False)),
                    strict=False,
                )
            )
        ),
    )
    wh.reference_write(
        "vaccine_codes",
        pa.table(
            dict(
                zip(
                    ("programme", "code"),
                    map(list, zip(*vaccines.code_rows(), strict=False)),
                    strict=False,
                )
            )
        ),
    )
    ages = rng.integers(0, 91, people)
    which = rng.integers(0, 12, people)
    persons = {
        "pseudonym": [f"p{i:05d}" for i in range(people)],
        "sex": rng.choice(["female", "male"], people).tolist(),
        "age": ages.tolist(),
        "age_band": [age_band(int(a)) for a in ages],
        "alive": (rng.random(people) > 0.1).tolist(),
        "lsoa": [lsoas[w] for w in which],
        "imd_decile": [1 + int(w) % 10 for w in which],
        "neighbourhood": [HOODS[int(w) % 3] for w in which],
        "practice": rng.choice(["Z88001", "Z88002"], people).tolist(),
        "ethnic_group": rng.choice(
            ["White", "Asian or Asian British", "Not stated"], people
        ).tolist(),
    }
    wh.persons_write(pa.table(persons))
    for delivery in (1, 2):
        wh.events_write(delivery, _events(rng, people, delivery))
    wh.manifest_save({"as_of": AS_OF.isoformat(), "build": 1, "deliveries": {}, "persons": people})
    return wh


_CODES = {
    "condition": ["21134002", "271737000", "49436004", "195967001", "38341003", "44054006"],
    "observation": ["80274001", "271649006"],
    "medication": ["dm1", "dm2", "dm3", "dm4", "dm5", "dm6", "dm7"],
    "immunisation": [*vaccines.FLU_CODES, vaccines.COVID_CODES[0], *vaccines.MMR_CODES],
    "death": ["C34", "I21", "J44", "F03", "X59"],
    "admission": [""],
    "package": [""],
}


def _events(rng: np.random.Generator, people: int, delivery: int) -> pa.Table:
    n = 4000
    kinds = rng.choice(list(_CODES), n, p=[0.15, 0.1, 0.1, 0.15, 0.3, 0.1, 0.1])
    start = np.datetime64("2021-04-01")
    occurred = start + rng.integers(0, 1826, n).astype("timedelta64[D]")
    out: dict[str, list[Any]] = {
        "pseudonym": [f"p{int(i):05d}" for i in rng.integers(0, people, n)],
        "delivery_id": [delivery] * n,
        "source": ["test"] * n,
        "kind": kinds.tolist(),
        "occurred_on": occurred.astype(dt.date).tolist(),
        "ended_on": [
            None if rng.random() < 0.4 else d + dt.timedelta(days=int(rng.integers(1, 60)))
            for d in occurred.astype(dt.date).tolist()
        ],
        "age_at_event": np.where(
            kinds == "death", np.clip(rng.normal(80, 12, n), 0, 90), rng.integers(0, 91, n)
        )
        .astype(int)
        .tolist(),
        "code_system": [""] * n,
        "code": [str(rng.choice(_CODES[k])) for k in kinds],
        "display": [""] * n,
        "value": np.round(rng.normal(60, 20, n), 1).tolist(),
        "unit": [""] * n,
        "status": [""] * n,
        "organisation": [""] * n,
        "setting": [str(rng.choice(["21", "11", "Home", "Hospital", "Care home"])) for _ in kinds],
        "ready_on": [None] * n,
        "pathway": [None] * n,
        "cost_pence": rng.integers(10_000, 200_000, n).tolist(),
    }
    ready = [
        e - dt.timedelta(days=int(rng.integers(0, 20))) if e and k == "admission" else None
        for e, k in zip(out["ended_on"], out["kind"], strict=False)
    ]
    out["ready_on"] = ready
    return pa.table(out)


SEASON = vaccines.latest_season(AS_OF)
PARAMS: dict[str, dict[str, Any]] = {
    "deaths": {},
    "population": {},
    "place_of_death": {},
    "discharge_delays": {},
    "older_people": {"min_age": 65},
    "efi_events": {"min_age": 65, "as_of": AS_OF, "window_start": AS_OF - dt.timedelta(days=365)},
    "uptake_seasonal": {
        "programme": "flu65",
        "season_start": SEASON[0],
        "season_end": SEASON[1],
        "min_age": 65,
    },
    "uptake_childhood": {"programme": "mmr2_5y", "as_of": AS_OF, "age": 5, "doses": 2},
    "emergency_admissions": {"min_age": 65},
    "packages_active": {"as_of": AS_OF},
}
