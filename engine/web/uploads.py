"""Uploads: checked by size and by what the bytes are (not just the name), kept in the database
(where every web host finds them) under random ids, and served only through a case the person
may see."""

from __future__ import annotations

import io
import secrets
import unicodedata
import zipfile
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, send_file, send_from_directory
from werkzeug.datastructures import FileStorage

from engine.forms.answers import check_value
from engine.model import Question
from engine.runtime import Actor, CaseView
from engine.web.services import now, store

MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "png": "image/png",
    "jpg": "image/jpeg",
    "csv": "text/csv",
    "txt": "text/plain",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97 and Excel 97 files


def sniff(data: bytes) -> set[str]:
    """The file types these bytes could be, judged by their content alone."""
    if data.startswith(b"%PDF-"):
        return {"pdf"}
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return {"png"}
    if data.startswith(b"\xff\xd8\xff"):
        return {"jpg"}
    if data.startswith(_OLE):
        return {"doc", "xls"}
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    head = data[:65536]
    if b"\x00" in head:
        return set()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError:
            continue
        return {"csv", "txt"}
    return set()


# A document is a zip of a few hundred parts; an archive past these is a bomb, not a document.
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_EXPANDED = 512 * 1024 * 1024  # what its parts say they expand to, all together
_HEAD = 100  # all we ever read of a part: enough for an OpenDocument `mimetype`


class UploadRefused(ValueError):
    """An upload refused for what it is, with a message saying what to do."""


def _zip_kind(data: bytes) -> set[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_ZIP_MEMBERS or sum(p.file_size for p in parts) > MAX_ZIP_EXPANDED:
                raise UploadRefused(
                    "The file expands to far more than a document would: save it again from "
                    "the program that made it, or as a PDF, and upload that"
                )
            names = {p.filename for p in parts}
            if "mimetype" in names:
                # read a few bytes through the stream: the part may claim to be tiny and not be
                with archive.open("mimetype") as part:
                    head = part.read(_HEAD)
                mimetype = head.decode("ascii", "replace").strip()
                return {"odt"} if mimetype == MIME["odt"] else {"ods"} if mimetype == MIME["ods"] else set()  # fmt: skip
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        if isinstance(exc, UploadRefused):
            raise
        return set()
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return {"docx"}
        if any(n.startswith("xl/") for n in names):
            return {"xlsx"}
    return set()


def clean_name(filename: str) -> str:
    """The file's own name, without folders or control characters, at most 150 characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return (name or "file")[-150:]


def accept_upload(q: Question, upload: FileStorage, view: CaseView, form_id: str,
                  actor: Actor) -> tuple[dict[str, Any] | None, list[str]]:  # fmt: skip
    """Check an upload (the engine's name and size rules, then its content) and store it.

    Returns the answer `{name, size, id}`, or the messages saying why not.
    """
    limit_mb = q.spec.get("max_size_mb", 50)
    data = upload.stream.read(int(limit_mb * 1024 * 1024) + 1)
    name = clean_name(upload.filename or "")
    value = {"name": name, "size": len(data)}
    _clean, problems = check_value(q, value)
    if problems:
        return None, problems
    if not data:
        return None, ["The selected file is empty"]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = set(q.spec.get("accept") or MIME)
    try:
        kinds = sniff(data) & allowed
    except UploadRefused as exc:
        return None, [str(exc)]
    if ext not in kinds:
        listed = ", ".join(sorted(a.upper() for a in allowed))
        return None, [f"The file's contents are not a {listed}: choose a file of one of those types"]  # fmt: skip
    file_id = secrets.token_urlsafe(16)
    st = store()
    with st.transaction():
        st.add_upload(
            {
                "id": file_id,
                "case_id": view.id,
                "form_id": form_id,
                "question_id": q.id,
                "name": name,
                "size": len(data),
                "kind": ext,
                "stored_as": secrets.token_hex(16),
                "uploaded_by": actor.id,
                "created_at": now().isoformat(),
            },
            data,
        )
    return {"name": name, "size": len(data), "id": file_id}, []


def send_upload(
    view: CaseView, file_id: str, visible: Callable[[str, str], bool] | None = None
) -> Response | None:
    """The file as a download, if it belongs to this case and `visible(form, question)` (None: not found)."""
    row = store().upload(file_id)
    if row is None or row["case_id"] != view.id:
        return None
    if visible is not None and not visible(row["form_id"], row["question_id"]):
        return None  # an answer this person may not see is not downloadable either
    content = store().upload_content(file_id)
    if content is None:  # kept on disk by a version before files went into the database
        return send_from_directory(
            current_app.config["UPLOAD_FOLDER"],
            row["stored_as"],
            as_attachment=True,
            download_name=row["name"],
            mimetype=MIME.get(row["kind"], "application/octet-stream"),
            max_age=0,
        )
    return send_file(
        io.BytesIO(content),
        as_attachment=True,
        download_name=row["name"],
        mimetype=MIME.get(row["kind"], "application/octet-stream"),
        max_age=0,
    )
