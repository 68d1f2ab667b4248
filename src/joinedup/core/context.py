"""Who is acting, through which channel, in which request: set once at the edge.

The web middleware sets these for each request, the CLI for each command, so the
audit trail and the logs can say how an action arrived without every function
passing it along.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
channel: contextvars.ContextVar[str] = contextvars.ContextVar("channel", default="system")


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def acting(*, via: str, request: str | None = None) -> Iterator[str]:
    """Run a block as one request through channel ``via``; yields its request id."""
    rid = request or new_request_id()
    tokens = (request_id.set(rid), channel.set(via))
    try:
        yield rid
    finally:
        request_id.reset(tokens[0])
        channel.reset(tokens[1])
