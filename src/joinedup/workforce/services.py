"""Writes: the classification lists, staff and establishment imports, team contacts.

Every imported row is either accepted or kept, with its line and reason, as an
``ImportProblem`` of the batch: nothing is dropped silently. An extract is a snapshot:
importing it again updates the same records (matched on employer and the employer's
reference) and adds nothing twice. Every import and change writes an audit event.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Neighbourhood, Organisation, Team, User
from joinedup.errors import InvalidInput, NotFound
from joinedup.workforce.baseline import age_band_lower
from joinedup.workforce.extracts import FORMATS, Row, read_rows
from joinedup.workforce.models import (
    ContractType,
    Establishment,
    ExtractFormat,
    ImportBatch,
    ImportProblem,
    Role,
    Sector,
    StaffGroup,
    StaffRecord,
    TeamContact,
    sector_of,
)

DATA = Path(__file__).parent / "data"
FULL_TIME_HOURS = {Sector.NHS: Decimal("37.5"), Sector.GENERAL_PRACTICE: Decimal("37.5")}
SOCIAL_CARE_FULL_TIME = Decimal("37")
_CONTRACTS = {
    "": ContractType.PERMANENT,
    "permanent": ContractType.PERMANENT,
    "fixed term": ContractType.FIXED_TERM,
    "fixed-term": ContractType.FIXED_TERM,
    "fixed term temp": ContractType.FIXED_TERM,
    "temporary": ContractType.FIXED_TERM,
    "bank": ContractType.BANK,
    "pool": ContractType.BANK,
    "agency": ContractType.AGENCY,
}
_SEXES = {
    "f": "Female",
    "female": "Female",
    "m": "Male",
    "male": "Male",
    "": "Not stated",
    "not stated": "Not stated",
    "not known": "Not stated",
    "unknown": "Not stated",
    "u": "Not stated",
    "i": "Not stated",
    "other": "Other",
}
_OCCUPATION = re.compile(r"^[A-Z0-9]{3}$")


@transaction.atomic
def classifications_sync() -> int:
    """Load the shipped classification lists (``data/``); returns rows added."""
    added = 0
    groups = {(g.sector, g.code): g for g in StaffGroup.objects.all()}

    def group(sector: Sector, code: str, name: str) -> StaffGroup:
        nonlocal added
        found = groups.get((sector, code))
        if found is None:
            found = groups[(sector, code)] = StaffGroup.objects.create(
                sector=sector, code=code, name=name
            )
            added += 1
        return found

    with (DATA / "nhs_staff_groups.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            group(Sector.NHS, row["code"], row["name"])
    known = set(Role.objects.filter(listed=True).values_list("staff_group_id", "name"))
    for sector, filename in (
        (Sector.GENERAL_PRACTICE, "general_practice_roles.csv"),
        (Sector.SOCIAL_CARE, "social_care_roles.csv"),
    ):
        with (DATA / filename).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                g = group(sector, row["staff_group_code"], row["staff_group"])
                if (g.pk, row["role"]) not in known:
                    Role.objects.update_or_create(
                        staff_group=g, name=row["role"], defaults={"listed": True}
                    )
                    added += 1
    return added


@dataclass
class Lookups:
    """What rows are checked against, fetched once per import."""

    organisations: dict[str, Organisation] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    neighbourhoods: dict[str, Neighbourhood] = field(default_factory=dict)
    groups: dict[tuple[str, str], StaffGroup] = field(default_factory=dict)
    listed_roles: dict[tuple[str, str], Role] = field(default_factory=dict)
    free_roles: dict[tuple[int, str], Role] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Lookups:
        found = cls()
        found.organisations = {
            o.ods_code.upper(): o for o in Organisation.objects.select_related("neighbourhood")
        }
        found.teams = {t.name.lower(): t for t in Team.objects.select_related("neighbourhood")}
        for n in Neighbourhood.objects.all():
            found.neighbourhoods[n.name.lower()] = n
            found.neighbourhoods[n.code.lower()] = n
        for g in StaffGroup.objects.all():
            found.groups[(g.sector, g.code.lower())] = g
            found.groups[(g.sector, g.name.lower())] = g
            if g.code.isdigit():
                found.groups[(g.sector, str(int(g.code)))] = g
        for r in Role.objects.select_related("staff_group"):
            if r.listed:
                found.listed_roles[(r.staff_group.sector, r.name.lower())] = r
            else:
                found.free_roles[(r.staff_group_id, r.name.lower())] = r
        return found

    def role(self, group: StaffGroup, name: str) -> Role:
        key = (group.pk, name.lower())
        if key not in self.free_roles:
            self.free_roles[key], _ = Role.objects.get_or_create(staff_group=group, name=name)
        return self.free_roles[key]


class RowProblems(Exception):
    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


def _date(value: str) -> date | None:
    value = value.strip()
    for pattern, order in (
        (r"^(\d{4})-(\d{2})-(\d{2})$", (0, 1, 2)),
        (r"^(\d{2})/(\d{2})/(\d{4})$", (2, 1, 0)),
    ):
        match = re.match(pattern, value)
        if match:
            parts = [int(p) for p in match.groups()]
            try:
                return date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                return None
    return None


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value.strip().replace(",", ""))
    except InvalidOperation:
        return None


class _Checker:
    """Collects every problem of one row, so the report names them all at once."""

    def __init__(self, row: Row) -> None:
        self.row = row
        self.problems: list[tuple[str, str, str]] = []

    def fail(self, name: str, message: str) -> None:
        self.problems.append((name, self.row.get(name, "")[:200], message))

    def text(self, name: str, *, required: bool = False, limit: int = 120) -> str:
        value = self.row.get(name, "").strip()
        if required and not value:
            self.fail(name, "is missing")
        elif len(value) > limit:
            self.fail(name, f"is longer than {limit} characters")
        return value

    def date(self, name: str, *, required: bool = False) -> date | None:
        value = self.row.get(name, "").strip()
        if not value:
            if required:
                self.fail(name, "is missing")
            return None
        parsed = _date(value)
        if parsed is None or not date(1940, 1, 1) <= parsed <= date(2100, 1, 1):
            self.fail(name, "is not a real date (use YYYY-MM-DD or DD/MM/YYYY)")
            return None
        return parsed

    def number(self, name: str, low: Decimal, high: Decimal) -> Decimal | None:
        value = self.row.get(name, "").strip()
        if not value:
            return None
        parsed = _decimal(value)
        if parsed is None or not parsed.is_finite() or not low <= parsed <= high:
            self.fail(name, f"must be a number from {low} to {high}")
            return None
        return parsed


def _classify(
    check: _Checker, lookups: Lookups, sector: Sector
) -> tuple[StaffGroup | None, Role | None]:
    group_text = check.text("staff_group", limit=100)
    role_text = check.text("role", required=True)
    group = lookups.groups.get((sector, group_text.lower())) if group_text else None
    if group_text and group is None:
        check.fail("staff_group", f"is not a {sector.label} staff group in our classification")
    if sector == Sector.NHS:
        if not group_text:
            check.fail("staff_group", "is missing")
        return group, lookups.role(group, role_text) if group and role_text else None
    role = lookups.listed_roles.get((sector, role_text.lower())) if role_text else None
    if role_text and role is None:
        check.fail("role", f"is not a {sector.label} job role in our classification")
        return group, None
    if role is not None and group is not None and role.staff_group_id != group.pk:
        check.fail("staff_group", f"does not match the role's group ({role.staff_group.name})")
    return (role.staff_group if role else group), role


def _wte(check: _Checker, sector: Sector) -> tuple[Decimal | None, Decimal | None]:
    hours = check.number("hours", Decimal(0), Decimal(100))
    wte = check.number("wte", Decimal(0), Decimal("1.5"))
    if wte is None and hours is not None:
        full = check.number("full_time_hours", Decimal(1), Decimal(60))
        default = FULL_TIME_HOURS.get(sector, SOCIAL_CARE_FULL_TIME)
        wte = min(Decimal("1.5"), (hours / (full or default)).quantize(Decimal("0.01")))
    if wte is None and not check.problems:
        check.fail("wte", "is missing: give the WTE or the contracted hours")
    return hours, wte


def staff_from_row(row: Row, lookups: Lookups) -> StaffRecord:
    """A staff record from one extract row, or ``RowProblems`` naming everything wrong."""
    check = _Checker(row)
    if "_width" in row:
        check.problems.append(("", "", f"the row has {row['_width']}"))
        raise RowProblems(check.problems)
    ref = check.text("staff_ref", required=True, limit=40)
    code = check.text("organisation", required=True, limit=10).upper()
    org = lookups.organisations.get(code)
    if code and org is None:
        check.fail("organisation", "is not an organisation in the register")
    team = _optional(check, "team", lookups.teams)
    hood = _optional(check, "neighbourhood", lookups.neighbourhoods)
    sector = sector_of(org.kind) if org else None
    group, role = _classify(check, lookups, sector) if sector else (None, None)
    occupation = check.text("occupation_code", limit=10).upper()
    if occupation and not _OCCUPATION.match(occupation):
        check.fail("occupation_code", "must be three letters or digits")
    contract = _CONTRACTS.get(check.text("contract").lower())
    if contract is None:
        check.fail("contract", "must be permanent, fixed term, bank or agency")
    hours, wte = _wte(check, sector or Sector.NHS)
    band = check.text("age_band", limit=10)
    lower = age_band_lower(band) if band else None
    if band and (lower is None or not 14 <= lower <= 100):
        check.fail("age_band", "is not an age band such as 45-54 or 65+")
    sex = _SEXES.get(check.text("sex").lower())
    if sex is None:
        check.fail("sex", "must be female, male, other or not stated")
    start = check.date("start_date", required=True)
    left = check.date("leaving_date")
    if start and left and left < start:
        check.fail("leaving_date", "is before the start date")
    if check.problems:
        raise RowProblems(check.problems)
    assert org is not None
    assert group is not None
    assert role is not None
    assert wte is not None
    assert start is not None
    assert contract is not None
    assert sex is not None
    return StaffRecord(
        organisation=org,
        staff_ref=ref,
        team=team,
        neighbourhood=hood or (team.neighbourhood if team else None) or org.neighbourhood,
        staff_group=group,
        role=role,
        occupation_code=occupation,
        pay_band=check.text("pay_band", limit=40),
        contract=contract,
        contracted_hours=hours,
        wte=wte,
        age_band=band,
        sex=sex,
        ethnicity=check.text("ethnicity", limit=60),
        start_date=start,
        leaving_date=left,
    )


def _optional(check: _Checker, name: str, table: dict[str, Any]) -> Any:
    value = check.text(name, limit=200)
    if not value:
        return None
    found = table.get(value.lower())
    if found is None:
        check.fail(name, f"is not a known {name}")
    return found


@dataclass(frozen=True)
class ImportSummary:
    batch_id: int
    rows_read: int
    accepted: int
    rejected: int

    def one_line(self) -> str:
        return (
            f"{self.rows_read:,} rows read, {self.accepted:,} accepted, "
            f"{self.rejected:,} kept back with their reasons (import {self.batch_id})"
        )


def _start_batch(fmt: str, filename: str, user: User | None) -> ImportBatch:
    classifications_sync()
    return ImportBatch.objects.create(format=fmt, filename=filename[:255], imported_by=user)


def _finish(
    batch: ImportBatch, read: int, accepted: int, problems: list[ImportProblem], user: User | None
) -> ImportSummary:
    ImportProblem.objects.bulk_create(problems, batch_size=1000)
    rejected = len({p.line for p in problems})
    batch.rows_read, batch.accepted, batch.rejected = read, accepted, rejected
    batch.save(update_fields=["rows_read", "accepted", "rejected"])
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        resource=f"workforce.import:{batch.pk}",
        reason=f"{batch.get_format_display()}: {accepted} accepted, {rejected} kept back",
    )
    return ImportSummary(batch.pk, read, accepted, rejected)


def _keep(
    batch: ImportBatch, line: int, raw: str, problems: list[tuple[str, str, str]]
) -> list[ImportProblem]:
    return [
        ImportProblem(batch=batch, line=line, field=f, value=v, message=m[:300], raw=raw[:2000])
        for f, v, m in problems
    ]


@transaction.atomic
def staff_import(
    *,
    rows: Iterable[tuple[int, Row, str]],
    fmt: str,
    filename: str,
    user: User | None = None,
) -> ImportSummary:
    """Accept or keep back every row; upsert accepted rows on (employer, reference)."""
    batch = _start_batch(fmt, filename, user)
    lookups = Lookups.load()
    seen: dict[tuple[int, str], int] = {}
    records: list[StaffRecord] = []
    problems: list[ImportProblem] = []
    read = 0
    for line, row, raw in rows:
        read += 1
        try:
            record = staff_from_row(row, lookups)
        except RowProblems as exc:
            problems += _keep(batch, line, raw, exc.problems)
            continue
        key = (record.organisation.pk, record.staff_ref)
        if key in seen:
            problems += _keep(
                batch, line, raw, [("staff_ref", record.staff_ref, f"repeats line {seen[key]}")]
            )
            continue
        seen[key] = line
        record.batch = batch
        records.append(record)
    _save_staff(records)
    return _finish(batch, read, len(records), problems, user)


_FIELDS = [
    f.name
    for f in StaffRecord._meta.concrete_fields
    if f.name not in ("id", "organisation", "staff_ref")
]


def _save_staff(records: list[StaffRecord]) -> None:
    orgs = {r.organisation.pk for r in records}
    existing = {
        (org, ref): pk
        for pk, org, ref in StaffRecord.objects.filter(organisation_id__in=orgs).values_list(
            "pk", "organisation_id", "staff_ref"
        )
    }
    new, old = [], []
    for record in records:
        pk = existing.get((record.organisation.pk, record.staff_ref))
        if pk is None:
            new.append(record)
        else:
            record.pk = pk
            old.append(record)
    StaffRecord.objects.bulk_create(new, batch_size=1000)
    StaffRecord.objects.bulk_update(old, _FIELDS, batch_size=500)


def staff_import_file(
    *, path: Path, fmt: str, user: User | None = None, content: bytes | None = None
) -> ImportSummary:
    """Import an ESR-like or social care extract (CSV or XLSX)."""
    if fmt not in (ExtractFormat.ESR, ExtractFormat.SOCIAL_CARE):
        raise InvalidInput("the format must be esr or socialcare", where="format")
    rows = list(read_rows(path, FORMATS[fmt], content=content))
    return staff_import(rows=rows, fmt=fmt, filename=path.name, user=user)


def establishment_from_row(row: Row, lookups: Lookups) -> Establishment:
    check = _Checker(row)
    if "_width" in row:
        raise RowProblems([("", "", f"the row has {row['_width']}")])
    code = check.text("organisation", limit=10).upper()
    kind = check.text("pooled_kind", limit=30).lower()
    org = lookups.organisations.get(code) if code else None
    kinds = {k for k, _ in Organisation._meta.get_field("kind").choices or []}
    if code and org is None:
        check.fail("organisation", "is not an organisation in the register")
    if bool(code) == bool(kind):
        check.fail("organisation", "give either an organisation code or an organisation kind")
    elif kind and kind not in kinds:
        check.fail("pooled_kind", f"must be one of {', '.join(sorted(kinds))}")
    sector = sector_of(org.kind if org else kind)
    group_text = check.text("staff_group", required=True, limit=100)
    group = lookups.groups.get((sector, group_text.lower()))
    if group_text and group is None:
        check.fail("staff_group", f"is not a {sector.label} staff group in our classification")
    role_text = check.text("role")
    role = None
    if role_text and group is not None:
        role = lookups.listed_roles.get((sector, role_text.lower())) or lookups.role(
            group, role_text
        )
        if role.staff_group_id != group.pk:
            check.fail("role", "is not a role of this staff group")
    team = _optional(check, "team", lookups.teams)
    funded = check.number("funded_wte", Decimal(0), Decimal(100000))
    if funded is None and "funded_wte" not in [p[0] for p in check.problems]:
        check.fail("funded_wte", "is missing")
    if check.problems:
        raise RowProblems(check.problems)
    assert group is not None
    assert funded is not None
    return Establishment(
        organisation=org,
        pooled_kind="" if org else kind,
        team=team,
        staff_group=group,
        role=role,
        funded_wte=funded,
    )


@transaction.atomic
def establishment_import(
    *, rows: Iterable[tuple[int, Row, str]], filename: str, user: User | None = None
) -> ImportSummary:
    """The establishment is a snapshot per employer (or pool): the file's lines replace
    what was held for every employer and pool it names."""
    batch = _start_batch(ExtractFormat.ESTABLISHMENT, filename, user)
    lookups = Lookups.load()
    lines: list[Establishment] = []
    problems: list[ImportProblem] = []
    seen: dict[tuple[object, ...], int] = {}
    read = 0
    for line, row, raw in rows:
        read += 1
        try:
            item = establishment_from_row(row, lookups)
        except RowProblems as exc:
            problems += _keep(batch, line, raw, exc.problems)
            continue
        key = (
            item.organisation_id,
            item.pooled_kind,
            item.team_id,
            item.staff_group_id,
            item.role_id,
        )
        if key in seen:
            problems += _keep(
                batch,
                line,
                raw,
                [
                    (
                        "staff_group",
                        row.get("staff_group", ""),
                        f"repeats the funding line on line {seen[key]}",
                    )
                ],
            )
            continue
        seen[key] = line
        item.batch = batch
        lines.append(item)
    orgs = {e.organisation.pk for e in lines if e.organisation}
    pools = {e.pooled_kind for e in lines if e.pooled_kind}
    Establishment.objects.filter(organisation_id__in=orgs).delete()
    Establishment.objects.filter(pooled_kind__in=pools).delete()
    Establishment.objects.bulk_create(lines, batch_size=1000)
    return _finish(batch, read, len(lines), problems, user)


def establishment_import_file(
    *, path: Path, user: User | None = None, content: bytes | None = None
) -> ImportSummary:
    rows = list(read_rows(path, FORMATS["establishment"], content=content))
    return establishment_import(rows=rows, filename=path.name, user=user)


@transaction.atomic
def team_contact_update(
    *, user: User, team_id: int, phone: str, email: str, base: str, hours: str
) -> TeamContact:
    """Set how to reach a team; each field is checked and the change audited."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound("there is no such team")
    phone, email = phone.strip(), email.strip()
    if phone and not re.fullmatch(r"[0-9 +()-]{6,30}", phone):
        raise InvalidInput("enter a telephone number, like 0161 496 0000", where="phone")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise InvalidInput("enter an email address, like team@example.org", where="email")
    if len(base.strip()) > 200 or len(hours.strip()) > 120:
        raise InvalidInput("the base or hours are too long", where="base")
    contact, _ = TeamContact.objects.update_or_create(
        team=team,
        defaults={"phone": phone, "email": email, "base": base.strip(), "hours": hours.strip()},
    )
    audit_record(
        actor=user, action=AuditAction.UPDATE, resource=f"workforce.team_contact:{team.pk}"
    )
    return contact
