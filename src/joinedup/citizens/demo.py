"""Demo data for the citizens' register: the borough's geography, population and volunteers.

The volunteers are residents of the synthetic borough: about 3,000 adults drawn, with a
fixed seed, from its GP register (``gp/Patient.ndjson``: names, sex, birth dates,
ethnicity, addresses), leaning the way real registers lean (older, more women, fewer
from deprived areas and minority groups), so the pool-against-population page has gaps
to show. Their neighbourhood and deprivation quintile come from the postcode through the
borough's reference files, exactly as for a real sign-up. Some addresses are written the
way people write them ("10 HIGH ST", "10, High Street") so the household rule is tested
on messy text. The register goes in through the ordinary import, so the demo exercises
the same checks and report as a real file.

Idempotent: a second call finds its import batch and adds nothing. Used by
``joinedup demo`` only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from joinedup.citizens.households import postcode_normalise
from joinedup.citizens.imports import volunteers_import
from joinedup.citizens.models import AGE_BANDS, INTERESTS, ImportBatch
from joinedup.citizens.reference import reference_load

DEMO_SEED = 1
DEMO_VOLUNTEERS = 3_000
# NHS ethnic category codes -> the register's groups (Census 2021 high-level groups).
_ETHNIC = {
    "A": "White British",
    "B": "White other",
    "C": "White other",
    "T": "White other",
    "D": "Mixed",
    "E": "Mixed",
    "F": "Mixed",
    "G": "Mixed",
    "H": "Asian",
    "J": "Asian",
    "K": "Asian",
    "L": "Asian",
    "R": "Asian",
    "M": "Black",
    "N": "Black",
    "P": "Black",
    "S": "Other",
    "W": "Other",
}
_ABBREVIATIONS = {"street": "St", "road": "Rd", "avenue": "Ave", "lane": "Ln", "close": "Cl"}
COLUMNS = (
    "citizen_id",
    "given_name",
    "family_name",
    "email",
    "phone",
    "address_line_1",
    "town",
    "postcode",
    "age_band",
    "sex",
    "gender_same_as_sex",
    "ethnic_group",
    "disability",
    "carer",
    "tenure",
    "interests",
    "contact_preference",
    "joined",
)


@dataclass(frozen=True)
class Resident:
    given: str
    family: str
    sex: str
    age: int
    ethnic_group: str
    address: str
    town: str
    postcode: str
    imd_decile: int


def _deciles(borough: Path) -> dict[str, int]:
    """Borough postcode -> its LSOA's IMD decile, from the reference files."""
    with (borough / "reference" / "lsoas.csv").open(newline="", encoding="utf-8") as handle:
        lsoa = {r["lsoa_code"]: int(r["imd_decile"]) for r in csv.DictReader(handle)}
    with (borough / "reference" / "postcodes.csv").open(newline="", encoding="utf-8") as handle:
        return {
            postcode_normalise(r["postcode"]): lsoa[r["lsoa_code"]]
            for r in csv.DictReader(handle)
            if r["lsoa_code"] in lsoa
        }


def _extract_date(borough: Path) -> dt.date:
    summary = json.loads((borough / "truth" / "summary.json").read_text(encoding="utf-8"))
    return dt.date.fromisoformat(summary["extract_date"])


def _age(born: str, on: dt.date) -> int:
    birth = dt.date.fromisoformat(born)
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def residents(borough: Path) -> Iterator[Resident]:
    """Living adults on the borough's GP register with a borough postcode (the file's
    deliberately malformed lines are skipped)."""
    deciles, today = _deciles(borough), _extract_date(borough)
    with (borough / "gp" / "Patient.ndjson").open(encoding="utf-8") as handle:
        for line in handle:
            try:
                patient = json.loads(line)
                found = _resident(patient, deciles, today)
            except (ValueError, KeyError, IndexError, TypeError):
                continue
            if found is not None:
                yield found


def _resident(
    patient: dict[str, object], deciles: dict[str, int], today: dt.date
) -> Resident | None:
    if patient.get("deceasedDateTime") or patient.get("gender") not in {"female", "male"}:
        return None
    address = patient["address"][0]  # type: ignore[index]
    postcode = postcode_normalise(address.get("postalCode", ""))
    age = _age(str(patient["birthDate"]), today)
    if postcode not in deciles or age < 16 or not address.get("line"):
        return None
    name = patient["name"][0]  # type: ignore[index]
    codes = patient.get("extension", [{}])[0]["valueCodeableConcept"]["coding"]  # type: ignore[index]
    return Resident(
        given=name["given"][0],
        family=name["family"],
        sex="F" if patient["gender"] == "female" else "M",
        age=age,
        ethnic_group=_ETHNIC.get(codes[0]["code"], "Prefer not to say"),
        address=address["line"][0],
        town=address.get("city", ""),
        postcode=postcode,
        imd_decile=deciles[postcode],
    )


