"""What was delivered and what was kept back: for the CLI and the quarantine page."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db.models import Count

from joinedup.record.ingest import FileReport
from joinedup.record.models import Delivery, QuarantinedRow


def summary_line(files: Sequence[FileReport]) -> str:
    rows = sum(f.rows_in for f in files)
    accepted = sum(f.accepted for f in files)
    quarantined = sum(f.quarantined for f in files)
    skipped = sum(f.status == "already ingested" for f in files)
    return (
        f"joinedup: ingested {len(files) - skipped} files ({skipped} already ingested): "
        f"{rows:,} rows in, {accepted:,} accepted, {quarantined:,} quarantined"
    )


def delivery_rows() -> list[dict[str, object]]:
    """Every delivery, oldest first, with its counts and its commonest rejection reasons."""
    out = []
    for d in Delivery.objects.order_by("received_at", "id"):
        reasons = (
            QuarantinedRow.objects.filter(delivery=d)
            .values("field")
            .annotate(rows=Count("id"))
            .order_by("-rows", "field")[:5]
        )
        out.append(
            {
                "feed": d.feed,
                "file": d.path,
                "sha256": d.sha256,
                "status": d.status,
                "received_at": d.received_at.isoformat(),
                "rows_in": d.rows_in,
                "accepted": d.accepted,
                "quarantined": d.quarantined,
                "rejected_fields": {r["field"]: r["rows"] for r in reasons},
            }
        )
    return out


def delivery_report(*, as_json: bool) -> str:
    rows = delivery_rows()
    if as_json:
        return json.dumps(rows, indent=2)
    lines = [f"{'file':<45} {'rows in':>9} {'accepted':>9} {'quarantined':>11}  status"]
    for r in rows:
        name = f"{r['feed']}: {r['file']}"
        counts = f"{r['rows_in']:>9,} {r['accepted']:>9,} {r['quarantined']:>11,}"
        lines.append(f"{name:<45} {counts}  {r['status']}")
    return "\n".join(lines)
