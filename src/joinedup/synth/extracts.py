"""Writers, one per source system, in the format that system's feed really uses.

GP: FHIR R4 bulk NDJSON, one file per resource type (UK Core identifiers, SNOMED CT).
Hospital, community, social care, hospice: CSV extracts with their own local ids and
date formats. Deaths: a registrations CSV. Population: ONS-style mid-year estimates.
Each writer also returns the identities it emitted, for the ground truth.

It must never write ground truth (true person ids) into a source extract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from joinedup.synth import allergies, care, clinical, config
from joinedup.synth.formats import (
    FileSpec,
    Ledger,
    concat_text,
    date_text,
    json_string,
    number_text,
    optional,
    text,
)
from joinedup.synth.geography import Geography
from joinedup.synth.history import History
from joinedup.synth.identifiers import local_ids
from joinedup.synth.mess import Identity, identity
from joinedup.synth.organisations import ACUTE_TRUST, HOSPICE, Organisations
from joinedup.synth.population import Persons, age_on
from joinedup.synth.streams import stream
from joinedup.synth.tables import DAY, NAT, Table

SNOMED = "http://snomed.info/sct"
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
EXTRACT = np.datetime64(config.EXTRACT_DATE, "D")
UK = "%d/%m/%Y"

OBSERVATION_CODES = {
    "bp": ("75367002", "Blood pressure (observable entity)", "mm[Hg]"),
    "bmi": ("60621009", "Body mass index (observable entity)", "kg/m2"),
    "hba1c": (
        "999791000000106",
        "Haemoglobin A1c level - IFCC standardised (observable entity)",
        "mmol/mol",
    ),
    "egfr": (
        "1011481000000105",
        "eGFR using creatinine (CKD-EPI) per 1.73 square metres (observable entity)",
        "mL/min/{1.73_m2}",
    ),
}


@dataclass(frozen=True)
class World:
    """Everything the writers read."""

    seed: int
    persons: Persons
    geo: Geography
    orgs: Organisations
    history: History


IdentityRows = dict[str, tuple[npt.NDArray[np.str_], npt.NDArray[np.int64]]]


def _last_seen(
    n: int, person: npt.NDArray[np.int64], date: npt.NDArray[np.datetime64]
) -> npt.NDArray[np.datetime64]:
    """Latest event date per person (NaT where none)."""
    out = np.full(n, np.datetime64("1900-01-01", "D"))
    np.maximum.at(out, person, date)
    return out


def _people(
    world: World,
    source: str,
    person: npt.NDArray[np.int64],
    date: npt.NDArray[np.datetime64],
    prefix: str,
    width: int = 7,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.str_], Identity]:
    """Distinct people a source has seen, their local ids, and the source's view of them."""
    rows = np.unique(person)
    seen = _last_seen(world.persons.count, person, date)[rows]
    seen = np.minimum(seen, world.history.cohort.exit[rows] - DAY)
    ident = identity(
        stream(world.seed, f"mess_{source}"),
        source,
        world.persons,
        world.geo,
        world.orgs,
        world.history.care_home,
        rows,
        seen,
    )
    ids = local_ids(prefix, stream(world.seed, f"ids_{source}"), rows.size, width)
    lookup = np.full(world.persons.count, "", dtype=ids.dtype)
    lookup[rows] = ids
    return rows, lookup, ident


def _nhs_text(ident: Identity) -> pa.Array:
    """NHS numbers as text, empty where the source has none."""
    return text(np.where(ident.nhs_number < 0, "", ident.nhs_number.astype(np.str_)))


def _sex_word(sex: npt.NDArray[np.str_]) -> npt.NDArray[np.str_]:
    return np.where(sex == "M", "Male", "Female")


# --- GP (FHIR R4 NDJSON) ---------------------------------------------------------------


def write_gp(world: World, ledger: Ledger) -> IdentityRows:
    """The GP estate's bulk export: Patient, Condition, Observation, MedicationStatement,
    Immunization, Encounter, AllergyIntolerance and DiagnosticReport NDJSON files."""
    p, h = world.persons, world.history
    rows = np.flatnonzero(h.cohort.exit > p.entry)
    seen = h.cohort.exit[rows] - DAY
    ident = identity(
        stream(world.seed, "mess_gp"), "gp", p, world.geo, world.orgs, h.care_home, rows, seen
    )
    rng = stream(world.seed, "ids_gp")
    gp_id = np.full(p.count, "", dtype="<U36")
    gp_id[rows] = _uuids(rng, rows.size)
    write = stream(world.seed, "malformed_gp")
    _patients(world, ledger, ident, gp_id, write)
    _conditions(world, ledger, gp_id, write)
    _observations(world, ledger, gp_id, write)
    _medications(world, ledger, gp_id, write)
    _immunisations(world, ledger, gp_id, write)
    _encounters(world, ledger, gp_id, write)
    # Written last, from streams of their own: the files above stay the same for a seed.
    _allergies(world, ledger, gp_id, stream(world.seed, "malformed_gp_allergies"))
    _lab_reports(world, ledger, gp_id, stream(world.seed, "malformed_gp_reports"))
    return {"gp": (gp_id[rows], rows)}


