"""Static files with versioned links: a link a template makes carries `?v=` and a short hash of
the file's bytes, so a deploy that changes a file changes its address and no browser runs an old
editor.js against a new page; a versioned address is then kept a year, an unversioned one briefly.

Every `url_for` of an endpoint registered here gains the version (`url_defaults`), so templates
and `markup.page_chrome` need no helper. Each file is read and hashed once per app (a deploy
starts new processes); a file that is not there gets no version, and its link stays as it was.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request, send_from_directory
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from engine.web import headers

YEAR = 365 * 24 * 60 * 60
FOLDERS = "commission.static_folders"  # endpoint -> the folder its files are served from
VERSIONS = "commission.static_versions"  # (folder, filename) -> its version (None: not there)
# a module that imports another by a fixed address: its link also carries that file's version,
# which the module adds to the address it imports (static/init.js imports govuk-frontend's)
IMPORTS = {("app_static", "init.js"): ("govuk", "govuk_static", "govuk-frontend.min.js")}


def register(app: Flask, endpoint: str, folder: Path) -> None:
    """Say which folder an endpoint serves, so every link `url_for` makes to it is versioned."""
    app.extensions.setdefault(FOLDERS, {})[endpoint] = folder


def init_app(app: Flask) -> None:
    """Version the links to every registered endpoint's files."""
    folders: dict[str, Path] = app.extensions.setdefault(FOLDERS, {})

    @app.url_defaults
    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        folder = folders.get(endpoint)
        if folder is None or "v" in values or "filename" not in values:
            return
        version = version_of(folder, values["filename"])
        if version:
            values["v"] = version
        imported = IMPORTS.get((endpoint, values["filename"]))
        if imported and imported[1] in folders:
            other = version_of(folders[imported[1]], imported[2])
            if other:
                values.setdefault(imported[0], other)


def version_of(folder: Path, filename: str) -> str | None:
    """A short hash of the file's bytes, worked out once per app (None: no such file)."""
    versions: dict[tuple[Path, str], str | None] = current_app.extensions.setdefault(VERSIONS, {})
    key = (folder, filename)
    if key not in versions:
        if len(versions) > 1_000:  # addresses asked for are any text: a bound on memory
            versions.clear()
        path = safe_join(str(folder), filename)
        try:
            versions[key] = (
                hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12] if path else None
            )
        except OSError:  # not there (editor.js before `make setup`), or a folder
            versions[key] = None
    return versions[key]


def send(folder: Path, filename: str, max_age: int) -> Response:
    """A static file: kept a year (immutable) when asked for by its current version, kept
    `max_age` seconds when asked for with no version, and not kept for any other version."""
    asked = request.args.get("v")
    if asked is None:
        headers.cacheable()
        return send_from_directory(folder, filename, max_age=max_age)
    if asked != version_of(folder, filename):
        # a page from a host already running a newer deploy, or an old page: these bytes are not
        # that version, so no browser may keep them under its address
        return send_from_directory(folder, filename)
    headers.cacheable()
    response = send_from_directory(folder, filename, max_age=YEAR)
    response.cache_control.immutable = True
    return response
