"""The ground truth and the shared reference data.

`truth/` says who is really who (every source identity and its true person), the true
demographics and outcomes of every resident, each deliberately broken row, and the
true counts. Tests may read it; the platform never does. `reference/` holds what the
partnership publishes openly: organisations, care homes, LSOAs and neighbourhoods.

It must never be read by platform code, and never leak into a source extract.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from joinedup.synth import care, config
from joinedup.synth.extracts import World
from joinedup.synth.formats import FileSpec, Ledger
from joinedup.synth.mortality import model_life_expectancy
from joinedup.synth.organisations import SINGLE_ORGS
from joinedup.synth.tables import Table, financial_year

NONE = FileSpec(malform=False)


def person_ids(n: int) -> np.ndarray:
    """True person ids P00000001..."""
    return np.strings.add("P", np.char.zfill((np.arange(n) + 1).astype(np.str_), 8))


def write_reference(world: World, ledger: Ledger) -> None:
    """Organisations (with practice list sizes), care homes, LSOAs, neighbourhoods."""
    geo, orgs, p = world.geo, world.orgs, world.persons
    alive = world.history.cohort.exit == np.datetime64(config.EXTRACT_DATE, "D")
    list_size = np.bincount(p.practice[alive], minlength=orgs.practice_code.size)
    n_single = len(SINGLE_ORGS)
    ledger.write_csv(
        "reference/organisations.csv",
        {
            "org_code": np.r_[
                np.array([c for c, _, _ in SINGLE_ORGS]), orgs.practice_code, orgs.voluntary_code
            ],
            "name": np.r_[
                np.array([n for _, n, _ in SINGLE_ORGS]), orgs.practice_name, orgs.voluntary_name
            ],
            "type": np.r_[
                np.array([t for _, _, t in SINGLE_ORGS]),
                np.full(orgs.practice_code.size, "GP practice"),
                np.full(orgs.voluntary_code.size, "voluntary organisation"),
            ],
            "neighbourhood": np.r_[
                np.full(n_single, ""),
                np.array(config.NEIGHBOURHOODS)[geo.neighbourhood[orgs.practice_lsoa]],
                np.array(config.NEIGHBOURHOODS)[geo.neighbourhood[orgs.voluntary_lsoa]],
            ],
            "lsoa_code": np.r_[
                np.full(n_single, ""),
                geo.lsoa_code[orgs.practice_lsoa],
                geo.lsoa_code[orgs.voluntary_lsoa],
            ],
            "list_size": np.r_[
                np.full(n_single, ""),
                list_size.astype(np.str_),
                np.full(orgs.voluntary_code.size, ""),
            ],
        },
        _quiet_rng(),
        NONE,
    )
    ledger.write_csv(
        "reference/care_homes.csv",
        {
            "org_code": orgs.home_code,
            "cqc_location_id": orgs.home_cqc,
            "name": orgs.home_name,
            "type": np.where(orgs.home_nursing, "Nursing", "Residential"),
            "beds": orgs.home_beds,
            "postcode": geo.postcode[orgs.home_postcode],
            "latitude": np.round(geo.postcode_lat[orgs.home_postcode], 5),
            "longitude": np.round(geo.postcode_lon[orgs.home_postcode], 5),
            "lsoa_code": geo.lsoa_code[orgs.home_lsoa],
            "neighbourhood": np.array(config.NEIGHBOURHOODS)[geo.neighbourhood[orgs.home_lsoa]],
        },
        _quiet_rng(),
        NONE,
    )
    ledger.write_csv(
        "reference/lsoas.csv",
        {
            "lsoa_code": geo.lsoa_code,
            "lsoa_name": geo.lsoa_name,
            "imd_decile": geo.imd_decile,
            "neighbourhood": np.array(config.NEIGHBOURHOODS)[geo.neighbourhood],
            "centroid_latitude": np.round(geo.lat, 5),
            "centroid_longitude": np.round(geo.lon, 5),
            "half_cell_km": np.full(geo.lsoa_code.size, round(geo.half_cell_km, 4)),
        },
        _quiet_rng(),
        NONE,
    )
    ledger.write_csv(
        "reference/neighbourhoods.csv",
        {
            "neighbourhood_id": np.arange(1, len(config.NEIGHBOURHOODS) + 1),
            "name": np.array(config.NEIGHBOURHOODS),
            "lsoas": np.bincount(geo.neighbourhood, minlength=len(config.NEIGHBOURHOODS)),
        },
        _quiet_rng(),
        NONE,
    )
    ledger.write_csv(
        "reference/postcodes.csv",
        {
            "postcode": geo.postcode,
            "lsoa_code": geo.lsoa_code[geo.postcode_lsoa],
            "latitude": np.round(geo.postcode_lat, 5),
            "longitude": np.round(geo.postcode_lon, 5),
        },
        _quiet_rng(),
        NONE,
    )


def _quiet_rng() -> np.random.Generator:
    """A fixed generator for files that are never broken (its draws are unused)."""
    return np.random.default_rng(0)


def write_truth(world: World, ledger: Ledger, identities: Table) -> None:
    """identities.csv, persons.csv and malformed.csv."""
    p, h, geo, orgs = world.persons, world.history, world.geo, world.orgs
    ids = person_ids(p.count)
    ledger.write_csv(
        "truth/identities.csv",
        {
            "source": identities["source"],
            "source_id": identities["source_id"],
            "true_person_id": ids[identities["person"]],
        },
        _quiet_rng(),
        NONE,
    )
    home = np.full(p.count, -1)
    home[h.care_home["person"]] = h.care_home["home"]
    home_start = np.full(p.count, np.datetime64("NaT", "D"))
    home_start[h.care_home["person"]] = h.care_home["start"]
    moved = ~np.isnat(p.moved_on) & (p.moved_on < h.cohort.exit)
    cause = np.array([c[0] for c in care.CAUSES] + [""])[h.cause]
    place = np.full(p.count, "", dtype="<U16")
    place[~np.isnat(h.death)] = h.place_of_death
    ledger.write_csv(
        "truth/persons.csv",
        {
            "true_person_id": ids,
            "nhs_number": p.nhs_number,
            "given_name": p.given,
            "family_name": p.family,
            "former_family_name": p.former_family,
            "sex": p.sex,
            "date_of_birth": p.dob,
            "ethnic_category": p.ethnicity,
            "lsoa_code": geo.lsoa_code[p.lsoa],
            "imd_decile": geo.imd_decile[p.lsoa],
            "neighbourhood": np.array(config.NEIGHBOURHOODS)[geo.neighbourhood[p.lsoa]],
            "postcode": geo.postcode[np.where(moved, p.new_postcode, p.postcode)],
            "moved_on": np.where(moved, p.moved_on, np.datetime64("NaT", "D")),
            "household_id": p.household,
            "practice_code": orgs.practice_code[p.practice],
            "date_entered": p.entry,
            "date_of_death": h.death,
            "underlying_cause": cause,
            "place_of_death": place,
            "efi_score": np.round(h.efi_score, 4),
            "efi_category": h.efi_category,
            "polypharmacy": np.where(h.polypharmacy, "Y", "N"),
            "care_home_code": np.where(home >= 0, orgs.home_code[np.maximum(home, 0)], ""),
            "care_home_start": home_start,
        },
        _quiet_rng(),
        NONE,
    )
    broken = ledger.broken
    ledger.write_csv(
        "truth/malformed.csv",
        {
            "file": np.array([b[0] for b in broken], dtype="<U64"),
            "row": np.array([b[1] for b in broken], dtype=np.int64),
            "kind": np.array([b[2] for b in broken], dtype="<U32"),
        },
        _quiet_rng(),
        NONE,
    )


def true_counts(world: World) -> dict[str, Any]:
    """Counts and figures the platform should recover from the extracts."""
    h = world.history
    adm = h.admissions
    live = adm["pathway"] >= 0
    fy = financial_year(adm["discharge"][live], config.WINDOW_START.year)
    delay = adm["delay"][live]
    mean_delay = [
        round(float(delay[(fy == y) & (delay > 0)].mean()), 2) for y in range(config.YEARS)
    ]
    died = ~np.isnat(h.death)
    return {
        "residents_at_start": int(
            (world.persons.entry <= np.datetime64(config.WINDOW_START, "D")).sum()
        ),
        "births": int((world.persons.entry > np.datetime64(config.WINDOW_START, "D")).sum()),
        "deaths": int(died.sum()),
        "emergency_admissions": int(adm["person"].size),
        "discharge_pathway_share": [
            round(float(x), 4)
            for x in np.bincount(adm["pathway"][live], minlength=4) / max(1, int(live.sum()))
        ],
        "mean_delay_days_by_financial_year": mean_delay,
        "care_home_residents": int(h.care_home["person"].size),
        "model_life_expectancy": {
            s: {str(d): round(_le(world, s, d), 2) for d in (1, 10)} for s in ("M", "F")
        },
    }


def _le(world: World, sex: str, decile: int) -> float:
    """The mortality model's life expectancy for a decile."""
    return model_life_expectancy(world.history.model, sex, decile)
