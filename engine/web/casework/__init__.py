"""Caseworkers: referrals and the records of the people their organisation supports.

A caseworker sees only their own organisation's cases (the engine answers NotFound, a 404, for any
other), starts referrals, fills in the workflow's forms, takes its actions, records contacts,
reviews and the like, and sees who is due a contact or a review this week.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("casework", __name__, url_prefix="/casework")

from engine.web.casework import cases, due  # noqa: E402, F401 - the views register themselves on bp
