"""Static files are never served stale after a deploy: every link a page makes to one carries a
version, a short hash of the file's bytes, so changed bytes make a new address; a file asked for
at its version is kept a year, unchanged, and one asked for with no version only briefly."""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from .conftest import LIVERPOOL, Clock, make_app
from .panel import person

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "engine" / "web" / "static"
YEAR = "max-age=31536000"


def version(path: Path) -> str:
    """The version a link to this file should carry: its bytes' hash, shortened."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_links(page: str) -> dict[str, str]:
    """Each `/static/` address the page links (stylesheets, scripts, icon): path -> query."""
    found = re.findall(r'(?:href|src)="(/static/[^"]*)"', page)
    return {html.unescape(u).split("?")[0]: html.unescape(u).partition("?")[2] for u in found}


def test_every_static_link_on_a_page_carries_its_files_version(app: Flask) -> None:
    links = static_links(app.test_client().get("/").data.decode())
    dist = Path(app.config["ASSETS"])
    assert links == {
        "/static/app/favicon.svg": f"v={version(OWN / 'favicon.svg')}",
        "/static/govuk/govuk-frontend.min.css": f"v={version(dist / 'govuk-frontend.min.css')}",
        "/static/app/app.css": f"v={version(OWN / 'app.css')}",
        # the script that imports govuk-frontend's names the version it must import
        "/static/app/init.js": f"v={version(OWN / 'init.js')}&govuk={version(dist / 'govuk-frontend.min.js')}",
    }  # fmt: skip


def test_the_editor_and_diagram_scripts_are_linked_at_their_version(app: Flask) -> None:
    cleo = person(app, "cleo@council.example", "commissioner")
    editor = cleo.get(cleo.post(f"/studio/{LIVERPOOL}/drafts").headers["Location"]).data.decode()
    # built by `make setup` from engine/web/assets/editor.js
    built = OWN / "build" / "editor.js"
    assert static_links(editor)["/static/app/build/editor.js"] == f"v={version(built)}"
    diagram = static_links(cleo.get(f"/commission/{LIVERPOOL}/workflows/application").data.decode())
    assert diagram["/static/app/workflow.js"] == f"v={version(OWN / 'workflow.js')}"
    assert re.fullmatch(r"v=[0-9a-f]{12}", diagram["/static/mermaid/mermaid.min.js"])


def test_a_versioned_file_is_kept_a_year_an_unversioned_one_an_hour_another_version_never(
    client: FlaskClient,
) -> None:
    css = f"/static/app/app.css?v={version(OWN / 'app.css')}"
    kept = client.get(css)
    assert kept.status_code == 200 and kept.data == (OWN / "app.css").read_bytes()
    assert set(kept.headers["Cache-Control"].split(", ")) == {"public", YEAR, "immutable"}

    plain = client.get("/static/app/app.css")
    assert plain.headers["Cache-Control"] == "public, max-age=3600"  # as before versions
    govuk = client.get("/static/govuk/govuk-frontend.min.css")
    assert govuk.headers["Cache-Control"] == "public, max-age=86400"

    # a page from a host already on a newer deploy asks this one for a version it does not have:
    # the bytes it has are served, but no browser may keep them under that version's address
    other = client.get("/static/app/app.css?v=0123456789ab")
    assert other.status_code == 200 and other.headers["Cache-Control"] == "no-store"
    assert client.get("/static/app/nothing.css?v=0123456789ab").status_code == 404


def test_changed_bytes_change_the_link(tmp_path: Path, clock: Clock) -> None:
    """A deploy with a newer govuk-frontend (its files copied here, the stylesheet changed): a new
    app on the same database, as a restarted process is."""
    before = make_app(tmp_path, clock)
    dist = tmp_path / "govuk"
    shutil.copytree(before.config["ASSETS"], dist, ignore=shutil.ignore_patterns("assets"))
    css = "/static/govuk/govuk-frontend.min.css"
    old = static_links(before.test_client().get("/").data.decode())[css]

    (dist / "govuk-frontend.min.css").write_bytes(
        (dist / "govuk-frontend.min.css").read_bytes() + b"\n.app-new{display:block}\n"
    )
    after = make_app(tmp_path, clock, ASSETS=str(dist)).test_client()
    new = static_links(after.get("/").data.decode())[css]
    assert new != old and new == f"v={version(dist / 'govuk-frontend.min.css')}"
    assert after.get(f"{css}?{new}").headers["Cache-Control"].endswith("immutable")
    assert after.get(f"{css}?{old}").headers["Cache-Control"] == "no-store"
