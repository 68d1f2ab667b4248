"""Staff imports of volunteers from CSV or XLSX, with a row-level report.

Every row is either accepted (added, or updating the volunteer with the same id) or
kept back with its line number, field and reason: nothing is silently dropped. The
reasons never quote a person's details, so the report can be shown and kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from joinedup.citizens.forms import volunteer_clean
from joinedup.citizens.households import household_key, postcode_normalise
from joinedup.citizens.models import (
    GenderSame,
    ImportBatch,
    ImportProblem,
    Lsoa,
    Postcode,
    Tenure,
    Volunteer,
    VolunteerSource,
    YesNo,
)
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, User
from joinedup.errors import InvalidInput

MAX_ROWS = 50_000
# Other names a register's columns go by -> ours.
ALIASES = {
    "citizen_id": "external_id",
    "id": "external_id",
    "first_name": "given_name",
    "last_name": "family_name",
    "surname": "family_name",
    "ethnicity": "ethnic_group",
    "gender_identity": "gender_same_as_sex",
    "joined_date": "joined",
    "address": "address_line_1",
}
# Columns a register may leave out, and what we then record.
DEFAULTS = {
    "gender_same_as_sex": GenderSame.NOT_SAID.value,
    "carer": YesNo.NOT_SAID.value,
    "tenure": Tenure.NOT_SAID.value,
    "disability": YesNo.NOT_SAID.value,
}


@dataclass
class ImportResult:
    batch: ImportBatch
    added: int = 0
    updated: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


def _records(name: str, content: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    lower = name.lower()
    if lower.endswith(".xlsx"):
        yield from _xlsx(content)
    elif lower.endswith(".csv"):
        text = content.decode("utf-8-sig", errors="replace")
        reader = csv.reader(io.StringIO(text))
        header = [_column(h) for h in next(reader, [])]
        for line, row in enumerate(reader, start=2):
            if any(c.strip() for c in row):
                yield line, dict(zip(header, row + [""] * (len(header) - len(row)), strict=False))
    else:
        raise InvalidInput("upload a .csv or .xlsx file", where="file")


def _xlsx(content: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the same problem to the user
        raise InvalidInput("the file is not a readable XLSX workbook", where="file") from None
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = [_column(str(h or "")) for h in next(rows, ())]
    for line, row in enumerate(rows, start=2):
        values = ["" if c is None else _cell(c) for c in row]
        if any(v.strip() for v in values):
            yield line, dict(zip(header, values + [""] * (len(header) - len(values)), strict=False))


def _cell(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


class _Areas:
    """Postcode -> LSOA, looked up once per import."""

    def __init__(self) -> None:
        self.lsoa = dict(Postcode.objects.values_list("postcode", "lsoa_id"))
        self.areas = {a.code: a for a in Lsoa.objects.select_related("neighbourhood")}

    def known(self, postcode: str) -> bool:
        return postcode_normalise(postcode) in self.lsoa


@transaction.atomic
def volunteers_import(*, name: str, content: bytes, user: User | None) -> ImportResult:
    """Read every row; add or update volunteers; keep back bad rows with their reasons."""
    batch = ImportBatch.objects.create(filename=name[:200], imported_by=user)
    result = ImportResult(batch)
    areas = _Areas()
    registered = Volunteer.objects.for_system("register import").exclude(external_id=None)
    existing = {v.external_id: v for v in registered}
    seen: dict[str, int] = {}
    new: list[Volunteer] = []
    for line, row in _records(name, content):
        batch.rows_read += 1
        if batch.rows_read > MAX_ROWS:
            raise InvalidInput(f"the file has more than {MAX_ROWS:,} rows: split it", where="file")
        volunteer = _row(batch, line, row, areas, existing, seen, result)
        if volunteer is not None and volunteer._state.adding:
            new.append(volunteer)
    Volunteer.objects.bulk_create(new, batch_size=500)
    result.added = len(new)
    batch.rows_accepted = result.added + result.updated
    batch.save(update_fields=["rows_read", "rows_accepted"])
    ImportProblem.objects.bulk_create(result.problems)
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        resource=f"citizens.import:{batch.pk}",
        reason=f"{result.added} added, {result.updated} updated, {len(result.problems)} kept back",
    )
    return result


def _row(
    batch: ImportBatch,
    line: int,
    row: dict[str, str],
    areas: _Areas,
    existing: dict[str | None, Volunteer],
    seen: dict[str, int],
    result: ImportResult,
) -> Volunteer | None:
    def keep(where: str, reason: str) -> None:
        result.problems.append(ImportProblem(batch=batch, line=line, field=where, reason=reason))

    raw = {**DEFAULTS, **{k: v for k, v in row.items() if v and v.strip()}}
    raw.setdefault("contact_preference", "Email" if raw.get("email") else "Post")
    interests = [
        i.strip() for i in raw.get("interests", "").replace("|", ";").split(";") if i.strip()
    ]
    cleaned = volunteer_clean(
        raw, postcode_known=areas.known, interests=interests, require_consent=False
    )
    external = (raw.get("external_id") or "").strip()[:40] or None
    joined = _date(raw.get("joined", ""))
    if joined is None:
        cleaned.errors["joined"] = "The joined date is not a date like 2024-03-31"
    if external and external in seen:
        cleaned.errors["external_id"] = f"The same id is on line {seen[external]} of this file"
    if not cleaned.ok:
        for where, reason in cleaned.errors.items():
            keep(where, reason)
        return None
    if external:
        seen[external] = line
    volunteer = existing.get(external) if external else None
    if volunteer is None:
        volunteer = Volunteer(
            external_id=external,
            consent_version="imported",
            consented_at=timezone.now(),
            source=VolunteerSource.IMPORT,
        )
    for key, value in cleaned.values.items():
        setattr(volunteer, key, value)
    volunteer.joined = joined or timezone.localdate()
    area = areas.areas[areas.lsoa[volunteer.postcode]]
    volunteer.neighbourhood, volunteer.imd_quintile = area.neighbourhood, area.imd_quintile
    address = " ".join(p for p in (volunteer.address_line_1, volunteer.address_line_2) if p)
    volunteer.household_key = household_key(address, volunteer.postcode) if address else ""
    if not volunteer._state.adding:
        volunteer.save()
        result.updated += 1
    return volunteer


def _date(text: str) -> dt.date | None:
    if not text.strip():
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
