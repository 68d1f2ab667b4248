"""Build the pseudonymised warehouse from the shared record (the one door into the planning zone).

Reads people and facts only through their querysets scoped to the named system purpose
"warehouse", leaves out everyone who opted out of secondary use (the National Data
Opt-out) before anything is written, and replaces each person's id by a keyed pseudonym.

Incremental: events are written one Parquet file per delivery of the record. A build
rewrites only the deliveries that are new or whose number of linked facts changed since
the last build (the manifest keeps each delivery's count: that is the watermark), drops
files of deliveries that are gone, and always rewrites ``persons`` (small, and the only
place demographics, deaths and opt-outs change). Events of anyone no longer in
``persons`` are then purged. A full rebuild happens when the salt changes, when the
person index has been relinked (a fingerprint of every identity's person), or on request.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from joinedup.errors import ConfigurationError, InvalidInput
from joinedup.people.models import Person, SourceIdentity
from joinedup.population import vaccines
from joinedup.population.pseudonym import Pseudonymiser
from joinedup.population.warehouse import (
    AGE_BANDS,
    PERSONS_SCHEMA,
    REFERENCE_SCHEMAS,
    Warehouse,
    age_band,
    age_on,
    normalise_postcode,
)
from joinedup.record.models import Fact

PURPOSE = "warehouse"
SALT_VARIABLE = "JOINEDUP_WAREHOUSE_SALT"
Progress = Callable[[str, int, int], None]


def _quiet(*_: object) -> None:
    return None


def warehouse_root() -> Path:
    return Path(settings.WAREHOUSE_DIR)


def pseudonymiser() -> Pseudonymiser:
    """The salt from JOINEDUP_WAREHOUSE_SALT; outside production, one made once under var/."""
    salt = (settings.WAREHOUSE_SALT or "").strip()
    if not salt:
        if settings.PRODUCTION:
            raise ConfigurationError(
                "set a secret salt of at least 16 characters to build the warehouse",
                where=SALT_VARIABLE,
            )
        path = Path(settings.VAR_DIR) / "warehouse-salt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(os.urandom(24).hex())
            path.chmod(0o600)
        salt = path.read_text().strip()
    if len(salt.encode()) < 16:
        raise ConfigurationError("the salt must be at least 16 characters", where=SALT_VARIABLE)
    return Pseudonymiser(salt.encode())


# -- reference data ------------------------------------------------------------------------


def reference_load(*, warehouse: Warehouse, folder: Path) -> dict[str, int]:
    """LSOAs, postcodes and mid-year estimates from a borough folder (as ``joinedup synth``
    writes them). Every row is checked: a good row is loaded, a bad one is kept with its
    file, line and reason in ``reference/rejected.parquet`` (nothing is dropped silently)."""
    rejected: list[tuple[str, str, str]] = []
    lsoas = _rows(
        folder / "reference" / "lsoas.csv",
        ("lsoa_code", "imd_decile", "neighbourhood"),
        lambda r, w: (
            _lsoa(r["lsoa_code"], w),
            r.get("lsoa_name", ""),
            _int(r["imd_decile"], w, 1, 10),
            _text(r["neighbourhood"], w),
        ),
        rejected,
    )
    known = {row[0] for row in lsoas}
    postcodes = _rows(
        folder / "reference" / "postcodes.csv",
        ("postcode", "lsoa_code"),
        lambda r, w: (
            normalise_postcode(_text(r["postcode"], w)),
            _known(r["lsoa_code"], known, w),
        ),
        rejected,
    )
    estimates = _rows(
        folder / "population" / "mid_year_estimates.csv",
        ("year", "lsoa_code", "sex", "age_band", "count"),
        lambda r, w: (
            _int(r["year"], w, 1900, 2200),
            _known(r["lsoa_code"], known, w),
            _sex(r["sex"], w),
            _band(r["age_band"], w),
            _int(r["count"], w, 0, 10**7),
        ),
        rejected,
    )
    _write(warehouse, "lsoas", lsoas)
    _write(warehouse, "postcodes", postcodes)
    _write(warehouse, "population", estimates)
    _write(warehouse, "vaccine_codes", vaccines.code_rows())
    table = pa.table(
        {
            k: list(v)
            for k, v in zip(("where", "reason", "raw"), zip(*rejected, strict=False), strict=False)
        }
        if rejected
        else {"where": [], "reason": [], "raw": []}
    )
    pq.write_table(
        table.cast(pa.schema([(n, pa.string()) for n in table.column_names])),
        warehouse.root / "reference" / "rejected.parquet",
    )
    return {
        "lsoas": len(lsoas),
        "postcodes": len(postcodes),
        "estimates": len(estimates),
        "rejected": len(rejected),
    }


def _write(warehouse: Warehouse, name: str, rows: list[tuple[Any, ...]]) -> None:
    names = REFERENCE_SCHEMAS[name].names
    columns = list(zip(*rows, strict=False)) if rows else [() for _ in names]
    warehouse.reference_write(
        name, pa.table({n: list(c) for n, c in zip(names, columns, strict=False)})
    )


def _rows(
    path: Path,
    required: tuple[str, ...],
    parse: Callable[[dict[str, str], str], tuple[Any, ...]],
    rejected: list[tuple[str, str, str]],
) -> list[tuple[Any, ...]]:
    accepted = []
    for where, row in _csv(path, required):
        try:
            if None in row or any(row.get(c) is None for c in required):
                raise InvalidInput("the row has the wrong number of fields", where=where)
            accepted.append(parse(row, where))
        except InvalidInput as exc:
            raw = ",".join(str(v) for v in row.values())
            rejected.append((where, exc.detail, raw))
    return accepted


def _lsoa(text: str, where: str) -> str:
    code = text.strip()
    if len(code) != 9:
        raise InvalidInput(f"{code!r} is not an LSOA code", where=where)
    return code


def _text(text: str, where: str) -> str:
    if not text.strip():
        raise InvalidInput("an empty value", where=where)
    return text.strip()


def _csv(path: Path, required: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    if not path.exists():
        raise InvalidInput("file not found", where=str(path))
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        absent = [c for c in required if c not in (reader.fieldnames or [])]
        if absent:
            raise InvalidInput(f"missing columns {', '.join(absent)}", where=str(path))
        return [(f"{path}:{line}", row) for line, row in enumerate(reader, start=2)]


def _int(text: str, where: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a whole number", where=where) from None
    if not low <= value <= high:
        raise InvalidInput(f"{value} is outside {low}..{high}", where=where)
    return value


def _known(code: str, known: set[str], where: str) -> str:
    if code not in known:
        raise InvalidInput(f"unknown LSOA {code!r}", where=where)
    return code


def _sex(text: str, where: str) -> str:
    value = {"F": "female", "M": "male", "female": "female", "male": "male"}.get(text.strip())
    if value is None:
        raise InvalidInput(f"sex {text!r} is not F or M", where=where)
    return value


def _band(text: str, where: str) -> str:
    if text.strip() not in AGE_BANDS:
        raise InvalidInput(f"age band {text!r} is not one of 0-4, 5-9, ..., 90+", where=where)
    return text.strip()


# -- the build -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSummary:
    full: bool
    as_of: dt.date
    persons: int
    opted_out: int
    deliveries_written: int
    deliveries_kept: int
    events_written: int
    events_purged: int

    def line(self) -> str:
        kind = "full build" if self.full else "incremental build"
        return (
            f"{kind} as of {self.as_of:%Y-%m-%d}: {self.persons} people "
            f"({self.opted_out} opted out, left out), {self.deliveries_written} deliveries "
            f"written ({self.events_written} events), {self.deliveries_kept} unchanged, "
            f"{self.events_purged} events purged"
        )


def warehouse_build(
    *,
    warehouse: Warehouse,
    pseudonyms: Pseudonymiser,
    full: bool = False,
    as_of: dt.date | None = None,
    progress: Progress = _quiet,
) -> BuildSummary:
    if not warehouse.has_reference():
        raise InvalidInput(
            "the warehouse has no reference data yet: run joinedup warehouse reference DIR",
            where=str(warehouse.root),
        )
    facts = Fact.objects.for_system(PURPOSE).filter(identity__person__isnull=False)
    as_of = as_of or _default_as_of(facts)
    before = warehouse.manifest()
    links = _linkage_fingerprint()
    full = full or before.get("salt") != pseudonyms.fingerprint or before.get("links") != links
    if full:
        for delivery_id in warehouse.deliveries():
            warehouse.events_drop(delivery_id)
    persons, opted_out = _persons_table(warehouse, pseudonyms, as_of)
    warehouse.persons_write(persons)
    progress("people pseudonymised", persons.num_rows, persons.num_rows)
    counts = {
        str(r["delivery_id"]): r["n"] for r in facts.values("delivery_id").annotate(n=Count("id"))
    }
    done = {} if full else dict(before.get("deliveries", {}))
    todo = sorted((int(d) for d, n in counts.items() if done.get(d) != n))
    written = 0
    for index, delivery_id in enumerate(todo, start=1):
        table = _events_table(facts.filter(delivery_id=delivery_id), pseudonyms, delivery_id)
        warehouse.events_write(delivery_id, table)
        written += table.num_rows
        progress("deliveries written", index, len(todo))
    for gone in set(warehouse.deliveries()) - {int(d) for d in counts}:
        warehouse.events_drop(gone)
    purged = warehouse.purge_missing()
    warehouse.manifest_save(
        {
            "built_at": timezone.now().isoformat(timespec="seconds"),
            "as_of": as_of.isoformat(),
            "salt": pseudonyms.fingerprint,
            "links": links,
            "deliveries": counts,
            "persons": persons.num_rows,
            "build": int(before.get("build", 0)) + 1,
        }
    )
    return BuildSummary(
        full,
        as_of,
        persons.num_rows,
        opted_out,
        len(todo),
        len(counts) - len(todo),
        written,
        purged,
    )


def _default_as_of(facts: Any) -> dt.date:
    """The day after the newest event in the record (the extract date), never after today."""
    latest: dt.datetime | None = facts.aggregate(latest=Max("occurred_at"))["latest"]
    today = timezone.localdate()
    if latest is None:
        return today
    return min(latest.date() + dt.timedelta(days=1), today)


def _linkage_fingerprint() -> str:
    digest = hashlib.sha256()
    rows = SourceIdentity.objects.for_system(PURPOSE).order_by("id").values_list("id", "person_id")
    for identity_id, person_id in rows.iterator(chunk_size=20_000):
        digest.update(f"{identity_id}:{person_id};".encode())
    return digest.hexdigest()[:32]


# The NHS Data Dictionary's ethnic categories by the five broad groups of the 2011 census.
_ETHNIC_GROUPS = {
    **dict.fromkeys("ABC", "White"),
    **dict.fromkeys("DEFG", "Mixed or multiple"),
    **dict.fromkeys("HJKL", "Asian or Asian British"),
    **dict.fromkeys("MNP", "Black or Black British"),
    **dict.fromkeys("RS", "Other ethnic group"),
    "Z": "Not stated",
}


def ethnic_group(category: str) -> str | None:
    """The broad group of an ethnic category code; None where the record holds none.

    The warehouse keeps only the broad group: the seventeen categories split small
    neighbourhoods into cells of a handful of people.
    """
    return _ETHNIC_GROUPS.get(category.strip().upper()) if category else None


def _persons_table(
    warehouse: Warehouse, pseudonyms: Pseudonymiser, as_of: dt.date
) -> tuple[pa.Table, int]:
    lsoa_of = {
        r["postcode"]: r["lsoa"] for r in warehouse.sql("SELECT * FROM postcodes").to_pylist()
    }
    areas = {r["lsoa"]: r for r in warehouse.sql("SELECT * FROM lsoas").to_pylist()}
    people = Person.objects.for_system(PURPOSE)
    opted_out = people.filter(opted_out_secondary_use=True).count()
    rows = people.filter(opted_out_secondary_use=False).values_list(
        "id",
        "sex",
        "date_of_birth",
        "date_of_death",
        "postcode",
        "registered_practice__ods_code",
        "ethnic_category",
    )
    columns: dict[str, list[Any]] = {name: [] for name in PERSONS_SCHEMA.names}
    for person_id, sex, born, died, postcode, practice, ethnicity in rows.iterator(
        chunk_size=20_000
    ):
        lsoa = lsoa_of.get(normalise_postcode(postcode)) if postcode else None
        area = areas.get(lsoa or "")
        died_by = died is not None and died < as_of
        age = age_on(born, died if died_by and died else as_of)
        columns["pseudonym"].append(pseudonyms.of(person_id))
        columns["sex"].append(sex)
        columns["age"].append(age)
        columns["age_band"].append(age_band(age))
        columns["alive"].append(not died_by)
        columns["lsoa"].append(lsoa)
        columns["imd_decile"].append(area["imd_decile"] if area else None)
        columns["neighbourhood"].append(area["neighbourhood"] if area else None)
        columns["practice"].append(practice)
        columns["ethnic_group"].append(ethnic_group(ethnicity))
    return pa.table(columns), opted_out


_EVENT_FIELDS = (
    "identity__person_id",
    "identity__person__date_of_birth",
    "source",
    "kind",
    "occurred_at",
    "ended_at",
    "code_system",
    "code",
    "display",
    "value",
    "unit",
    "status",
    "organisation",
    "detail",
)


def _events_table(facts: Any, pseudonyms: Pseudonymiser, delivery_id: int) -> pa.Table:
    """Events of people who have not opted out, with no record identifiers or free text."""
    rows = facts.filter(identity__person__opted_out_secondary_use=False).values_list(*_EVENT_FIELDS)
    out: dict[str, list[Any]] = {name: [] for name in _EVENT_COLUMNS}
    cache: dict[Any, str] = {}
    for (
        person_id,
        born,
        source,
        kind,
        occurred,
        ended,
        system,
        code,
        display,
        value,
        unit,
        status,
        org,
        detail,
    ) in rows.iterator(chunk_size=20_000):
        pseudonym = cache.get(person_id) or cache.setdefault(person_id, pseudonyms.of(person_id))
        day = occurred.date() if occurred else None
        info: dict[str, Any] = detail or {}
        out["pseudonym"].append(pseudonym)
        out["source"].append(source)
        out["kind"].append(kind)
        out["occurred_on"].append(day)
        out["ended_on"].append(ended.date() if ended else None)
        out["age_at_event"].append(age_on(born, day) if day else None)
        out["code_system"].append(system)
        out["code"].append(code)
        out["display"].append(display)
        out["value"].append(value)
        out["unit"].append(unit)
        out["status"].append(status)
        out["organisation"].append(org)
        out["setting"].append(_setting(kind, info))
        out["ready_on"].append(_date(info.get("discharge_ready_date")))
        out["pathway"].append(info.get("discharge_pathway") or None)
        out["cost_pence"].append(_pence(info.get("weekly_cost_gbp")))
    out["delivery_id"] = [delivery_id] * len(out["pseudonym"])
    return pa.table(out)


_EVENT_COLUMNS = (
    "pseudonym",
    "source",
    "kind",
    "occurred_on",
    "ended_on",
    "age_at_event",
    "code_system",
    "code",
    "display",
    "value",
    "unit",
    "status",
    "organisation",
    "setting",
    "ready_on",
    "pathway",
    "cost_pence",
)


def _setting(kind: str, detail: dict[str, Any]) -> str | None:
    key = {"admission": "admission_method", "death": "place"}.get(kind)
    value = detail.get(key) if key else None
    return str(value) if value not in (None, "") else None


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _pence(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return round(float(value) * 100)
    except (TypeError, ValueError):
        return None
