"""Every published version of a programme, who published it and when, each downloadable as the
files it was built from (a zip, laid out as `programmes/` and `forms/`)."""

from __future__ import annotations

import io
import zipfile

from flask import abort, render_template, send_file
from werkzeug.wrappers import Response

from engine.web.access import allow
from engine.web.services import engine, store
from engine.web.studio import bp, when


@bp.get("/<pid>/versions")
@allow("commissioner")
def versions(pid: str) -> str:
    """The programme's versions, newest first, with how many cases each has."""
    programme = engine().programme(pid)
    rows = list(reversed(store().versions(pid)))
    for number, row in zip(range(len(rows), 0, -1), rows, strict=True):
        row["number"] = number
        row["published"] = when(row["published_at"], pid)
        row["files"] = store().version_files(pid, row["version"]) is not None
    drafts = store().drafts([pid])
    return render_template("studio/versions.html", programme=programme, versions=rows, drafts=drafts)  # fmt: skip


@bp.get("/<pid>/versions/<version>.zip")
@allow("commissioner")
def download(pid: str, version: str) -> Response:
    """One version's files as a zip."""
    files = store().version_files(pid, version)
    if files is None:
        abort(404)
    number = next((i for i, v in enumerate(store().versions(pid), 1) if v["version"] == version), 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in sorted(files.items()):
            z.writestr(name, text)
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True,
                     download_name=f"{pid}-version-{number}.zip")  # fmt: skip
