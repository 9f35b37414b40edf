"""Commissioners: a dashboard per programme, cases and decisions, previews, exports, workflows."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from engine.web import static_files
from engine.web.access import allow

bp = Blueprint("commission", __name__, url_prefix="/commission")


def mermaid_dir(app: Flask) -> Path:
    """Where Mermaid's browser build is (`npm ci` puts it beside govuk-frontend)."""
    configured = os.environ.get("COMMISSION_MERMAID")
    if configured:
        return Path(configured)
    # ASSETS is node_modules/govuk-frontend/dist/govuk; Mermaid is node_modules/mermaid/dist
    return Path(app.config["ASSETS"]).parents[2] / "mermaid" / "dist"


@allow("public")
def mermaid_static(filename: str) -> Response:
    """Mermaid's one-file browser build, which draws the workflow diagrams."""
    if filename != "mermaid.min.js":
        abort(404)
    return static_files.send(mermaid_dir(current_app), filename, max_age=86400)


@bp.record_once
def setup(state: BlueprintSetupState) -> None:
    """Mermaid's script at /static/mermaid/, its links versioned as the app's own files are."""
    static_files.register(state.app, "mermaid_static", mermaid_dir(state.app))
    state.app.add_url_rule(
        "/static/mermaid/<path:filename>", "mermaid_static", mermaid_static, methods=["GET"]
    )


from engine.web.commission import bulk, cases, dates, moving, panel, people, programmes, reports  # noqa: E402, F401 - the views register themselves on bp
