"""The Jinja2 environment: our templates first, then the NHS.UK frontend macros."""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static
from django.urls import reverse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader

from joinedup.core.nhs_number import format_for_display
from joinedup.web.navigation import navigation_for


def url(name: str, *args: Any, **kwargs: Any) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options: Any) -> Environment:
    loader = options.pop("loader")
    options["undefined"] = ChainableUndefined  # the NHS.UK macros rely on it
    options["loader"] = ChoiceLoader([loader, PackageLoader("nhsuk_frontend_jinja")])
    options.setdefault("autoescape", True)
    env = Environment(**options)  # noqa: S701 - autoescape is set just above
    env.globals.update({"url": url, "static": static, "navigation_for": navigation_for})
    env.filters["nhs_number"] = format_for_display
    return env
