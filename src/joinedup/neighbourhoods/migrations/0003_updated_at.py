"""When a referral, caseload entry or task last changed: FHIR versions and lastUpdated
follow it. Existing rows start from the moment they were last known to change."""

from datetime import UTC, datetime, time
from typing import Any

from django.db import migrations, models
from django.db.models import F
from django.utils import timezone


def _backfill(apps: Any, schema_editor: Any) -> None:  # noqa: ARG001 - the RunPython interface
    for name in ("Referral", "Task"):
        apps.get_model("neighbourhoods", name).objects.update(updated_at=F("created_at"))
    entries = apps.get_model("neighbourhoods", "CaseloadEntry")
    changed = []
    for entry in entries.objects.only("id", "started_on", "risk_updated_at").iterator():
        entry.updated_at = entry.risk_updated_at or datetime.combine(
            entry.started_on, time.min, tzinfo=UTC
        )
        changed.append(entry)
    entries.objects.bulk_update(changed, ["updated_at"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("neighbourhoods", "0002_caseload_end_reason"),
    ]

    operations = [
        migrations.AddField(
            model_name=model,
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=timezone.now),
            preserve_default=False,
        )
        for model in ("referral", "caseloadentry", "task")
    ] + [migrations.RunPython(_backfill, migrations.RunPython.noop)]
