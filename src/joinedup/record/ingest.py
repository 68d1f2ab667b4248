"""Ingesting a delivery folder: validate every row, keep what fails, commit in resumable chunks.

The rules this module keeps:
- rows in = rows accepted + rows quarantined, for every file, always;
- the same file delivered again adds nothing (its checksum is remembered);
- each chunk of rows commits together with the file's resume point, so a process
  killed at any moment resumes where the last commit left off and ends in exactly
  the state an uninterrupted run would have reached;
- every fact carries its provenance: feed, source record id, delivery, received time.
Validation is the costly step (FHIR above all), so chunks are validated in worker
processes, the next chunk (or the next file's first) while the main process writes the
last. docs/ingestion.md "Speed" says where the time goes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.bulk import upsert_values
from joinedup.core.models import AuditAction, Organisation, OrganisationKind
from joinedup.core.reference import organisations_sync
from joinedup.people.models import LinkMethod, SourceIdentity
from joinedup.record.feeds import FACT_COLUMNS, IDENTITY_FIELDS, FieldSpec, FileSpec, load_feeds
from joinedup.record.fields import (
    Context,
    RowError,
    csv_header,
    end_with,
    fhir_modules,
    raw_text,
    validate_lines,
)
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
        return _ingest_files(folder, ordered, context, None, progress, chunk_size)
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_workers_context(ordered),
        initializer=end_with,
        initargs=(os.getpid(),),
    ) as pool:
        return _ingest_files(folder, ordered, context, pool, progress, chunk_size)


def _workers_context(specs: list[FileSpec]) -> multiprocessing.context.BaseContext:
    """Workers forked from a clean server process (no Django, no DB connection) that has
    already imported the validators and the FHIR models the files need: importing those
    costs about 0.7 s of CPU, paid once in the server rather than once per worker."""
    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload(["joinedup.record.fields", *fhir_modules(specs)])
    return mp


def _ingest_files(
    folder: Path,
    specs: list[FileSpec],
    context: Context,
    pool: Executor | None,
    progress: Progress | None,
    chunk_size: int,
) -> list[FileReport]:
    """The files in order; as soon as one file's last chunk is handed to the workers, the
    next file is opened and its first chunk handed to them too, so the workers do not
    wait while the main process writes a file's last chunk and reads the next file."""
    runs = [_FileRun(folder, spec, context, pool, chunk_size) for spec in specs]
    if runs:
        runs[0].open()
    return [
        run.finish(progress, runs[i + 1].open if i + 1 < len(runs) else None)
        for i, run in enumerate(runs)
    ]