def _uuids(rng: np.random.Generator, n: int) -> npt.NDArray[np.str_]:
    """Random version-4-shaped UUIDs, as GP systems use for record ids."""
    a = np.char.mod("%016x", rng.integers(0, 2**63, size=n, dtype=np.int64))
    b = np.char.mod("%016x", rng.integers(0, 2**63, size=n, dtype=np.int64))
    parts = (
        np.strings.slice(a, 0, 8),
        "-",
        np.strings.slice(a, 8, 12),
        "-4",
        np.strings.slice(a, 13, 16),
        "-",
        np.strings.slice(b, 0, 4),
        "-",
        np.strings.slice(b, 4, 16),
    )
    out = parts[0]
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return out


def _seq_ids(prefix: str, start: int, stop: int) -> pa.Array:
    """Sequential resource ids for rows start..stop."""
    return concat_text(prefix, text(np.arange(start, stop)))


def _ref(gp_id: npt.NDArray[np.str_], person: npt.NDArray[np.int64]) -> pa.Array:
    return concat_text('{"reference":"Patient/', text(gp_id[person]), '"}')


def _coding(code: pa.Array, display: pa.Array) -> pa.Array:
    return concat_text(
        '{"coding":[{"system":"' + SNOMED + '","code":"',
        code,
        '","display":',
        json_string(display),
        "}]}",
    )


def _patients(
    world: World,
    ledger: Ledger,
    ident: Identity,
    gp_id: npt.NDArray[np.str_],
    rng: np.random.Generator,
) -> None:
    p, h = world.persons, world.history
    rows = ident.person
    practice = world.orgs.practice_code[p.practice[rows]]
    ethnicity = np.where(
        stream(world.seed, "ethnicity_stated").random(rows.size)
        < config.ETHNICITY_NOT_STATED_SHARE,
        "Z",
        p.ethnicity[rows],
    )
    death = h.death[rows]
    dob = text(ident.dob)

    def build(a: int, b: int) -> tuple[pa.Array, pa.Array, pa.Array]:
        s = slice(a, b)
        nhs = _nhs_text_slice(ident, s)
        line = concat_text(
            '{"resourceType":"Patient","id":"',
            text(gp_id[rows[s]]),
            '","meta":{"profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},',
            '"extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory","valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland","code":"',
            text(ethnicity[s]),
            '"}]}}],"identifier":[{"system":"' + NHS_SYSTEM + '","value":"',
            nhs,
            '"}],"name":[{"use":"official","family":',
            json_string(text(ident.family[s])),
            ',"given":[',
            json_string(text(ident.given[s])),
            ']}],"gender":"',
            text(np.where(ident.sex[s] == "M", "male", "female")),
            '","birthDate":"',
            dob.slice(a, b - a),
            '",',
            optional(
                ~np.isnat(death[s]), concat_text('"deceasedDateTime":"', text(death[s]), '",')
            ),
            '"address":[{"use":"home","line":[',
            json_string(text(ident.address[s])),
            '],"city":"Stockport","postalCode":"',
            text(ident.postcode[s]),
            '"}],"generalPractitioner":[{"type":"Organization","identifier":{"system":"'
            + ODS_SYSTEM
            + '","value":"',
            text(practice[s]),
            '"}}]}',
        )
        return line, dob.slice(a, b - a), text(practice[s])

    ledger.write_ndjson("gp/Patient.ndjson", rows.size, build, rng)


def _nhs_text_slice(ident: Identity, s: slice) -> pa.Array:
    held = ident.nhs_number[s]
    return text(np.where(held < 0, "", held.astype(np.str_)))


def _conditions(
    world: World, ledger: Ledger, gp_id: npt.NDArray[np.str_], rng: np.random.Generator
) -> None:
    c = world.history.conditions
    keep = c["onset"] < world.history.cohort.exit[c["person"]]
    person, code, term, onset = (
        c["person"][keep],
        c["code"][keep],
        c["term"][keep],
        c["onset"][keep],
    )

    def build(a: int, b: int) -> tuple[pa.Array, pa.Array, pa.Array]:
        s = slice(a, b)
        date, cd = text(onset[s]), text(code[s])
        line = concat_text(
            '{"resourceType":"Condition","id":"',
            _seq_ids("cond-", a, b),
            '","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},',
            '"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],"code":',
            _coding(cd, text(term[s])),
            ',"subject":',
            _ref(gp_id, person[s]),
            ',"onsetDateTime":"',
            date,
            '","recordedDate":"',
            date,
            '"}',
        )
        return line, date, cd

    ledger.write_ndjson("gp/Condition.ndjson", person.size, build, rng)


