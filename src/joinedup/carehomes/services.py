"""Writes to the care-home register: reading register files, and changing alignments.

Every write is atomic and audited. A register file is read row by row: each row is
accepted or kept back with every reason it failed (in ``RegisterImport.problems``), so
nothing sent is lost and the sender can correct it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from joinedup.carehomes import planner
from joinedup.carehomes.alignment import Rules
from joinedup.carehomes.errors import ProposalChanged, RegisterFileInvalid
from joinedup.carehomes.models import (
    AlignmentChange,
    CareHome,
    CareHomeKind,
    PracticeSite,
    RegisterImport,
)
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Neighbourhood, Organisation, OrganisationKind, User
from joinedup.errors import InvalidInput, NotFound

HOME_COLUMNS = ("org_code", "name", "type", "beds", "postcode", "latitude", "longitude")
PRACTICE_COLUMNS = ("org_code", "type", "list_size")
KINDS = {
    "residential": CareHomeKind.RESIDENTIAL,
    "residential home": CareHomeKind.RESIDENTIAL,
    "nursing": CareHomeKind.NURSING,
    "nursing home": CareHomeKind.NURSING,
}
_CODE = re.compile(r"^[A-Z0-9]{3,10}$")
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")
# Great Britain and Northern Ireland, generously: a location outside is a typing error.
LATITUDE = (49.0, 61.5)
LONGITUDE = (-8.7, 2.1)
MAX_BEDS = 400


@dataclass(frozen=True)
class ImportSummary:
    import_id: int
    rows_read: int
    accepted: int
    rejected: int
    skipped: int = 0

    def one_line(self) -> str:
        text = (
            f"import {self.import_id}: {self.rows_read:,} rows read, {self.accepted:,} accepted, "
            f"{self.rejected:,} kept back"
        )
        return text + (f", {self.skipped:,} not GP practices" if self.skipped else "")


Row = dict[str, str]


def _rows(text: str, required: tuple[str, ...], where: str) -> Iterator[tuple[int, Row, str]]:
    reader = csv.reader(io.StringIO(text))
    heading = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in required if c not in heading]
    if missing:
        raise RegisterFileInvalid(
            f"the file has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}",
            where=where,
        )
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        raw = ",".join(values)
        row = {k: v.strip() for k, v in zip(heading, values, strict=False)}
        if len(values) != len(heading):
            row["_width"] = f"{len(values)} values for {len(heading)} columns"
        yield line, row, raw


def _number(
    row: Row, name: str, low: float, high: float, problems: list[str], *, whole: bool = False
) -> float:
    text = row.get(name, "")
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        problems.append(f"{name}: {text!r} is not a {'whole ' if whole else ''}number")
        return 0.0
    if not low <= value <= high:
        problems.append(f"{name}: {value} is outside {low:g} to {high:g}")
    return float(value)


def _read_text(path: Path, content: bytes | None) -> str:
    data = path.read_bytes() if content is None else content
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RegisterFileInvalid("the file is not UTF-8 text", where=path.name) from None


@dataclass(frozen=True)
class _Home:
    line: int
    code: str
    fields: dict[str, object]
    aligned: Organisation | None
    aligned_given: bool


def _home_row(line: int, row: Row, practices: dict[str, Organisation]) -> _Home | list[str]:
    problems: list[str] = [row["_width"]] if "_width" in row else []
    code = row.get("org_code", "").upper()
    if not _CODE.match(code):
        problems.append(f"org_code: {code!r} is not a code of 3 to 10 letters and digits")
    name = row.get("name", "")
    if not name:
        problems.append("name: is empty")
    kind = KINDS.get(row.get("type", "").lower())
    if kind is None:
        problems.append(f"type: {row.get('type', '')!r} is not Residential or Nursing")
    beds = _number(row, "beds", 1, MAX_BEDS, problems, whole=True)
    postcode = row.get("postcode", "").upper()
    if not _POSTCODE.match(postcode):
        problems.append(f"postcode: {postcode!r} is not a UK postcode")
    latitude = _number(row, "latitude", *LATITUDE, problems)
    longitude = _number(row, "longitude", *LONGITUDE, problems)
    aligned_code = row.get("aligned_practice", "").upper()
    aligned = practices.get(aligned_code) if aligned_code else None
    if aligned_code and aligned is None:
        problems.append(f"aligned_practice: {aligned_code!r} is not a GP practice in the register")
    if problems:
        return problems
    return _Home(
        line,
        code,
        {
            "name": name,
            "kind": kind,
            "beds": int(beds),
            "postcode": postcode,
            "latitude": latitude,
            "longitude": longitude,
            "cqc_location_id": row.get("cqc_location_id", ""),
            "lsoa_code": row.get("lsoa_code", ""),
        },
        aligned,
        "aligned_practice" in row,
    )


def _practices() -> dict[str, Organisation]:
    return {
        o.ods_code.upper(): o
        for o in Organisation.objects.filter(kind=OrganisationKind.GP_PRACTICE)
    }


@transaction.atomic
def care_homes_import(
    *, path: Path, user: User | None = None, content: bytes | None = None
) -> ImportSummary:
    """Add or update every care home in a register CSV (``reference/care_homes.csv``)."""
    text = _read_text(path, content)
    practices = _practices()
    organisations = {
        o.ods_code.upper(): o for o in Organisation.objects.filter(kind=OrganisationKind.CARE_HOME)
    }
    neighbourhoods = {n.name: n for n in Neighbourhood.objects.all()}
    problems: list[dict[str, object]] = []
    seen: set[str] = set()
    rows_read = accepted = 0
    for line, row, raw in _rows(text, HOME_COLUMNS, path.name):
        rows_read += 1
        parsed = _home_row(line, row, practices)
        if isinstance(parsed, _Home) and parsed.code in seen:
            parsed = [f"org_code: {parsed.code} appears earlier in the file"]
        if not isinstance(parsed, _Home):
            problems.append({"line": line, "reasons": parsed, "raw": raw})
            continue
        seen.add(parsed.code)
        _home_save(
            parsed,
            organisation=organisations.get(parsed.code),
            neighbourhood=neighbourhoods.get(row.get("neighbourhood", "")),
            user=user,
            filename=path.name,
        )
        accepted += 1
    return _finish(path, "care_homes", user, rows_read, accepted, problems)


def _home_save(
    parsed: _Home,
    *,
    organisation: Organisation | None,
    neighbourhood: Neighbourhood | None,
    user: User | None,
    filename: str,
) -> None:
    home, _ = CareHome.objects.update_or_create(
        code=parsed.code,
        defaults={**parsed.fields, "organisation": organisation, "neighbourhood": neighbourhood},
    )
    if parsed.aligned_given and parsed.aligned != home.aligned_practice:
        _align(home, parsed.aligned, user=user, reason=f"register file {filename}")


def _align(
    home: CareHome, practice: Organisation | None, *, user: User | None, reason: str
) -> None:
    AlignmentChange.objects.create(
        home=home,
        from_practice=home.aligned_practice,
        to_practice=practice,
        changed_by=user,
        reason=reason[:300],
    )
    home.aligned_practice = practice
    home.aligned_since = timezone.localdate() if practice is not None else None
    home.save(update_fields=["aligned_practice", "aligned_since", "updated_at"])


def _finish(
    path: Path,
    kind: str,
    user: User | None,
    rows_read: int,
    accepted: int,
    problems: list[dict[str, object]],
    skipped: int = 0,
) -> ImportSummary:
    batch = RegisterImport.objects.create(
        filename=path.name,
        kind=kind,
        imported_by=user,
        rows_read=rows_read,
        accepted=accepted,
        problems=problems,
    )
    audit_record(
        actor=user,
        action=AuditAction.ADMIN,
        resource=f"carehomes.import.{kind}",
        reason=f"{path.name}: {accepted} accepted, {len(problems)} kept back",
    )
    return ImportSummary(batch.pk, rows_read, accepted, len(problems), skipped)


def _lsoa_centroids(path: Path) -> dict[str, tuple[float, float]]:
    text = _read_text(path, None)
    out: dict[str, tuple[float, float]] = {}
    for _line, row, _raw in _rows(
        text, ("lsoa_code", "centroid_latitude", "centroid_longitude"), path.name
    ):
        try:
            out[row["lsoa_code"]] = (
                float(row["centroid_latitude"]),
                float(row["centroid_longitude"]),
            )
        except ValueError:
            continue  # a practice in that LSOA is kept back with the reason
    return out


def _practice_row(
    row: Row, practices: dict[str, Organisation], centroids: dict[str, tuple[float, float]]
) -> tuple[Organisation, dict[str, object]] | list[str]:
    problems: list[str] = [row["_width"]] if "_width" in row else []
    code = row.get("org_code", "").upper()
    practice = practices.get(code)
    if practice is None:
        problems.append(
            f"org_code: {code!r} is not a GP practice in the organisation register "
            "(load the organisation register first)"
        )
    size = _number(row, "list_size", 1, 200_000, problems, whole=True)
    if row.get("latitude") and row.get("longitude"):
        latitude = _number(row, "latitude", *LATITUDE, problems)
        longitude = _number(row, "longitude", *LONGITUDE, problems)
    elif row.get("lsoa_code", "") in centroids:
        latitude, longitude = centroids[row["lsoa_code"]]
    else:
        problems.append(
            f"lsoa_code: {row.get('lsoa_code', '')!r} has no known centroid, "
            "and there is no latitude and longitude"
        )
        latitude = longitude = 0.0
    if problems or practice is None:
        return problems
    return practice, {
        "latitude": latitude,
        "longitude": longitude,
        "lsoa_code": row.get("lsoa_code", ""),
        "list_size": int(size),
    }


@transaction.atomic
def practice_sites_import(
    *, path: Path, lsoas: Path | None = None, user: User | None = None
) -> ImportSummary:
    """Each GP practice's location and list size from the organisation register CSV.

    A practice's location is its own latitude and longitude when the file has them,
    otherwise the centroid of its LSOA from ``lsoas`` (``reference/lsoas.csv``).
    Rows that are not GP practices are counted and passed over.
    """
    text = _read_text(path, None)
    centroids = _lsoa_centroids(lsoas) if lsoas is not None else {}
    practices = _practices()
    problems: list[dict[str, object]] = []
    rows_read = accepted = skipped = 0
    for line, row, raw in _rows(text, PRACTICE_COLUMNS, path.name):
        rows_read += 1
        if row.get("type", "").lower() != "gp practice":
            skipped += 1
            continue
        parsed = _practice_row(row, practices, centroids)
        if isinstance(parsed, list):
            problems.append({"line": line, "reasons": parsed, "raw": raw})
            continue
        practice, fields = parsed
        PracticeSite.objects.update_or_create(practice=practice, defaults=fields)
        accepted += 1
    return _finish(path, "practices", user, rows_read, accepted, problems, skipped)


@transaction.atomic
def alignment_set(
    *, user: User | None, home_code: str, practice_code: str, reason: str
) -> CareHome:
    """Align one home to a practice (or to none, with an empty code)."""
    home = CareHome.objects.select_for_update().filter(code=home_code).first()
    if home is None:
        raise NotFound("there is no care home with this code", where="home")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the alignment changes", where="reason")
    practice = None
    if practice_code:
        practice = _practices().get(practice_code.upper())
        if practice is None:
            raise InvalidInput("choose a GP practice from the list", where="practice")
    if practice != home.aligned_practice:
        _align(home, practice, user=user, reason=reason)
        audit_record(
            actor=user,
            action=AuditAction.UPDATE,
            resource=f"carehomes.alignment:{home.code}",
            reason=f"to {practice.ods_code if practice else 'no practice'}: {reason[:200]}",
        )
    return home


@transaction.atomic
def alignment_adopt(*, user: User | None, rules: Rules, fingerprint: str) -> int:
    """Make the planner's proposal the register's alignment; returns how many homes moved.

    ``fingerprint`` is the proposal the user saw; if the register changed since, the
    proposal now differs and nothing is changed (ProposalChanged).
    """
    list(CareHome.objects.select_for_update().values_list("id", flat=True))  # lock the register
    comparison = planner.compare(rules)
    if comparison.fingerprint != fingerprint:
        raise ProposalChanged(
            "the register changed since the proposal was shown: look at the new proposal",
            where="proposal",
        )
    homes = {h.code: h for h in CareHome.objects.select_related("aligned_practice")}
    practices = _practices()
    moved = 0
    for row in comparison.rows:
        home, practice = homes[row.home_code], practices[row.proposed_code]
        if home.aligned_practice != practice:
            _align(home, practice, user=user, reason="adopted from the alignment planner")
            moved += 1
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource="carehomes.alignment",
        reason=(
            f"planner proposal adopted: {moved} homes moved; travel "
            f"{comparison.current.travel_km:.1f} km to {comparison.proposed.travel_km:.1f} km"
        ),
    )
    return moved