def _weights(people: list[Resident]) -> np.ndarray:
    """How much likelier each resident is to volunteer: the biases of real registers."""
    age = np.array([p.age for p in people], dtype=float)
    decile = np.array([p.imd_decile for p in people], dtype=float)
    woman = np.array([p.sex == "F" for p in people])
    british = np.array([p.ethnic_group == "White British" for p in people])
    weight = np.exp(0.018 * (np.minimum(age, 80) - 45)) * np.where(woman, 1.3, 1.0)
    weight *= 0.5 + 0.1 * decile
    weight *= np.where(british, 1.0, 0.65)
    share: np.ndarray = weight / weight.sum()
    return share


def _messy(address: str, rng: np.random.Generator) -> str:
    """The same address as a resident might type it."""
    style = rng.integers(0, 4)
    if style == 0:
        words = address.split()
        last = words[-1].lower()
        return " ".join([*words[:-1], _ABBREVIATIONS.get(last, words[-1])])
    if style == 1:
        return address.upper()
    if style == 2:
        number, _, rest = address.partition(" ")
        return f"{number}, {rest}"
    return f"  {address.lower()} "


def _band(age: int) -> str:
    """16-24, 25-34, ... 75+."""
    return AGE_BANDS[min(max(age - 15, 0) // 10, len(AGE_BANDS) - 1)]


def _row(n: int, p: Resident, rng: np.random.Generator) -> list[str]:
    disabled = rng.random() < 0.10 + 0.005 * max(p.age - 45, 0)
    quintile = (p.imd_decile + 1) // 2
    tenure = rng.choice(
        ["Owned", "Social rent", "Private rent", "Other", "Prefer not to say"],
        p=[0.35 + 0.08 * quintile, 0.37 - 0.07 * quintile, 0.15, 0.07, 0.06 - 0.01 * quintile],
    )
    topics = rng.choice(len(INTERESTS), size=int(rng.integers(1, 4)), replace=False)
    contact = str(rng.choice(["Email", "Phone", "Post"], p=[0.7, 0.2, 0.1]))
    address = _messy(p.address, rng) if rng.random() < 0.25 else p.address
    joined = dt.date(2022, 1, 1) + dt.timedelta(days=int(rng.integers(0, 1500)))
    return [
        f"VOL{100_000 + n}",
        p.given,
        p.family,
        f"{p.given}.{p.family}.{n}@volunteer.example.org".lower(),
        f"0161 496 0{int(rng.integers(0, 1000)):03d}",
        address,
        p.town,
        p.postcode,
        _band(p.age),
        p.sex,
        str(rng.choice(["yes", "no", "not_said"], p=[0.96, 0.01, 0.03])),
        p.ethnic_group,
        "Yes" if disabled else "No",
        "Yes" if rng.random() < 0.12 else "No",
        str(tenure),
        "; ".join(INTERESTS[int(t)] for t in sorted(topics)),
        contact,
        joined.isoformat(),
    ]


def _draw(people: list[Resident], count: int, rng: np.random.Generator) -> list[int]:
    """``count`` residents by the volunteering weights, at most two from one address (a
    couple may join together; a care home or a block is not a household)."""
    order = rng.choice(len(people), size=len(people), replace=False, p=_weights(people))
    per_address: dict[tuple[str, str], int] = {}
    chosen: list[int] = []
    for index in order:
        p = people[int(index)]
        key = (p.address.lower(), p.postcode)
        if per_address.get(key, 0) < 2:
            per_address[key] = per_address.get(key, 0) + 1
            chosen.append(int(index))
            if len(chosen) == count:
                break
    return sorted(chosen)


def volunteers_csv(borough: Path, *, count: int = DEMO_VOLUNTEERS, seed: int = DEMO_SEED) -> bytes:
    """The synthetic register as an import file: ``count`` residents (at most a quarter of
    the adults), the same file for the same borough, count and seed."""
    people = list(residents(borough))
    rng = np.random.default_rng(seed)
    chosen = _draw(people, min(count, len(people) // 4), rng)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i, index in enumerate(chosen):
        writer.writerow(_row(i, people[index], rng))
    return buffer.getvalue().encode("utf-8")


def demo_load(
    borough: Path,
    *,
    progress: Callable[[str, int, int], None],
    volunteers: int = DEMO_VOLUNTEERS,
) -> None:
    """Load the reference data and import the synthetic register (once)."""
    borough = Path(borough)
    progress("citizens: reference data", 0, 2)
    reference_load(borough)
    name = f"demo-register-{borough.name}-{volunteers}-{DEMO_SEED}.csv"
    if not ImportBatch.objects.filter(filename=name).exists():
        progress("citizens: volunteers", 1, 2)
        volunteers_import(name=name, content=volunteers_csv(borough, count=volunteers), user=None)
    progress("citizens: register ready", 2, 2)