def _observations(
    world: World, ledger: Ledger, gp_id: npt.NDArray[np.str_], rng: np.random.Generator
) -> None:
    o = world.history.observations
    kind_idx = _kind_index(o["kind"])
    codes = np.array([v[0] for v in OBSERVATION_CODES.values()])
    terms = np.array([v[1] for v in OBSERVATION_CODES.values()])
    units = np.array([v[2] for v in OBSERVATION_CODES.values()])
    bmi_kind = list(OBSERVATION_CODES).index("bmi")
    bp_kind = list(OBSERVATION_CODES).index("bp")

    def build(a: int, b: int) -> tuple[pa.Array, pa.Array, pa.Array]:
        s = slice(a, b)
        k = kind_idx[s]
        date, cd, unit = text(o["date"][s]), text(codes[k]), text(units[k])
        value = np.where(k == bmi_kind, np.round(o["value"][s], 1), np.round(o["value"][s]))
        value_text = np.where(
            k == bmi_kind, np.char.mod("%.1f", value), value.astype(np.int64).astype(np.str_)
        )
        dia = np.where(np.isnan(o["value2"][s]), 0, o["value2"][s]).astype(np.int64).astype(np.str_)
        quantity = concat_text(
            '{"value":',
            text(value_text),
            ',"unit":"',
            unit,
            '","system":"http://unitsofmeasure.org","code":"',
            unit,
            '"}',
        )
        components = concat_text(
            '"component":[{"code":{"coding":[{"system":"'
            + SNOMED
            + '","code":"271649006","display":"Systolic blood pressure"}]},"valueQuantity":',
            quantity,
            '},{"code":{"coding":[{"system":"'
            + SNOMED
            + '","code":"271650006","display":"Diastolic blood pressure"}]},'
            + '"valueQuantity":{"value":',
            text(dia),
            ',"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]',
        )
        body = pa.compute.if_else(
            pa.array(k == bp_kind), components, concat_text('"valueQuantity":', quantity)
        )
        line = concat_text(
            '{"resourceType":"Observation","id":"',
            _seq_ids("obs-", a, b),
            '","status":"final","code":',
            _coding(cd, text(terms[k])),
            ',"subject":',
            _ref(gp_id, o["person"][s]),
            ',"effectiveDateTime":"',
            date,
            '",',
            body,
            "}",
        )
        return line, date, cd

    ledger.write_ndjson("gp/Observation.ndjson", o["person"].size, build, rng)


def _kind_index(kind: npt.NDArray[np.str_]) -> npt.NDArray[np.int64]:
    """Position of each observation kind in OBSERVATION_CODES."""
    keys = np.array(list(OBSERVATION_CODES))
    order = np.argsort(keys)
    return order[np.searchsorted(keys[order], kind)]


def _medications(
    world: World, ledger: Ledger, gp_id: npt.NDArray[np.str_], rng: np.random.Generator
) -> None:
    m = world.history.medications
    codes = np.array([c for c, _ in clinical.DRUGS])
    names = np.array([t for _, t in clinical.DRUGS])
    ended = ~np.isnat(m["end"])

    def build(a: int, b: int) -> tuple[pa.Array, pa.Array, pa.Array]:
        s = slice(a, b)
        start, cd = text(m["start"][s]), text(codes[m["drug"][s]])
        line = concat_text(
            '{"resourceType":"MedicationStatement","id":"',
            _seq_ids("med-", a, b),
            '","status":"',
            text(np.where(ended[s], "completed", "active")),
            '","medicationCodeableConcept":',
            _coding(cd, text(names[m["drug"][s]])),
            ',"subject":',
            _ref(gp_id, m["person"][s]),
            ',"effectivePeriod":{"start":"',
            start,
            '"',
            optional(ended[s], concat_text(',"end":"', text(m["end"][s]), '"')),
            '},"dateAsserted":"',
            start,
            '"}',
        )
        return line, start, cd

    ledger.write_ndjson("gp/MedicationStatement.ndjson", m["person"].size, build, rng)


