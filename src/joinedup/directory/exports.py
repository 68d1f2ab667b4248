"""Our directory as an Open Referral UK 3.0 feed: every service, fully nested.

The file is a JSON list of the same objects ``/openreferral/services/{id}`` serves, so
any ORUK consumer (and our own importer) reads it back as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction
from joinedup.directory import oruk, selectors
from joinedup.directory.models import Service
from joinedup.errors import InvalidInput


def directory_feed() -> list[oruk.Json]:
    out = []
    for service_id in Service.objects.order_by("name", "id").values_list("id", flat=True):
        found = selectors.service_full(service_id)
        out.append(oruk.service_full_json(found, oruk.attributes_for(found)))
    return out


def directory_export(*, path: Path) -> int:
    """Write the feed to ``path`` (whole or not at all) and record the export."""
    if not path.parent.is_dir():
        raise InvalidInput("the folder to write into does not exist", where=str(path.parent))
    feed = directory_feed()
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(feed, ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(path)
    audit_record(
        actor=None,
        action=AuditAction.EXPORT,
        resource="directory.export",
        reason=f"{len(feed):,} services",
    )
    return len(feed)
