"""The HTTP edge of the FHIR API: content negotiation, bearer tokens, ETags, and every
error as an OperationOutcome. The interactions themselves are in ``operations``.

Requests carry bearer tokens, never cookies, so these views are exempt from CSRF.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from joinedup.errors import InvalidInput, JoinedUpError, MethodNotAllowed
from joinedup.fhir import auth, bundles, capability, matching
from joinedup.fhir import operations as ops
from joinedup.fhir.errors import InvalidToken, NotAcceptable, UnsupportedMediaType
from joinedup.fhir.operations import Reply
from joinedup.fhir.providers import Context
from joinedup.web.errors import error_response

FHIR_JSON = "application/fhir+json; charset=utf-8"
_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}

View = Callable[..., HttpResponse]


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/R4").rstrip("/")


def respond(reply: Reply) -> HttpResponse:
    content = b"" if reply.body is None else json.dumps(reply.body, separators=(",", ":")).encode()
    response = HttpResponse(content, status=reply.status, content_type=FHIR_JSON)
    response["Cache-Control"] = "no-store"  # answers may hold a person's record
    for name, value in reply.headers.items():
        response[name] = value
    return response


def _negotiate(request: HttpRequest) -> None:
    wanted = request.GET.get("_format")
    if wanted is not None:
        if wanted not in _FORMATS:
            raise NotAcceptable("this server answers in FHIR JSON only", where="_format")
        return
    accept = request.headers.get("Accept", "")
    if not accept.strip():
        return
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if not any(t in _JSON_TYPES or t in {"*/*", "application/*"} for t in types):
        raise NotAcceptable("this server answers in application/fhir+json only", where="Accept")


def _body(request: HttpRequest) -> Any:
    kind = (request.content_type or "").lower()
    if kind not in _JSON_TYPES:
        raise UnsupportedMediaType(
            "send the resource as application/fhir+json", where="Content-Type"
        )
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid JSON", where="body") from None


def _context(request: HttpRequest) -> Context:
    grant = auth.grant_for(request.headers.get("Authorization", ""))
    return Context(grant=grant, base=base_url(request))


def _strict(request: HttpRequest) -> bool:
    prefer = request.headers.get("Prefer", "").replace(" ", "").lower()
    return "handling=lenient" not in prefer.split(",")


def fhir_endpoint(*methods: str, public: bool = False) -> Callable[[View], View]:
    """Method check, negotiation, the caller's token, and errors as OperationOutcomes."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise MethodNotAllowed(
                        f"use {' or '.join(methods)} here", where=request.method or ""
                    )
                _negotiate(request)
                if public:
                    return view(request, *args, **kwargs)
                return view(request, _context(request), *args, **kwargs)
            except JoinedUpError as exc:
                response = error_response(request, exc)
                if isinstance(exc, InvalidToken):
                    response["WWW-Authenticate"] = 'Bearer realm="joinedup", error="invalid_token"'
                if isinstance(exc, MethodNotAllowed):
                    response["Allow"] = ", ".join(methods)
                return response

        return wrapped

    return decorate


@fhir_endpoint("GET", public=True)
def metadata(request: HttpRequest) -> HttpResponse:
    return respond(Reply(200, capability.capability_statement(base_url(request))))


@fhir_endpoint("GET", public=True)
def smart_configuration(request: HttpRequest) -> HttpResponse:
    body = capability.smart_configuration(base_url(request))
    return HttpResponse(json.dumps(body), content_type="application/json")


@fhir_endpoint("POST")
def system(request: HttpRequest, ctx: Context) -> HttpResponse:
    """Batch and transaction Bundles, posted to the base."""
    return respond(bundles.process(ctx, _body(request)))


@fhir_endpoint("GET", "POST")
def type_level(request: HttpRequest, ctx: Context, resource_type: str) -> HttpResponse:
    if request.method == "POST":
        reply = ops.create(
            ctx,
            resource_type,
            _body(request),
            if_none_exist=request.headers.get("If-None-Exist"),
        )
        return respond(_prefer_return(request, reply))
    pairs = [(k, v) for k, values in request.GET.lists() for v in values]
    return respond(ops.search(ctx, resource_type, pairs, strict=_strict(request)))


@fhir_endpoint("POST")
def search_post(request: HttpRequest, ctx: Context, resource_type: str) -> HttpResponse:
    if request.content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType(
            "send _search parameters as application/x-www-form-urlencoded", where="Content-Type"
        )
    pairs = [(k, v) for k, values in request.GET.lists() for v in values]
    pairs += parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return respond(ops.search(ctx, resource_type, pairs, strict=_strict(request)))


@fhir_endpoint("GET", "PUT")
def instance(request: HttpRequest, ctx: Context, resource_type: str, rid: str) -> HttpResponse:
    if request.method == "PUT":
        reply = ops.update(
            ctx, resource_type, rid, _body(request), if_match=request.headers.get("If-Match")
        )
        return respond(_prefer_return(request, reply))
    return respond(ops.read(ctx, resource_type, rid))


@fhir_endpoint("GET")
def instance_history(
    request: HttpRequest, ctx: Context, resource_type: str, rid: str
) -> HttpResponse:
    return respond(ops.history(ctx, resource_type, rid))


@fhir_endpoint("GET")
def version_read(
    request: HttpRequest, ctx: Context, resource_type: str, rid: str, vid: str
) -> HttpResponse:
    if not vid.isdigit() or len(vid) > 9:
        raise InvalidInput("a version id is a whole number", where="vid")
    return respond(ops.vread(ctx, resource_type, rid, int(vid)))


@fhir_endpoint("GET")
def everything(request: HttpRequest, ctx: Context, rid: str) -> HttpResponse:
    return respond(ops.everything(ctx, rid))


@fhir_endpoint("POST")
def patient_match(request: HttpRequest, ctx: Context) -> HttpResponse:
    return respond(matching.match(ctx, _body(request)))


def _prefer_return(request: HttpRequest, reply: Reply) -> Reply:
    prefer = request.headers.get("Prefer", "").replace(" ", "").lower().split(",")
    if "return=minimal" in prefer:
        return Reply(reply.status, None, reply.headers)
    if "return=operationoutcome" in prefer:
        text = "created" if reply.status == 201 else "done"
        return Reply(reply.status, ops.outcome("information", "informational", text), reply.headers)
    return reply


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """OAuth2 token endpoint (RFC 6749 client credentials), answered in OAuth's JSON."""
    from joinedup.fhir import services

    def oauth_error(status: int, code: str, text: str) -> HttpResponse:
        body = {"error": code, "error_description": text}
        response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
        response["Cache-Control"] = "no-store"
        return response

    if request.method != "POST":
        response = oauth_error(405, "invalid_request", "use POST")
        response["Allow"] = "POST"
        return response
    form = dict(parse_qsl(request.body.decode("utf-8", errors="replace")))
    if form.get("grant_type") != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    basic = request.headers.get("Authorization", "")
    if basic.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return oauth_error(400, "invalid_request", "the Basic credentials are malformed")
    try:
        issued = services.client_token(
            client_id=client_id, secret=secret, scopes=form.get("scope", "")
        )
    except InvalidToken as exc:
        return oauth_error(401, "invalid_client", exc.detail)
    except JoinedUpError as exc:
        return oauth_error(400, "invalid_scope", exc.detail)
    body = {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scopes,
    }
    response = HttpResponse(json.dumps(body), content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response