def _immunisations(
    world: World, ledger: Ledger, gp_id: npt.NDArray[np.str_], rng: np.random.Generator
) -> None:
    im = world.history.immunisations
    programmes = list(clinical.VACCINES)
    idx = _index_in(programmes, im["programme"])
    table = np.array(list(clinical.VACCINES.values()))
    practice = world.persons.practice

    def build(a: int, b: int) -> tuple[pa.Array, pa.Array, pa.Array]:
        s = slice(a, b)
        row = table[idx[s]]
        date, cd = text(im["date"][s]), text(row[:, 0])
        line = concat_text(
            '{"resourceType":"Immunization","id":"',
            _seq_ids("imm-", a, b),
            '","extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure","valueCodeableConcept":',
            _coding(cd, text(row[:, 1])),
            '}],"status":"completed","vaccineCode":',
            _coding(text(row[:, 2]), text(row[:, 3])),
            ',"patient":',
            _ref(gp_id, im["person"][s]),
            ',"occurrenceDateTime":"',
            date,
            '","primarySource":true,"performer":[{"actor":{"identifier":{"system":"'
            + ODS_SYSTEM
            + '","value":"',
            text(world.orgs.practice_code[practice[im["person"][s]]]),
            '"}}}]}',
        )
        return line, date, cd

    ledger.write_ndjson("gp/Immunization.ndjson", im["person"].size, build, rng)


ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
LABORATORY = (ACUTE_TRUST[0], ACUTE_TRUST[1] + " pathology laboratory")


def _status(system: str, code: pa.Array) -> pa.Array:
    return concat_text('{"coding":[{"system":"' + system + '","code":"', code, '"}]}')


def _allergies(
    world: World, ledger: Ledger, gp_id: npt.NDArray[np.str_], rng: np.random.Generator
) -> None:
    a = allergies.allergies(stream(world.seed, "allergies"), world.history.cohort)
    registered = gp_id[a["person"]] != ""
    a = {name: column[registered] for name, column in a.items()}
    codes = np.array([c for c, _ in allergies.MANIFESTATIONS])
    terms = np.array([t for _, t in allergies.MANIFESTATIONS])

    def build(lo: int, hi: int) -> tuple[pa.Array, pa.Array, pa.Array]:
        s = slice(lo, hi)
        date, cd = text(a["recorded"][s]), text(a["code"][s])
        line = concat_text(
            '{"resourceType":"AllergyIntolerance","id":"',
            _seq_ids("alg-", lo, hi),
            '","clinicalStatus":',
            _status(ALLERGY_CLINICAL, text(a["clinical"][s])),
            ',"verificationStatus":',
            _status(ALLERGY_VERIFICATION, text(a["verification"][s])),
            ',"type":"allergy","category":["',
            text(a["category"][s]),
            '"],"criticality":"',
            text(a["criticality"][s]),
            '","code":',
            _coding(cd, text(a["term"][s])),
            ',"patient":',
            _ref(gp_id, a["person"][s]),
            ',"recordedDate":"',
            date,
            '","reaction":[{"manifestation":[',
            _coding(text(codes[a["manifestation"][s]]), text(terms[a["manifestation"][s]])),
            "]}]}",
        )
        return line, date, cd

    ledger.write_ndjson("gp/AllergyIntolerance.ndjson", a["person"].size, build, rng)


def _lab_reports(
    world: World, ledger: Ledger, gp_id: npt.NDArray[np.str_], rng: np.random.Generator
) -> None:
    reports, results = allergies.lab_reports(
        stream(world.seed, "lab_reports"), world.history.observations
    )
    panels = list(allergies.LAB_PANELS.values())
    codes = np.array([c for c, _ in panels])
    terms = np.array([t for _, t in panels])
    refs = concat_text('{"reference":"Observation/obs-', text(results["observation"]), '"}')
    bounds = np.searchsorted(results["report"], np.arange(reports["person"].size + 1))
    issued = np.strings.add(np.datetime_as_string(reports["issued"], unit="m"), ":00+00:00")

    def build(lo: int, hi: int) -> tuple[pa.Array, pa.Array, pa.Array]:
        s = slice(lo, hi)
        date, cd = text(reports["date"][s]), text(codes[reports["panel"][s]])
        first, last = int(bounds[lo]), int(bounds[hi])
        grouped = pa.ListArray.from_arrays(
            pa.array(bounds[lo : hi + 1] - first, pa.int32()), refs.slice(first, last - first)
        )
        line = concat_text(
            '{"resourceType":"DiagnosticReport","id":"',
            _seq_ids("rep-", lo, hi),
            '","status":"final","category":[{"coding":[{"system":"'
            + DIAGNOSTIC_SERVICE
            + '","code":"LAB","display":"Laboratory"}]}],"code":',
            _coding(cd, text(terms[reports["panel"][s]])),
            ',"subject":',
            _ref(gp_id, reports["person"][s]),
            ',"effectiveDateTime":"',
            date,
            '","issued":"',
            text(issued[s]),
            '","performer":[{"type":"Organization","identifier":{"system":"'
            + ODS_SYSTEM
            + '","value":"'
            + LABORATORY[0]
            + '"},"display":"'
            + LABORATORY[1]
            + '"}],"result":[',
            pa.compute.binary_join(grouped, ","),
            "]}",
        )
        return line, date, cd

    ledger.write_ndjson("gp/DiagnosticReport.ndjson", reports["person"].size, build, rng)


