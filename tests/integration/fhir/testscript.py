"""A small runner for FHIR TestScript resources, against a live server over HTTP.

It runs each script's setup, tests and teardown in order, with the operations and
assertions the reference scripts use. A script passes when every assertion that is not
``warningOnly`` holds; an assertion this runner cannot evaluate (XPath, FHIRPath,
fixtures it was not given) fails the script with the reason, never passes it.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_RESPONSE_CODES = {
    "okay": 200,
    "created": 201,
    "noContent": 204,
    "notModified": 304,
    "bad": 400,
    "forbidden": 403,
    "notFound": 404,
    "methodNotAllowed": 405,
    "conflict": 409,
    "gone": 410,
    "preconditionFailed": 412,
    "unprocessable": 422,
}
_MIME = {"json": "application/fhir+json", "xml": "application/fhir+xml"}


@dataclass
class Outcome:
    name: str
    passed: bool
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Response:
    status_code: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def http(method: str, url: str, headers: dict[str, str], body: str | None) -> Response:
    """One request with the standard library (redirects not followed, errors as responses)."""
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback
            return Response(reply.status, dict(reply.headers.items()), reply.read().decode())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers.items()), error.read().decode())


@dataclass
class _Last:
    response: Response | None = None
    request_url: str = ""
    request_headers: dict[str, str] = field(default_factory=dict)


class Runner:
    def __init__(self, base: str, token: str, fixtures: dict[str, Any] | None = None) -> None:
        self.base = base.rstrip("/")
        self.token = token
        self.fixtures = fixtures or {}

    def run(self, path: Path) -> Outcome:
        script = json.loads(path.read_text())
        outcome = Outcome(path.name, passed=True)
        variables = {v["name"]: v.get("defaultValue") for v in script.get("variable", [])}
        last = _Last()
        sections = [script.get("setup", {}).get("action", [])]
        sections += [t.get("action", []) for t in script.get("test", [])]
        sections.append(script.get("teardown", {}).get("action", []))
        for actions in sections:
            for action in actions:
                if "operation" in action:
                    problem = self._operate(action["operation"], variables, last)
                    if problem:
                        outcome.failures.append(problem)
                        outcome.passed = False
                        return outcome
                elif "assert" in action:
                    self._check(action["assert"], last, outcome)
        return outcome

    def _operate(self, op: dict[str, Any], variables: dict[str, Any], last: _Last) -> str | None:
        code = op["type"]["code"]
        if op.get("destination", 1) != 1:
            return "needs a second destination server"
        if op.get("sourceId") or op.get("targetId"):
            fixture = op.get("sourceId") or op.get("targetId")
            if fixture not in self.fixtures:
                return f"needs fixture {fixture}, which the reference set does not ship"
        params = _substitute(op.get("params", ""), variables)
        if params is None or (op.get("url") and "${" in op["url"]):
            return "needs a variable with no default value"
        resource = op.get("resource", "")
        url = op.get("url") or f"{self.base}/{resource}{params}".replace(
            f"{self.base}/?", f"{self.base}?"
        )
        if code == "capabilities":
            url = f"{self.base}/metadata"
        if code == "history":
            where = params if params.startswith("/") else ""
            query = "" if where else params
            url = f"{self.base}/{resource}{where}/_history{query}"
        headers = {
            "Accept": _MIME.get(op.get("accept", "json"), "application/fhir+json"),
            "Authorization": f"Bearer {self.token}",
        }
        for header in op.get("requestHeader", []):
            headers[header["field"]] = header["value"]
        method = {"create": "POST", "update": "PUT", "delete": "DELETE"}.get(code, "GET")
        body = None
        if method in {"POST", "PUT"}:
            body = json.dumps(self.fixtures.get(op.get("sourceId", ""), {}))
            headers["Content-Type"] = _MIME.get(
                op.get("contentType", "json"), "application/fhir+json"
            )
        last.response = http(method, url, headers, body)
        last.request_url, last.request_headers = url, headers
        return None

    def _check(self, spec: dict[str, Any], last: _Last, outcome: Outcome) -> None:
        problem = _evaluate(spec, last)
        if problem is None:
            return
        label = spec.get("label") or spec.get("description", "assertion")
        if spec.get("warningOnly"):
            outcome.warnings.append(f"{label}: {problem}")
        else:
            outcome.failures.append(f"{label}: {problem}")
            outcome.passed = False


def _substitute(text: str, variables: dict[str, Any]) -> str | None:
    for name, value in variables.items():
        if f"${{{name}}}" in text:
            if value is None:
                return None
            text = text.replace(f"${{{name}}}", str(value))
    return None if "${" in text else text


def _compare(operator: str, actual: str, expected: str) -> bool:  # noqa: PLR0911 - one answer per operator
    match operator:
        case "equals":
            return actual == expected
        case "notEquals":
            return actual != expected
        case "in":
            return actual in expected.split(",")
        case "notIn":
            return actual not in expected.split(",")
        case "contains":
            return expected in actual
        case "notContains":
            return expected not in actual
        case "matchesRegex":
            return re.search(expected, actual) is not None
        case "notEmpty":
            return bool(actual)
        case "empty":
            return not actual
    raise ValueError(operator)


def _evaluate(spec: dict[str, Any], last: _Last) -> str | None:  # noqa: PLR0911, PLR0912
    """None when the assertion holds, else why not."""
    response = last.response
    if response is None:
        return "no request was made"
    operator = spec.get("operator", "equals")
    if spec.get("direction") == "request":
        if "requestURL" in spec:
            return None if _compare(operator, last.request_url, spec["requestURL"]) else "URL"
        if "headerField" in spec:
            value = last.request_headers.get(spec["headerField"], "")
            return None if _compare(operator, value, spec.get("value", "")) else "request header"
    if "responseCode" in spec:
        ok = _compare(operator, str(response.status_code), spec["responseCode"])
        return None if ok else f"status {response.status_code}"
    if "response" in spec:
        wanted = _RESPONSE_CODES[spec["response"]]
        return None if response.status_code == wanted else f"status {response.status_code}"
    if "contentType" in spec:
        kind = response.headers.get("Content-Type", "")
        wanted = spec["contentType"]
        ok = _compare("contains" if operator == "equals" else operator, kind, wanted)
        return None if ok else f"Content-Type {kind}"
    if "headerField" in spec:
        value = response.headers.get(spec["headerField"], "")
        ok = _compare(operator, value, spec.get("value", ""))
        return None if ok else f"header {spec['headerField']} is {value!r}"
    if "responseBody" in spec:
        ok = _compare(operator, response.text, spec["responseBody"])
        return None if ok else "body does not match"
    if "resource" in spec:
        try:
            kind = response.json().get("resourceType")
        except ValueError:
            return "the body is not JSON"
        return None if kind == spec["resource"] else f"resourceType {kind}"
    if "navigationLinks" in spec:
        links = {link.get("relation") for link in response.json().get("link", [])}
        return None if "self" in links else "no self link"
    if "validateProfileId" in spec:
        from fhir.resources.R4B import get_fhir_model_class

        body = response.json()
        try:
            get_fhir_model_class(body["resourceType"]).model_validate(body)
        except Exception as exc:  # noqa: BLE001 - any validation failure is the finding
            return f"not valid FHIR R4: {exc}"[:200]
        return None
    if "path" in spec or "expression" in spec or "minimumId" in spec:
        return "uses XPath, FHIRPath or minimum fixtures, which this runner does not evaluate"
    return "an assertion kind this runner does not know"
