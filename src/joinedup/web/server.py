"""Serve the WSGI application with gunicorn, configured in code rather than a file."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from joinedup.wsgi import application

        return application


def run(*, host: str, port: int, workers: int) -> None:
    """Block serving http://host:port/ until interrupted."""
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 60,
            "graceful_timeout": 10,
            "accesslog": None,  # joinedup logs its own redacted request lines
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "joinedup",
        }
    ).run()
