"""The access boundary: role permissions and relationship-scoped querysets.

Person-level data is read only through a queryset that has been scoped, either
to a user (``visible_to(user)``: the user's legitimate relationships and live
break-glass grants) or, for pipelines that are not acting for a user, to a named
system purpose (``for_system("...")``). Evaluating an unscoped queryset raises
``UnscopedQuery``, so a view that forgets the boundary fails loudly in tests
instead of quietly showing records. The base manager Django uses internally
(saves, foreign-key access from an already-scoped row) is unaffected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.db import models

from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, NotSignedIn

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from joinedup.core.models import User

M = TypeVar("M", bound=models.Model)


class UnscopedQuery(RuntimeError):
    """A person-level queryset was evaluated without an access scope: a programming error."""


class ScopedQuerySet(models.QuerySet[M]):
    """A queryset that refuses to run until it knows on whose behalf it reads."""

    _access_scope: str | None = None

    # QuerySet._clone and _chain are Django's private API (absent from the stubs); every
    # queryset method copies through _clone, which is how the scope survives .filter() etc.
    def _clone(self) -> Self:
        clone: Self = super()._clone()  # type: ignore[misc]
        clone._access_scope = self._access_scope
        return clone

    def _scoped(self, scope: str) -> Self:
        clone: Self = self._chain()  # type: ignore[attr-defined]
        clone._access_scope = scope
        return clone

    def for_system(self, purpose: str) -> Self:
        """Scope for work no user is doing directly (ingest, linkage, backup); say which."""
        if not purpose.strip():
            raise ValueError("a system scope must name its purpose")
        return self._scoped(f"system:{purpose}")

    @property
    def access_scope(self) -> str | None:
        return self._access_scope

    def _require_scope(self) -> None:
        if self._access_scope is None:
            raise UnscopedQuery(
                f"{self.model.__name__} rows were read without an access scope: "
                "use .visible_to(user) or .for_system(purpose)"
            )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Iterator[M]:
        self._require_scope()
        return super().iterator(chunk_size=chunk_size)

    def count(self) -> int:
        self._require_scope()
        return super().count()

    def exists(self) -> bool:
        self._require_scope()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._require_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._require_scope()
        return super().delete()


def require_user(request: HttpRequest) -> User:
    """The signed-in user, or NotSignedIn."""
    user = request.user
    if not user.is_authenticated:
        raise NotSignedIn("sign in to continue")
    return user


def require_permission(user: User, permission: Permission) -> None:
    if not user.has_role_permission(permission):
        raise AccessDenied(f"your role does not allow this ({permission.value})")


V = TypeVar("V", bound=Callable[..., "HttpResponse"])


def permission_required(permission: Permission) -> Callable[[V], V]:
    """View decorator: signed in, and the user's role carries ``permission``."""

    def decorate(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require_permission(require_user(request), permission)
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def person_data(view: V) -> V:
    """Mark a view as serving person-level data, so the boundary test visits it."""
    view.serves_person_data = True  # type: ignore[attr-defined]
    return view
