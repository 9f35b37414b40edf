"""`commission demo`: a database seeded from a data file (people, organisations, cases).

Everything scheme-specific lives in the data file (`demo/seed.yaml`): which programmes, which
people, which cases with which answers. Demo databases only: the one password is printed.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from werkzeug.security import generate_password_hash

from engine.runtime import Actor, Engine
from engine.store import Store

# a minimal, valid PDF: what a demo "upload" holds
_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"  # fmt: skip


def upload_folder(db_path: str | Path) -> Path:
    """Where versions before files went into the database kept an SQLite file's uploads."""
    return Path(db_path).resolve().parent / "uploads"


def _moment(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _file(store: Store, case_id: int, form: str, question: str, name: str) -> dict[str, Any]:
    file_id = secrets.token_urlsafe(16)
    with store.transaction():
        store.add_upload({"id": file_id, "case_id": case_id, "form_id": form, "question_id": question,
                          "name": name, "size": len(_PDF), "kind": name.rsplit(".", 1)[-1].lower(),
                          "stored_as": secrets.token_hex(16), "uploaded_by": "demo",
                          "created_at": datetime.now(UTC).isoformat()}, _PDF)  # fmt: skip
    return {"name": name, "size": len(_PDF), "id": file_id}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extra` laid over it, mappings merged key by key (lists are replaced)."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _cases(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cases to play: an item with `each` is one case per entry, laid over the item's keys."""
    out = []
    for item in items:
        rest = {k: v for k, v in item.items() if k != "each"}
        out.extend([_merge(rest, e) for e in item["each"]] if "each" in item else [item])
    return out


def _started(store: Store, case_id: int, workflow: str) -> int:
    """The case of this workflow that the case started (e.g. an award's contract)."""
    for child in store.children(case_id):
        row = store.case(child)
        if row is not None and row["workflow"] == workflow:
            return child
    raise ValueError(
        f"case {case_id} has started no {workflow} case (a step says `started: {workflow}`)"
    )


def seed(db_path: Path, data_file: Path, password: str) -> dict[str, Any]:
    """Publish the programmes, add the people and play the cases of a demo data file."""
    spec = yaml.safe_load(data_file.read_text("utf-8"))
    base = data_file.resolve().parent.parent  # paths in the file are from the repository root
    engine = Engine(db_path)
    store = engine.store
    if store.has_people():
        raise ValueError(f"{db_path} already has people in it: give `commission demo` a new database file")  # fmt: skip
    published = [engine.publish(base / p)[0].id for p in spec["programmes"]]
    stamp = datetime.now(UTC).isoformat()
    hashed = generate_password_hash(password)
    users: dict[str, dict[str, Any]] = {}
    with store.transaction():
        for org in spec.get("organisations", []):
            store.ensure_organisation(org["id"], org["name"], stamp)
        for person in spec["users"]:
            role, org = person["role"], person.get("organisation")
            user_id = store.create_user(person["email"], hashed, person["name"], role, org, stamp)
            if role != "applicant":  # staff hold what an administrator would grant them
                for pid in person.get("programmes") or [None]:
                    store.grant_role(user_id, role, pid, org if role == "caseworker" else None, "demo", stamp)  # fmt: skip
            users[person["email"]] = person
    references = []
    for item in _cases(spec.get("cases", [])):
        person = users[item["as"]]
        actor = Actor(person["role"], person["email"], person.get("organisation"))
        moment = _moment(item["at"])
        engine = Engine(store, clock=lambda m=moment: m)  # each case is played at its own date
        view = engine.start_case(item["programme"], item["workflow"], actor, role=item.get("role"),
                                 subject=item.get("subject"), lot=item.get("lot"),
                                 organisation=item.get("organisation"),
                                 organisation_name=next((o["name"] for o in spec.get("organisations", []) if o["id"] == actor.organisation), None))  # fmt: skip
        for step in [item, *item.get("then", [])]:  # later steps: by whom (`as`) and when (`at`)
            if step is not item and ("as" in step or "at" in step):
                person = users[step.get("as", person["email"])]
                actor = Actor(person["role"], person["email"], person.get("organisation"))
                moment = _moment(step["at"]) if "at" in step else moment
                engine = Engine(store, clock=lambda m=moment: m)
            target = _started(store, view.id, step["started"]) if "started" in step else view.id
            # a repeatable form's answers are one record of it
            for form_id, answers in (step.get("answers") or {}).items():
                answers = {
                    k: _file(store, target, form_id, k, v["file"]) if isinstance(v, dict) and "file" in v else v
                    for k, v in answers.items()
                }  # fmt: skip
                engine.save_answers(target, form_id, answers, actor)
            for trigger in step.get("actions", []):
                engine.act(target, trigger, actor)
        references.append(view.reference)
    return {
        "programmes": published,
        "users": [p["email"] for p in spec["users"]],
        "cases": references,
    }
