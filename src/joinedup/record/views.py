"""The deliveries page: what each feed sent, what was accepted, and why rows were kept back."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from joinedup.core.access import permission_required
from joinedup.core.roles import Permission
from joinedup.errors import NotFound
from joinedup.record.models import Delivery, QuarantinedRow
from joinedup.record.reports import delivery_rows


@require_GET
@permission_required(Permission.VIEW_DELIVERIES)
def deliveries(request: HttpRequest) -> HttpResponse:
    rows = delivery_rows()
    ids = dict(Delivery.objects.values_list("sha256", "id"))
    for row in rows:
        row["id"] = ids.get(str(row["sha256"]))
    return render(request, "record/deliveries.jinja", {"deliveries": rows})


@require_GET
@permission_required(Permission.VIEW_DELIVERIES)
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = Delivery.objects.filter(id=delivery_id).first()
    if delivery is None:
        raise NotFound("no such delivery")
    # Reasons, fields and line numbers only: the raw lines hold person data and stay in the
    # database for the source's data team, not on this page.
    rejected = QuarantinedRow.objects.filter(delivery=delivery).only("line", "field", "reason")
    page = Paginator(rejected.order_by("line"), 100).get_page(request.GET.get("page"))
    return render(request, "record/delivery.jinja", {"delivery": delivery, "page": page})
