"""The engine for each request: a small pool of `Engine`s, one database connection each.

SQLite connections are not shared between threads at once, so each request borrows an engine
and gives it back; each keeps its cache of programme versions, so pages stay fast.
"""

from __future__ import annotations

import queue
from datetime import datetime

from flask import Flask, current_app, g, url_for

from engine.runtime import Engine
from engine.store import Store


class EnginePool:
    """Engines on one database, lent one per request."""

    def __init__(self, db_path: str, clock: object | None) -> None:
        self.db_path = db_path
        self.clock = clock
        self._idle: queue.SimpleQueue[Engine] = queue.SimpleQueue()
        self._memory: Engine | None = None

    def take(self) -> Engine:
        """An idle engine, or a new one."""
        if self.db_path == ":memory:":  # tests: one connection, or there would be many databases
            if self._memory is None:
                self._memory = Engine(self.db_path, clock=self.clock)  # type: ignore[arg-type]
            return self._memory
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return Engine(self.db_path, clock=self.clock)  # type: ignore[arg-type]

    def give_back(self, engine: Engine) -> None:
        """Return an engine after its request."""
        if engine is not self._memory:
            self._idle.put(engine)


def init_app(app: Flask) -> None:
    """Create the pool, and the database's schema if the file is new."""
    db_path = str(app.config["DATABASE"])
    app.extensions["commission"] = EnginePool(db_path, app.config.get("CLOCK"))

    @app.teardown_appcontext
    def give_back(_exc: BaseException | None) -> None:
        engine = g.pop("engine", None)
        if engine is not None:
            current_app.extensions["commission"].give_back(engine)


def engine() -> Engine:
    """This request's engine."""
    if "engine" not in g:
        g.engine = current_app.extensions["commission"].take()
    return g.engine


def store() -> Store:
    """This request's store (accounts, uploads, the outbox)."""
    return engine().store


def external_url(endpoint: str, **values: object) -> str:
    """A link for an email: the configured BASE_URL and the route's path, never the request's Host.

    The Host header is whatever the sender typed, so a reset link built from it could send the
    token to an attacker's site.
    """
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def now() -> datetime:
    """The engine's clock (frozen in tests and rehearsals)."""
    return engine().now()
