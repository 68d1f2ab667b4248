"""Ingesting a delivery folder: validate every row, keep what fails, commit in resumable chunks.

The rules this module keeps:
- rows in = rows accepted + rows quarantined, for every file, always;
- the same file delivered again adds nothing (its checksum is remembered);
- each chunk of rows commits together with the file's resume point, so a process
  killed at any moment resumes where the last commit left off and ends in exactly
  the state an uninterrupted run would have reached;
- every fact carries its provenance: feed, source record id, delivery, received time.
Validation is the costly step (FHIR above all), so chunks are validated in worker
processes, the next chunk while the main process writes the last.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.bulk import upsert
from joinedup.core.models import AuditAction, Organisation, OrganisationKind
from joinedup.core.reference import organisations_sync
from joinedup.people.models import LinkMethod, SourceIdentity
from joinedup.record.feeds import FACT_COLUMNS, IDENTITY_FIELDS, FileSpec, load_feeds
from joinedup.record.fields import Context, RowError, csv_header, raw_text, validate_lines
from joinedup.record.models import Delivery, DeliveryStatus, Fact, QuarantinedRow

Progress = Callable[[str, int, int], None]
_SCOPE = "ingest"
_PART = 500  # lines a worker validates at a time
_IDENTITY_UPDATES = [
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "address",
    "postcode",
    "practice_code",
    "date_of_death",
    "ethnic_category",
    "delivery_id",
    "received_at",
]
_FACT_UPDATES = [
    "identity_id",
    "occurred_at",
    "ended_at",
    "code_system",
    "code",
    "display",
    "value",
    "value_text",
    "unit",
    "status",
    "organisation",
    "detail",
    "delivery_id",
    "received_at",
]


@dataclass(frozen=True)
class FileReport:
    feed: str
    path: str
    rows_in: int
    accepted: int
    quarantined: int
    status: str  # "ingested", "resumed" or "already ingested"


@dataclass
class _Line:
    number: int  # 1-based line in the file
    text: str | None  # None when the bytes are not UTF-8
    raw: bytes


def ingest_folder(
    folder: Path, *, progress: Progress | None = None, chunk_size: int = 5000, workers: int = 2
) -> list[FileReport]:
    """Ingest every known file in a delivery folder, feed by feed, identities before facts."""
    register = folder / "reference" / "organisations.csv"
    if register.exists():
        organisations_sync(register)
    context = Context(
        practices=frozenset(
            Organisation.objects.filter(kind=OrganisationKind.GP_PRACTICE).values_list(
                "ods_code", flat=True
            )
        )
    )
    specs = [s for feed in load_feeds().values() for s in feed.files if (folder / s.path).exists()]
    ordered = sorted(specs, key=lambda s: (s.feed, s.role != "identity"))
    if workers <= 1:
        return [_run(folder, s, context, None, progress, chunk_size) for s in ordered]
    mp = multiprocessing.get_context("spawn")  # workers need no Django and no DB connection
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp) as pool:
        return [_run(folder, s, context, pool, progress, chunk_size) for s in ordered]


def _run(
    folder: Path,
    spec: FileSpec,
    context: Context,
    pool: Executor | None,
    progress: Progress | None,
    chunk_size: int,
) -> FileReport:
    return ingest_file(
        folder, spec, context=context, pool=pool, progress=progress, chunk_size=chunk_size
    )


def ingest_file(
    folder: Path,
    spec: FileSpec,
    *,
    context: Context,
    pool: Executor | None,
    progress: Progress | None,
    chunk_size: int,
) -> FileReport:
    path = folder / spec.path
    data = path.read_bytes()
    delivery, created = Delivery.objects.get_or_create(
        feed=spec.feed,
        path=spec.path,
        sha256=hashlib.sha256(data).hexdigest(),
        defaults={
            "size": len(data),
            "received_at": timezone.now(),
            "status": DeliveryStatus.RUNNING,
        },
    )
    if delivery.status == DeliveryStatus.COMPLETE:
        return _report(delivery, "already ingested")
    lines = _lines(data)
    header = None
    if spec.format == "csv":
        if not lines or lines[0].text is None:
            raise RowError("header", f"{spec.path} has no readable header")
        header = csv_header(lines[0].text)
        lines = lines[1:]
    start = delivery.next_line
    seen = _ids_before(spec, lines[:start], header, context)
    identities = _identity_ids(spec.feed)
    total = len(lines)
    offsets = range(start, total, chunk_size)
    # While one chunk commits, the workers are already validating the next.
    pending = _validate(spec, lines[start : start + chunk_size], header, context, pool)
    for offset in offsets:
        chunk = lines[offset : offset + chunk_size]
        results = pending()
        after = offset + chunk_size
        if after < total:
            pending = _validate(spec, lines[after : after + chunk_size], header, context, pool)
        _commit(delivery, spec, chunk, results, seen, identities, offset + len(chunk))
        if progress:
            progress(f"{spec.feed}: {spec.path}", offset + len(chunk), total)
    delivery.status = DeliveryStatus.COMPLETE
    delivery.finished_at = timezone.now()
    delivery.save(update_fields=["status", "finished_at"])
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        resource=f"delivery:{spec.feed}/{spec.path}",
        reason=f"{delivery.rows_in} rows: {delivery.accepted} accepted, "
        f"{delivery.quarantined} quarantined",
    )
    return _report(delivery, "ingested" if created else "resumed")


def _report(delivery: Delivery, status: str) -> FileReport:
    return FileReport(
        delivery.feed,
        delivery.path,
        delivery.rows_in,
        delivery.accepted,
        delivery.quarantined,
        status,
    )


def _lines(data: bytes) -> list[_Line]:
    """Non-blank lines with their numbers; a line that is not UTF-8 keeps its bytes only."""
    out = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        raw = line.rstrip(b"\r")
        if not raw.strip():
            continue
        try:
            text: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        out.append(_Line(number, text, raw))
    return out


def _validate(
    spec: FileSpec,
    chunk: list[_Line],
    header: list[str] | None,
    context: Context,
    pool: Executor | None,
) -> Callable[[], list[dict[str, Any] | RowError]]:
    """Start validating a chunk; the returned call gives its results, in line order."""
    texts = [line.text for line in chunk]
    if pool is None:
        results = validate_lines(spec, texts, header, context)
        return lambda: results
    parts = [texts[i : i + _PART] for i in range(0, len(texts), _PART)]
    futures = [pool.submit(validate_lines, spec, part, header, context) for part in parts]

    def collect() -> list[dict[str, Any] | RowError]:
        return [result for future in futures for result in future.result()]

    return collect


def _ids_before(
    spec: FileSpec, done: list[_Line], header: list[str] | None, context: Context
) -> dict[str, int]:
    """Record ids of the lines a previous run committed, so duplicates are still caught."""
    seen: dict[str, int] = {}
    for line, result in zip(
        done, validate_lines(spec, [d.text for d in done], header, context), strict=True
    ):
        if isinstance(result, dict) and result["id"] not in seen:
            seen[result["id"]] = line.number
    return seen


def _identity_ids(feed: str) -> dict[str, int]:
    return dict(
        SourceIdentity.objects.for_system(_SCOPE).filter(source=feed).values_list("source_id", "id")
    )


def _commit(
    delivery: Delivery,
    spec: FileSpec,
    chunk: list[_Line],
    results: list[dict[str, Any] | RowError],
    seen: dict[str, int],
    identities: dict[str, int],
    next_line: int,
) -> None:
    now = timezone.now()
    accepted: list[dict[str, Any]] = []
    rejected: list[QuarantinedRow] = []
    for line, result in zip(chunk, results, strict=True):
        error = result if isinstance(result, RowError) else _check(spec, result, seen, identities)
        if error is None:
            assert isinstance(result, dict)
            seen[result["id"]] = line.number
            accepted.append(result)
        else:
            rejected.append(
                QuarantinedRow(
                    delivery=delivery,
                    line=line.number,
                    field=error.field[:100],
                    reason=error.reason[:300],
                    raw=raw_text(line.raw.decode("utf-8", "replace")),
                )
            )
    with transaction.atomic():
        if spec.role == "identity":
            _save_identities(spec, accepted, delivery, now, identities)
        else:
            _save_facts(
                spec,
                spec.kind or "",
                accepted,
                spec.fields,
                delivery,
                now,
                identities,
                lambda row: row["person"],
            )
        QuarantinedRow.objects.bulk_create(rejected, batch_size=1000)
        delivery.rows_in += len(chunk)
        delivery.accepted += len(accepted)
        delivery.quarantined += len(rejected)
        delivery.next_line = next_line
        delivery.save(update_fields=["rows_in", "accepted", "quarantined", "next_line"])


def _check(
    spec: FileSpec, row: dict[str, Any], seen: dict[str, int], identities: dict[str, int]
) -> RowError | None:
    if row["id"] in seen:
        return RowError(spec.id.name, f"duplicate of line {seen[row['id']]} ({row['id']})")
    if spec.role == "fact" and row["person"] not in identities:
        return RowError("person", f"no {spec.feed} patient has id {row['person']!r}")
    return None


def _save_identities(
    spec: FileSpec,
    rows: list[dict[str, Any]],
    delivery: Delivery,
    now: datetime,
    identities: dict[str, int],
) -> None:
    if not rows:
        return
    upsert(
        SourceIdentity,
        [
            {
                "source": spec.feed,
                "source_id": row["id"],
                **{name: _blank(name) for name in IDENTITY_FIELDS},
                **{f.name: row[f.name] for f in spec.fields if row[f.name] is not None},
                "delivery_id": delivery.pk,
                "received_at": now,
                "person_id": None,
                "link_method": LinkMethod.UNLINKED,
                "link_probability": None,
                "link_explanation": [],
            }
            for row in rows
        ],
        unique=["source", "source_id"],
        update=_IDENTITY_UPDATES,
    )
    identities.update(
        SourceIdentity.objects.for_system(_SCOPE)
        .filter(source=spec.feed, source_id__in=[r["id"] for r in rows])
        .values_list("source_id", "id")
    )
    if spec.fact_kind:
        _save_facts(
            spec,
            spec.fact_kind,
            rows,
            spec.fact_fields,
            delivery,
            now,
            identities,
            lambda row: row["id"],
        )


def _blank(name: str) -> Any:
    if name in {"date_of_birth", "date_of_death"}:
        return None
    return "unknown" if name == "sex" else ""


def _save_facts(
    spec: FileSpec,
    kind: str,
    rows: list[dict[str, Any]],
    fields: Any,
    delivery: Delivery,
    now: datetime,
    identities: dict[str, int],
    person_of: Callable[[dict[str, Any]], str],
) -> None:
    out = []
    for row in rows:
        columns = {name: _fact_blank(name) for name in FACT_COLUMNS}
        columns.update(
            {
                f.name: row[f.name]
                for f in fields
                if f.name in FACT_COLUMNS and row[f.name] is not None
            }
        )
        detail = {
            f.name: _plain(row[f.name])
            for f in fields
            if f.name not in FACT_COLUMNS and row[f.name] is not None
        }
        out.append(
            {
                "identity_id": identities[person_of(row)],
                "source": spec.feed,
                "record_id": row["id"],
                "kind": kind,
                "code_system": spec.code_system if columns["code"] else "",
                "detail": detail,
                "delivery_id": delivery.pk,
                "received_at": now,
                **columns,
            }
        )
    upsert(Fact, out, unique=["source", "kind", "record_id"], update=_FACT_UPDATES)


def _fact_blank(name: str) -> Any:
    return None if name in {"occurred_at", "ended_at", "value"} else ""


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
