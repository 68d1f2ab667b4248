"""Rate limits for the forms anyone may post without signing in.

The front door's referral form, the citizens' register sign-up and its "send me a link"
form are open to the public, so a script could fill the referral queues with drafts or
flood someone's inbox. Each use is counted per client in a fixed window (an hour by
default) in the database, so the count is shared by every server process; past the limit
the form answers 429 with how long to wait. Clients are keyed by an HMAC of their
address (and, for the link form, of the email address too): the table never holds an
address.

Behind a reverse proxy (``JOINEDUP_BEHIND_PROXY``) the client is the last address in
``X-Forwarded-For`` — the one the proxy itself added — since anything before it is what
the client chose to send.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from joinedup.core.models import RateWindow
from joinedup.errors import TooManyRequests


class RateLimited(TooManyRequests):
    code = "rate-limited"
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    """At most ``uses`` in any fixed window of ``seconds``."""

    uses: int
    seconds: int


def limits() -> dict[str, Limit]:
    """The public forms' limits, from settings (``JOINEDUP_PUBLIC_FORM_POSTS_PER_HOUR``)."""
    per_hour = settings.PUBLIC_FORM_POSTS_PER_HOUR
    return {
        "front-door": Limit(per_hour, 3600),
        "citizens-join": Limit(per_hour, 3600),
        "citizens-link": Limit(per_hour, 3600),
        # However many addresses ask, one inbox gets at most a few links an hour.
        "citizens-link-email": Limit(3, 3600),
    }


def client_address(request: HttpRequest) -> str:
    if settings.BEHIND_PROXY:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


def _keyed(value: str) -> str:
    secret = settings.SECRET_KEY.encode()
    return hmac.new(secret, value.strip().lower().encode(), hashlib.sha256).hexdigest()


def _window_start(now: datetime, seconds: int) -> datetime:
    epoch = math.floor(now.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(epoch, tz=now.tzinfo)


def hit(scope: str, value: str, *, now: datetime | None = None) -> None:
    """Count one use of ``scope`` by ``value`` (an address, an email); refuse past the limit.

    Raises ``RateLimited`` (429) saying how many minutes to wait. A refused use is
    counted too, so hammering does not shorten the wait.
    """
    limit = limits()[scope]
    now = now or timezone.now()
    start = _window_start(now, limit.seconds)
    client = _keyed(value)
    for attempt in range(2):
        try:
            with transaction.atomic():
                row, created = RateWindow.objects.get_or_create(
                    scope=scope, client=client, window_start=start, defaults={"count": 1}
                )
                if not created:
                    RateWindow.objects.filter(pk=row.pk).update(count=F("count") + 1)
                    row.refresh_from_db(fields=["count"])
            break
        except IntegrityError:  # another process created the window first: count again
            if attempt:
                raise
    if created:
        RateWindow.objects.filter(scope=scope, window_start__lt=start - timedelta(days=1)).delete()
    if row.count > limit.uses:
        wait = math.ceil((start + timedelta(seconds=limit.seconds) - now).total_seconds())
        minutes = max(1, math.ceil(wait / 60))
        raise RateLimited(
            f"this form has been sent too many times from here; try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}",
            retry_after=wait,
        )


def hit_request(scope: str, request: HttpRequest) -> None:
    """``hit`` for the client that sent ``request``."""
    hit(scope, client_address(request))
