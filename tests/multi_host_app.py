"""The web app as one of several hosts serves it, for gunicorn in tests/test_multi_host.py.

`gunicorn "tests.multi_host_app:app()"` builds it from MULTI_HOST_DB (the shared PostgreSQL
database) and MULTI_HOST_SECRET (the key every host signs sessions with), on a frozen clock in
the worked example's open round.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask

NOW = datetime(2022, 1, 20, 10, 0, tzinfo=UTC)  # tiny_grants' round is open (4 Jan to 21 Feb)


def app() -> Flask:
    """The app on the shared database, CSRF on as in production, over plain http."""
    from engine.web import create_app

    return create_app(
        {
            "DATABASE": os.environ["MULTI_HOST_DB"],
            "SECRET_KEY": os.environ["MULTI_HOST_SECRET"],
            "CLOCK": lambda: NOW,
            "SESSION_COOKIE_SECURE": False,  # plain http on 127.0.0.1
            "BASE_URL": "http://127.0.0.1",
        }
    )