def _index_in(keys: list[str], values: npt.NDArray[np.str_]) -> npt.NDArray[np.int64]:
    """Position of each value in `keys`."""
    arr = np.array(keys)
    order = np.argsort(arr)
    return order[np.searchsorted(arr[order], values)]


def _encounters(
    world: World, ledger: Ledger, gp_id: npt.NDArray[np.str_], rng: np.random.Generator
) -> None:
    e = world.history.encounters
    practice = world.persons.practice

    def build(a: int, b: int) -> tuple[pa.Array, pa.Array, pa.Array]:
        s = slice(a, b)
        date, cd = text(e["date"][s]), text(e["code"][s])
        home = e["code"][s] == clinical.HOME_VISIT[0]
        line = concat_text(
            '{"resourceType":"Encounter","id":"',
            _seq_ids("enc-", a, b),
            '","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"',
            text(np.where(home, "HH", "AMB")),
            '"},"type":[',
            _coding(cd, text(e["term"][s])),
            '],"subject":',
            _ref(gp_id, e["person"][s]),
            ',"period":{"start":"',
            date,
            '","end":"',
            date,
            '"},"serviceProvider":{"identifier":{"system":"' + ODS_SYSTEM + '","value":"',
            text(world.orgs.practice_code[practice[e["person"][s]]]),
            '"}}}',
        )
        return line, date, cd

    ledger.write_ndjson("gp/Encounter.ndjson", e["person"].size, build, rng)


# --- Hospital ----------------------------------------------------------------------------


def write_hospital(world: World, ledger: Ledger) -> IdentityRows:
    """The acute trust's PAS extract: patients (local MRN), admissions, wards."""
    adm = world.history.admissions
    rows, mrn, ident = _people(world, "hospital", adm["person"], adm["admit"], "M")
    rng = stream(world.seed, "malformed_hospital")
    ledger.write_csv(
        "hospital/patients.csv",
        _person_columns(world, ident, mrn, "mrn", "%d/%m/%Y", "nhs_number"),
        rng,
        FileSpec(("date_of_birth",), ("gp_practice_code",), "X99999"),
    )
    wrng = stream(world.seed, "wards")
    age = _age_at(world, adm["person"], adm["admit"])
    ward = _wards(wrng, world.orgs, age)
    pathway = adm["pathway"]
    destination = np.select(
        [adm["died"], pathway == 3, pathway == 2],
        ["Died", "Care home", "Community bed"],
        "Usual place of residence",
    )
    destination = np.where(np.isnat(adm["discharge"]), "", destination)
    method = np.array(["21", "22", "23", "28"])[
        wrng.choice(4, size=adm["person"].size, p=[0.78, 0.12, 0.05, 0.05])
    ]
    hour = (
        wrng.integers(0, 24, size=adm["person"].size) * 3600
        + wrng.integers(0, 60, size=adm["person"].size) * 60
    )
    admit_time = adm["admit"].astype("datetime64[s]") + hour.astype("timedelta64[s]")
    ledger.write_csv(
        "hospital/admissions.csv",
        {
            "spell_id": np.strings.add(
                "SP", (1_000_000 + np.arange(adm["person"].size)).astype(np.str_)
            ),
            "mrn": mrn[adm["person"]],
            "admission_datetime": date_text(admit_time, "%d/%m/%Y %H:%M"),
            "admission_method": method,
            "ward_code": world.orgs.ward_code[ward],
            "specialty": world.orgs.ward_name[ward],
            "discharge_ready_date": date_text(adm["drd"], UK),
            "discharge_date": date_text(adm["discharge"], UK),
            "discharge_pathway": np.where(pathway >= 0, pathway.astype(np.str_), ""),
            "delay_reason": adm["reason"],
            "discharge_destination": destination,
            "died_in_hospital": np.where(adm["died"], "Y", "N"),
        },
        rng,
        FileSpec(
            ("admission_datetime", "discharge_date", "discharge_ready_date"),
            ("discharge_pathway", "ward_code"),
            "7",
        ),
    )
    ledger.write_csv(
        "hospital/wards.csv",
        {
            "ward_code": world.orgs.ward_code,
            "ward_name": world.orgs.ward_name,
            "ward_type": world.orgs.ward_kind,
            "beds": world.orgs.ward_beds,
            "site_code": np.full(world.orgs.ward_code.size, "RZ901"),
        },
        rng,
        FileSpec(malform=False),
    )
    return {"hospital": (mrn[rows], rows)}


