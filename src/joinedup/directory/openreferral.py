"""The Open Referral UK 3.0 API: open read access, CORS, ORUK's JSON and page envelope.

Anyone may read the directory, from any web origin: no sign-in, no cookies needed, and
every response (errors too) carries the CORS headers, so a neighbouring borough's site
or a voluntary-sector platform can call it from the browser. Only GET, HEAD and the
CORS preflight OPTIONS are served. The shapes come from ``joinedup.directory.oruk`` and
are checked against ORUK's compiled JSON Schemas in the tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import time
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from joinedup.directory import oruk, selectors
from joinedup.directory.selectors import Filters
from joinedup.errors import InvalidInput, JoinedUpError, MethodNotAllowed, NotFound
from joinedup.web.errors import error_response

View = Callable[..., HttpResponse]
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type, X-Request-ID",
    "Access-Control-Expose-Headers": "X-Request-ID",
    "Access-Control-Max-Age": "86400",
    # Other sites may embed these responses; the platform's default is same-origin.
    "Cross-Origin-Resource-Policy": "cross-origin",
}


def open_read(view: View) -> View:
    """Serve GET/HEAD to anyone, answer the CORS preflight, and add CORS to every answer."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
            elif request.method not in ("GET", "HEAD"):
                raise MethodNotAllowed(
                    "the Open Referral API is read-only: use GET", where=request.method
                )
            else:
                response = view(request, *args, **kwargs)
        except JoinedUpError as exc:
            response = error_response(request, exc)
            if isinstance(exc, MethodNotAllowed):
                response["Allow"] = "GET, HEAD, OPTIONS"
        for key, value in CORS_HEADERS.items():
            response[key] = value
        return response

    return csrf_exempt(wrapped)


def _json(data: object) -> JsonResponse:
    return JsonResponse(data, safe=False, json_dumps_params={"ensure_ascii": False})


def _int(request: HttpRequest, key: str, default: int, low: int, high: int) -> int:
    text = request.GET.get(key, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"{key} must be a whole number", where=key) from None
    if not low <= value <= high:
        raise InvalidInput(f"{key} must be from {low} to {high}", where=key)
    return value


def _number(request: HttpRequest, key: str) -> float | None:
    text = request.GET.get(key, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{key} must be a number", where=key) from None


def _uuid(request: HttpRequest, key: str) -> uuid.UUID | None:
    text = request.GET.get(key, "").strip()
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidInput(f"{key} must be a UUID", where=key) from None


def _time(request: HttpRequest, key: str) -> time | None:
    text = request.GET.get(key, "").strip()
    if not text:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{key} must be a time, like 09:30", where=key) from None


def _path_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"there is no {what} with that id", where=value) from None


def _paging(request: HttpRequest) -> tuple[int, int]:
    page = _int(request, "page", 1, 1, 1_000_000)
    per_page = _int(request, "per_page", selectors.DEFAULT_PER_PAGE, 1, selectors.MAX_PER_PAGE)
    return page, per_page


def _filters(request: HttpRequest) -> Filters:
    return Filters(
        text=request.GET.get("search", "")[:200],
        taxonomy_term_id=_uuid(request, "taxonomy_term_id"),
        taxonomy_id=_uuid(request, "taxonomy_id"),
        minimum_age=_number(request, "minimum_age"),
        maximum_age=_number(request, "maximum_age"),
        day=selectors.day_code(request.GET.get("day", "")),
        start_time=_time(request, "start_time"),
        end_time=_time(request, "end_time"),
    )


@open_read
def root(request: HttpRequest) -> HttpResponse:  # noqa: ARG001
    return _json(oruk.root_json())


@open_read
def services(request: HttpRequest) -> HttpResponse:
    page, per_page = _paging(request)
    found = selectors.service_filter(selectors.services_listed(), _filters(request))
    total = found.count()
    start, end = selectors.page_slice(total, page, per_page)
    contents = [oruk.service_list_json(s) for s in found[start:end]]
    return _json(oruk.page_json(contents, total=total, page=page, per_page=per_page))


@open_read
def service(request: HttpRequest, service_id: str) -> HttpResponse:  # noqa: ARG001
    found = selectors.service_full(_path_id(service_id, "service"))
    attributes = oruk.attributes_for(found)
    return _json(oruk.service_full_json(found, attributes))


@open_read
def service_at_locations(request: HttpRequest) -> HttpResponse:
    page, per_page = _paging(request)
    filters = _filters(request)
    services_found = selectors.service_filter(selectors.services_listed(), filters)
    sals = selectors.service_at_locations_listed().filter(service__in=services_found)
    postcode = request.GET.get("postcode", "").strip()
    proximity = _number(request, "proximity")
    if proximity is not None and (proximity <= 0 or not postcode):
        raise InvalidInput("proximity is metres (above 0) from a postcode", where="proximity")
    if postcode:
        placed = selectors.within(sals, selectors.postcode_centroid(postcode), proximity)
        total = len(placed)
        start, end = selectors.page_slice(total, page, per_page)
        rows = selectors.rows_in_order(sals, [sal_id for sal_id, _ in placed[start:end]])
    else:
        total = sals.count()
        start, end = selectors.page_slice(total, page, per_page)
        rows = list(sals[start:end])
    contents = [oruk.service_at_location_list_json(sal) for sal in rows]
    return _json(oruk.page_json(contents, total=total, page=page, per_page=per_page))


@open_read
def service_at_location(request: HttpRequest, sal_id: str) -> HttpResponse:  # noqa: ARG001
    found = selectors.service_at_location_full(_path_id(sal_id, "service at a location"))
    attributes = oruk.attributes_for(found.service)
    return _json(oruk.service_at_location_full_json(found, attributes))


@open_read
def taxonomies(request: HttpRequest) -> HttpResponse:
    page, per_page = _paging(request)
    found = selectors.taxonomies_listed()
    total = found.count()
    start, end = selectors.page_slice(total, page, per_page)
    contents = [oruk.taxonomy_json(t) for t in found[start:end]]
    return _json(oruk.page_json(contents, total=total, page=page, per_page=per_page))


@open_read
def taxonomy(request: HttpRequest, taxonomy_id: str) -> HttpResponse:  # noqa: ARG001
    key = _path_id(taxonomy_id, "taxonomy")
    found = selectors.taxonomies_listed().filter(id=key).first()
    if found is None:
        raise NotFound("there is no taxonomy with that id", where=taxonomy_id)
    return _json(oruk.taxonomy_json(found, selectors.taxonomy_terms_of(found)))


@open_read
def taxonomy_terms(request: HttpRequest) -> HttpResponse:
    page, per_page = _paging(request)
    found = selectors.taxonomy_terms_listed()
    taxonomy_id = _uuid(request, "taxonomy_id")
    if taxonomy_id is not None:
        found = found.filter(taxonomy_id=taxonomy_id)
    total = found.count()
    start, end = selectors.page_slice(total, page, per_page)
    contents = [oruk.taxonomy_term_json(t) for t in found[start:end]]
    return _json(oruk.page_json(contents, total=total, page=page, per_page=per_page))


@open_read
def taxonomy_term(request: HttpRequest, term_id: str) -> HttpResponse:  # noqa: ARG001
    key = _path_id(term_id, "taxonomy term")
    found = selectors.taxonomy_terms_listed().filter(id=key).first()
    if found is None:
        raise NotFound("there is no taxonomy term with that id", where=term_id)
    return _json(oruk.taxonomy_term_json(found))
