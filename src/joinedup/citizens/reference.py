"""The borough's geography and population as data: postcodes, LSOAs and mid-year estimates.

Loaded from the synthetic borough's ``reference/`` and ``population/`` files (or the
real ONS files in the same shape), upserted so a reload changes nothing. The register
derives a volunteer's neighbourhood and deprivation quintile from their postcode's LSOA;
the staff pages compare the pool with the adult population.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from joinedup.citizens.households import postcode_normalise
from joinedup.citizens.models import Lsoa, PopulationCount, Postcode
from joinedup.core.models import Neighbourhood
from joinedup.errors import InvalidInput

# Five-year ONS bands -> the register's bands, with the share of the band aged 16+.
_BANDS = {
    "15-19": ("16-24", 0.8),
    "20-24": ("16-24", 1.0),
    "25-29": ("25-34", 1.0),
    "30-34": ("25-34", 1.0),
    "35-39": ("35-44", 1.0),
    "40-44": ("35-44", 1.0),
    "45-49": ("45-54", 1.0),
    "50-54": ("45-54", 1.0),
    "55-59": ("55-64", 1.0),
    "60-64": ("55-64", 1.0),
    "65-69": ("65-74", 1.0),
    "70-74": ("65-74", 1.0),
}


def _rows(path: Path, needed: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    if not path.exists():
        raise InvalidInput(f"{path.name} is missing", where=str(path))
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"{path.name} has no column {missing[0]!r}", where=str(path))
        yield from enumerate(reader, start=2)


def _neighbourhood(name: str) -> Neighbourhood:
    found = Neighbourhood.objects.filter(name=name).first()
    return found or Neighbourhood.objects.create(name=name, code=slugify(name)[:40])


@transaction.atomic
def reference_load(borough: Path) -> dict[str, int]:
    """Load LSOAs, postcodes and the latest adult population; returns rows per table."""
    hoods: dict[str, Neighbourhood] = {}
    lsoas = 0
    for line, row in _rows(borough / "reference" / "lsoas.csv", ("lsoa_code", "imd_decile")):
        name = row.get("neighbourhood", "").strip()
        try:
            decile = int(row["imd_decile"])
        except ValueError:
            raise InvalidInput("imd_decile is not a number", where=f"lsoas.csv:{line}") from None
        if name not in hoods:
            hoods[name] = _neighbourhood(name)
        Lsoa.objects.update_or_create(
            code=row["lsoa_code"].strip(),
            defaults={
                "name": row.get("lsoa_name", ""),
                "imd_decile": decile,
                "neighbourhood": hoods[name],
            },
        )
        lsoas += 1
    known = set(Lsoa.objects.values_list("code", flat=True))
    codes = [
        Postcode(postcode=postcode_normalise(r["postcode"]), lsoa_id=r["lsoa_code"].strip())
        for _, r in _rows(borough / "reference" / "postcodes.csv", ("postcode", "lsoa_code"))
        if r["lsoa_code"].strip() in known
    ]
    Postcode.objects.bulk_create(
        codes, update_conflicts=True, unique_fields=["postcode"], update_fields=["lsoa"]
    )
    return {"lsoas": lsoas, "postcodes": len(codes), "population": _population(borough, known)}


def _population(borough: Path, known: set[str]) -> int:
    path = borough / "population" / "mid_year_estimates.csv"
    cells: dict[tuple[str, str, str], float] = defaultdict(float)
    latest = 0
    rows = list(_rows(path, ("year", "lsoa_code", "sex", "age_band", "count")))
    if rows:
        latest = max(int(r["year"]) for _, r in rows)
    for _, row in rows:
        if int(row["year"]) != latest or row["lsoa_code"] not in known:
            continue
        band = row["age_band"]
        target, share = _BANDS.get(
            band, ("75+", 1.0) if band[:2].isdigit() and int(band[:2]) >= 75 else ("", 0.0)
        )
        if target:
            cells[(row["lsoa_code"], row["sex"], target)] += share * float(row["count"])
    PopulationCount.objects.exclude(year=latest).delete()
    PopulationCount.objects.bulk_create(
        [
            PopulationCount(lsoa_id=code, sex=sex, age_band=band, count=n, year=latest)
            for (code, sex, band), n in cells.items()
        ],
        update_conflicts=True,
        unique_fields=["lsoa", "sex", "age_band"],
        update_fields=["count", "year"],
    )
    return len(cells)


def postcode_lsoa(postcode: str) -> Lsoa | None:
    """The LSOA of a borough postcode, or None."""
    found = (
        Postcode.objects.select_related("lsoa__neighbourhood")
        .filter(postcode=postcode_normalise(postcode))
        .first()
    )
    return found.lsoa if found else None


def postcode_known(postcode: str) -> bool:
    return Postcode.objects.filter(postcode=postcode_normalise(postcode)).exists()