def _age_at(
    world: World, person: npt.NDArray[np.int64], when: npt.NDArray[np.datetime64]
) -> npt.NDArray[np.float64]:
    return (when - world.persons.dob[person]).astype(np.float64) / 365.25


def _wards(
    rng: np.random.Generator, orgs: Organisations, age: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Ward by age: children to paediatrics, most over-75s to elderly care."""
    kind = np.where(
        age < 16,
        "children",
        np.where((age >= 75) & (rng.random(age.size) < 0.6), "elderly", "general"),
    )
    out = np.zeros(age.size, dtype=np.int64)
    for k in ("children", "elderly", "general"):
        pool = np.flatnonzero(orgs.ward_kind == k)
        rows = np.flatnonzero(kind == k)
        out[rows] = pool[rng.integers(0, pool.size, size=rows.size)]
    return out


def _person_columns(
    world: World,
    ident: Identity,
    ids: npt.NDArray[np.str_],
    id_name: str,
    dob_fmt: str,
    nhs_name: str,
) -> dict[str, object]:
    """Demographics in the shape most local systems export them."""
    practice = world.orgs.practice_code[world.persons.practice[ident.person]]
    return {
        id_name: ids[ident.person],
        nhs_name: _nhs_text(ident),
        "forename": ident.given,
        "surname": ident.family,
        "date_of_birth": date_text(ident.dob, dob_fmt),
        "sex": ident.sex,
        "address_line1": ident.address,
        "town": np.full(ident.person.size, "Stockport"),
        "postcode": ident.postcode,
        "gp_practice_code": practice,
    }


# --- Community ---------------------------------------------------------------------------


def write_community(world: World, ledger: Ledger) -> IdentityRows:
    """Community services: patients, referrals (district nursing, intermediate care,
    therapy) and contacts."""
    refs, contacts = world.history.community_referrals, world.history.community_contacts
    rows, local, ident = _people(world, "community", refs["person"], refs["start"], "CH", 8)
    rng = stream(world.seed, "malformed_community")
    cols = _person_columns(world, ident, local, "patient_id", "%Y-%m-%d", "nhs_no")
    cols["sex"] = _sex_word(ident.sex)
    ledger.write_csv(
        "community/patients.csv", cols, rng, FileSpec(("date_of_birth",), ("sex",), "U")
    )
    nb = world.geo.neighbourhood[world.persons.lsoa[refs["person"]]]
    team = np.strings.add(np.array(config.NEIGHBOURHOODS)[nb], np.strings.add(" ", refs["service"]))
    ref_ids = np.strings.add("R", (5_000_000 + refs["referral"]).astype(np.str_))
    ledger.write_csv(
        "community/referrals.csv",
        {
            "referral_id": ref_ids,
            "patient_id": local[refs["person"]],
            "service": refs["service"],
            "team": team,
            "referral_date": text(refs["start"]),
            "referral_source": refs["source"],
            "discharge_date": text(refs["end"]),
        },
        rng,
        FileSpec(("referral_date", "discharge_date"), ("service",), "Unknown service"),
    )
    crng = stream(world.seed, "contacts")
    n = contacts["person"].size
    minute = (crng.integers(8 * 60, 18 * 60, size=n) * 60).astype("timedelta64[s]")
    roles = np.array(
        [
            "Physiotherapist",
            "Occupational therapist",
            "District nurse",
            "Community nurse",
            "Healthcare assistant",
        ]
    )
    role = np.where(
        refs["service"][contacts["referral"]] == "Falls and therapy",
        crng.integers(0, 2, n),
        crng.integers(2, 5, n),
    )
    ledger.write_csv(
        "community/contacts.csv",
        {
            "contact_id": np.strings.add("C", (10_000_000 + np.arange(n)).astype(np.str_)),
            "referral_id": (ref_ids, contacts["referral"]),
            "patient_id": (local, contacts["person"]),
            "contact_datetime": date_text(
                contacts["date"].astype("datetime64[s]") + minute, "%Y-%m-%d %H:%M"
            ),
            "team": (team, contacts["referral"]),
            "staff_role": (roles, role),
            "contact_type": contacts["kind"],
            "duration_minutes": contacts["minutes"],
        },
        rng,
        FileSpec(("contact_datetime",), ("staff_role",), "ZZ"),
    )
    return {"community": (local[rows], rows)}


# --- Social care ------------------------------------------------------------------------


def write_social_care(world: World, ledger: Ledger) -> IdentityRows:
    """Adult social care (clients, assessments, packages) and children's services
    (children, referrals, early help)."""
    h = world.history
    asm, pk = h.assessments, h.packages
    person = np.r_[asm["person"], pk["person"]]
    date = np.r_[asm["date"], pk["start"]]
    rows, local, ident = _people(world, "socialcare_adults", person, date, "", 6)
    rng = stream(world.seed, "malformed_socialcare")
    cols = _person_columns(world, ident, local, "person_id", UK, "nhs_number")
    cols["sex"] = _sex_word(ident.sex)
    ledger.write_csv("socialcare/adults/clients.csv", cols, rng, FileSpec(("date_of_birth",), ()))
    ledger.write_csv(
        "socialcare/adults/assessments.csv",
        {
            "assessment_id": np.strings.add(
                "A", (700_000 + np.arange(asm["person"].size)).astype(np.str_)
            ),
            "person_id": local[asm["person"]],
            "assessment_date": date_text(asm["date"], UK),
            "assessment_type": asm["kind"],
            "outcome": asm["outcome"],
            "package_id": np.strings.add("PK", (300_000 + asm["package"]).astype(np.str_)),
        },
        rng,
        FileSpec(("assessment_date",), ("assessment_type",), "Unknown"),
    )
    end = np.where(pk["end_exclusive"] >= EXTRACT, NAT, pk["end_exclusive"] - DAY)
    provider = np.where(
        pk["home"] >= 0,
        world.orgs.home_code[np.maximum(pk["home"], 0)],
        np.where(pk["service"] == "Reablement", "LA901-REABLE", "HCP-FRAMEWORK"),
    )
    ledger.write_csv(
        "socialcare/adults/packages.csv",
        {
            "package_id": np.strings.add("PK", (300_000 + pk["package"]).astype(np.str_)),
            "person_id": local[pk["person"]],
            "service_type": pk["service"],
            "start_date": date_text(pk["start"], UK),
            "end_date": date_text(end, UK),
            "hours_per_week": number_text(np.where(pk["hours"] > 0, pk["hours"], np.nan), 1),
            "weekly_cost_gbp": number_text(pk["cost"], 2),
            "provider": provider,
        },
        rng,
        FileSpec(("start_date", "end_date"), ("service_type",), "UNKNOWN"),
    )
    identities: IdentityRows = {"socialcare_adults": (local[rows], rows)}
    identities.update(_children(world, ledger, rng))
    return identities


def _children(world: World, ledger: Ledger, rng: np.random.Generator) -> IdentityRows:
    h = world.history
    refs, early = h.child_referrals, h.early_help
    person = np.r_[refs["person"], early["person"]]
    date = np.r_[refs["date"], early["start"]]
    rows, local, ident = _people(world, "socialcare_children", person, date, "CH-", 6)
    cols = _person_columns(world, ident, local, "child_id", UK, "nhs_number")
    del cols["gp_practice_code"]
    ledger.write_csv(
        "socialcare/children/children.csv", cols, rng, FileSpec(("date_of_birth",), ("sex",), "X")
    )
    ledger.write_csv(
        "socialcare/children/referrals.csv",
        {
            "referral_id": np.strings.add(
                "CR", (40_000 + np.arange(refs["person"].size)).astype(np.str_)
            ),
            "child_id": local[refs["person"]],
            "referral_date": date_text(refs["date"], UK),
            "referral_source": refs["source"],
            "outcome": refs["outcome"],
        },
        rng,
        FileSpec(("referral_date",), ("referral_source",), "Unknown"),
    )
    ledger.write_csv(
        "socialcare/children/early_help.csv",
        {
            "episode_id": np.strings.add(
                "EH", (20_000 + np.arange(early["person"].size)).astype(np.str_)
            ),
            "child_id": local[early["person"]],
            "start_date": date_text(early["start"], UK),
            "end_date": date_text(early["end"], UK),
            "lead_professional": early["lead"],
        },
        rng,
        FileSpec(("start_date", "end_date"), ("lead_professional",), "Unknown"),
    )
    return {"socialcare_children": (local[rows], rows)}


# --- Hospice, deaths, population ------------------------------------------------------------


def write_hospice(world: World, ledger: Ledger) -> IdentityRows:
    """The hospice's patient list and episodes."""
    hs = world.history.hospice
    rows, local, ident = _people(world, "hospice", hs["person"], hs["start"], "H", 5)
    rng = stream(world.seed, "malformed_hospice")
    ledger.write_csv(
        "hospice/patients.csv",
        _person_columns(world, ident, local, "patient_id", UK, "nhs_number"),
        rng,
        FileSpec(("date_of_birth",), ("gp_practice_code",), "X99999"),
    )
    ledger.write_csv(
        "hospice/episodes.csv",
        {
            "episode_id": np.strings.add(
                "E", (9000 + np.arange(hs["person"].size)).astype(np.str_)
            ),
            "patient_id": local[hs["person"]],
            "referral_date": date_text(hs["referral"], UK),
            "start_date": date_text(hs["start"], UK),
            "end_date": date_text(hs["end"], UK),
            "setting": hs["setting"],
            "end_reason": np.where(hs["died_there"], "Died", "Discharged"),
            "provider": np.full(hs["person"].size, HOSPICE[0]),
        },
        rng,
        FileSpec(("referral_date", "start_date", "end_date"), ("setting",), "Unknown"),
    )
    return {"hospice": (local[rows], rows)}


def write_deaths(world: World, ledger: Ledger) -> IdentityRows:
    """Death registrations for residents who died in the window."""
    h = world.history
    died = np.flatnonzero(~np.isnat(h.death))
    ident = identity(
        stream(world.seed, "mess_deaths"),
        "deaths",
        world.persons,
        world.geo,
        world.orgs,
        h.care_home,
        died,
        h.death[died],
    )
    rng = stream(world.seed, "deaths_extract")
    registered = h.death[died] + rng.integers(2, 12, size=died.size) * DAY
    year = registered.astype("datetime64[Y]").astype(np.int64) + 1970
    reg_id = np.strings.add(
        np.strings.add("DR", year.astype(np.str_)), (100_000 + np.arange(died.size)).astype(np.str_)
    )
    cause = h.cause[died]
    place = h.place_of_death
    place_code = np.select(
        [place == "Hospital", place == "Hospice"], [ACUTE_TRUST[0] + "01", HOSPICE[0]], ""
    )
    ledger.write_csv(
        "deaths/registrations.csv",
        {
            "registration_id": reg_id,
            "nhs_number": _nhs_text(ident),
            "forename": ident.given,
            "surname": ident.family,
            "date_of_birth": text(ident.dob),
            "sex": ident.sex,
            "date_of_death": text(h.death[died]),
            "date_of_registration": text(registered),
            "place_of_death": place,
            "place_of_death_code": place_code,
            "underlying_cause_icd10": np.array([c[0] for c in care.CAUSES])[cause],
            "cause_description": np.array([c[1] for c in care.CAUSES])[cause],
            "usual_residence_postcode": ident.postcode,
            "lsoa_code": world.geo.lsoa_code[world.persons.lsoa[died]],
        },
        stream(world.seed, "malformed_deaths"),
        FileSpec(("date_of_death", "date_of_registration"), ("underlying_cause_icd10",), "Q99.99"),
    )
    return {"deaths": (reg_id, died)}


def write_population(world: World, ledger: Ledger) -> None:
    """ONS-style mid-year estimates (30 June) by LSOA, sex and five-year band, 2021-2025."""
    p, h = world.persons, world.history
    n_lsoa = world.geo.lsoa_code.size
    frames = []
    for year in range(config.WINDOW_START.year, config.WINDOW_START.year + config.YEARS):
        day = np.datetime64(f"{year}-06-30", "D")
        alive = np.flatnonzero((p.entry <= day) & (h.cohort.exit > day))
        band = np.minimum(age_on(p, day)[alive] // 5, 18)
        key = (p.lsoa[alive] * 2 + (p.sex[alive] == "M")) * 19 + band
        counts = np.bincount(key, minlength=n_lsoa * 38)
        frames.append((year, counts))
    cells = np.arange(n_lsoa * 38)
    lsoa, rest = np.divmod(cells, 38)
    sex, band = np.divmod(rest, 19)
    years_col = np.repeat([y for y, _ in frames], cells.size)
    ledger.write_csv(
        "population/mid_year_estimates.csv",
        {
            "year": years_col,
            "lsoa_code": np.tile(world.geo.lsoa_code[lsoa], len(frames)),
            "sex": np.tile(np.where(sex == 1, "M", "F"), len(frames)),
            "age_band": np.tile(np.array(config.FIVE_YEAR_BANDS)[band], len(frames)),
            "count": np.concatenate([c for _, c in frames]),
        },
        stream(world.seed, "malformed_population"),
        FileSpec((), ("age_band",), "95-99"),
    )


def identity_table(rows: IdentityRows) -> Table:
    """Stack identities: source, source id, true person index."""
    sources = [np.full(ids.size, name) for name, (ids, _) in rows.items()]
    return {
        "source": np.concatenate(sources),
        "source_id": np.concatenate([ids for ids, _ in rows.values()]),
        "person": np.concatenate([p for _, p in rows.values()]),
    }