class _FileRun:
    """One file's ingestion: ``open`` reads it, finds or records its delivery and starts
    validating its first chunk; ``finish`` commits chunk after chunk (each with the
    resume point), calling ``then`` once nothing of this file is left to validate."""

    def __init__(
        self,
        folder: Path,
        spec: FileSpec,
        context: Context,
        pool: Executor | None,
        chunk_size: int,
    ) -> None:
        self.folder = folder
        self.spec = spec
        self.context = context
        self.pool = pool
        self.chunk_size = chunk_size
        self.failure: Exception | None = None
        self.delivery: Delivery | None = None
        self.created = False
        self.lines: list[_Line] = []
        self.header: list[str] | None = None
        self.start = 0
        self.seen: dict[str, int] = {}
        self.pending: Callable[[], list[dict[str, Any] | RowError]] = list

    def open(self) -> None:
        try:
            self._open()
        except Exception as error:  # noqa: BLE001 - raised in turn, by finish
            self.failure = error

    def _open(self) -> None:
        spec = self.spec
        data = (self.folder / spec.path).read_bytes()
        self.delivery, self.created = Delivery.objects.get_or_create(
            feed=spec.feed,
            path=spec.path,
            sha256=hashlib.sha256(data).hexdigest(),
            defaults={
                "size": len(data),
                "received_at": timezone.now(),
                "status": DeliveryStatus.RUNNING,
            },
        )
        if self.delivery.status == DeliveryStatus.COMPLETE:
            return
        lines = _lines(data)
        if spec.format == "csv":
            if not lines or lines[0].text is None:
                raise RowError("header", f"{spec.path} has no readable header")
            self.header = csv_header(lines[0].text)
            lines = lines[1:]
        self.lines = lines
        self.start = self.delivery.next_line
        self.seen = _ids_before(spec, lines[: self.start], self.header, self.context)
        self.pending = self._validate(self.start)

    def _validate(self, offset: int) -> Callable[[], list[dict[str, Any] | RowError]]:
        chunk = self.lines[offset : offset + self.chunk_size]
        return _validate(self.spec, chunk, self.header, self.context, self.pool)

    def finish(self, progress: Progress | None, then: Callable[[], None] | None) -> FileReport:
        if self.failure is not None:
            raise self.failure
        delivery, spec = self.delivery, self.spec
        assert delivery is not None
        if delivery.status == DeliveryStatus.COMPLETE:
            if then:
                then()
            return _report(delivery, "already ingested")
        # Read now, not at open: the feed's identity file commits before its fact files.
        identities = _identity_ids(spec.feed)
        total = len(self.lines)
        if self.start + self.chunk_size >= total and then:
            then()
        # While one chunk commits, the workers are already validating the next.
        for offset in range(self.start, total, self.chunk_size):
            chunk = self.lines[offset : offset + self.chunk_size]
            results = self.pending()
            after = offset + self.chunk_size
            if after < total:
                self.pending = self._validate(after)
                if after + self.chunk_size >= total and then:
                    then()
            _commit(delivery, spec, chunk, results, self.seen, identities, offset + len(chunk))
            if progress:
                progress(f"{spec.feed}: {spec.path}", offset + len(chunk), total)
        self.lines = []
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
        return _report(delivery, "ingested" if self.created else "resumed")


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
                "person",
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
    given = {f.name for f in spec.fields}
    plan = [(name, name in given, _blank(name)) for name in _IDENTITY_ORDER]
    upsert_values(
        SourceIdentity,
        [*_IDENTITY_FIXED, *_IDENTITY_ORDER],
        [
            [
                spec.feed,
                row["id"],
                delivery.pk,
                now,
                None,
                LinkMethod.UNLINKED,
                None,
                [],
                *[
                    row[name] if has and row[name] is not None else blank
                    for name, has, blank in plan
                ],
            ]
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
            "id",
        )


_IDENTITY_FIXED = [
    "source",
    "source_id",
    "delivery_id",
    "received_at",
    "person_id",
    "link_method",
    "link_probability",
    "link_explanation",
]
_IDENTITY_ORDER = sorted(IDENTITY_FIELDS)
_FACT_FIXED = [
    "identity_id",
    "source",
    "record_id",
    "kind",
    "code_system",
    "detail",
    "delivery_id",
    "received_at",
]
_FACT_ORDER = sorted(FACT_COLUMNS)


def _blank(name: str) -> Any:
    if name in {"date_of_birth", "date_of_death"}:
        return None
    return "unknown" if name == "sex" else ""


def _save_facts(
    spec: FileSpec,
    kind: str,
    rows: list[dict[str, Any]],
    fields: tuple[FieldSpec, ...],
    delivery: Delivery,
    now: datetime,
    identities: dict[str, int],
    person: str,
) -> None:
    """Facts as rows of values: the fact columns the feed gives (a blank where it gives
    none), and every other field of the feed in the fact's detail."""
    given = {f.name for f in fields}
    plan = [(name, name in given, _fact_blank(name)) for name in _FACT_ORDER]
    in_detail = [f.name for f in fields if f.name not in FACT_COLUMNS]
    code = _FACT_ORDER.index("code")
    out = []
    for row in rows:
        columns = [
            row[name] if has and row[name] is not None else blank for name, has, blank in plan
        ]
        detail = {name: _plain(row[name]) for name in in_detail if row[name] is not None}
        out.append(
            [
                identities[row[person]],
                spec.feed,
                row["id"],
                kind,
                spec.code_system if columns[code] else "",
                detail,
                delivery.pk,
                now,
                *columns,
            ]
        )
    upsert_values(
        Fact,
        [*_FACT_FIXED, *_FACT_ORDER],
        out,
        unique=["source", "kind", "record_id"],
        update=_FACT_UPDATES,
    )


def _fact_blank(name: str) -> Any:
    return None if name in {"occurred_at", "ended_at", "value"} else ""


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
