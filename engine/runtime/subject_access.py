"""Subject access: everything held about one person (by the identifier their cases are about) or
one account (by email), as plain data, and the same as a readable, self-contained HTML page.

Return shape of `subject_access`: `{"about": "person" | "account", "made": when in words,
"account": {name, email, role, organisation, created, switched_off} | None, "cases": [{"reference",
"programme", "kind", "state", "organisation", "started", "answers": [{"form", "record",
"answers": [{"question", "answer"}]}], "files": [{"name", "size", "question", "added"}],
"history": [{"when", "what", "by"}]}], "messages": [{"subject", "body", "sent"}]}`. Every time is
in words on the programme's clock (Europe/London for an account's own details).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, select_autoescape

from engine.dates import moment_in_words, stored_moment
from engine.errors import NotFound
from engine.model import Programme
from engine.runtime.core import EngineCore
from engine.runtime.privacy import PrivacyService
from engine.runtime.views import Actor

LONDON = ZoneInfo("Europe/London")


def _when(text: str | None, tz: ZoneInfo) -> str:
    return moment_in_words(stored_moment(text), tz) if text else ""


def answer_text(programme: Programme, qid: str, value: Any) -> str:
    """An answer as a person reads it: an option's label, a date in words, a list joined."""
    q = programme.questions().get(qid)
    labels = {}
    for option in (q.spec.get("options") or []) if q else []:
        if isinstance(option, dict):
            labels[str(option.get("value"))] = str(option.get("label", option.get("value")))
    if isinstance(value, list):
        return ", ".join(answer_text(programme, qid, v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {answer_text(programme, k, v)}" for k, v in value.items())
    if q is not None and q.type == "date" and isinstance(value, str):
        try:
            day = date.fromisoformat(value)
            return f"{day.day} {day:%B %Y}"
        except ValueError:
            return value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return labels.get(str(value), "" if value is None else str(value))


class SubjectAccessService(PrivacyService, EngineCore):
    """What is held about one person or one account, gathered for a subject access request."""

    def subject_access(self, actor: Actor, *, person: str | None = None,
                       account: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Everything held about one person (subject identifier) or account (email), as plain data."""
        self._privacy_officer(actor, "export personal data")
        held: dict[str, Any] = {"about": "person" if person else "account", "account": None,
                                "made": moment_in_words(self.now(), LONDON), "messages": []}  # fmt: skip
        if person:
            rows = self.store.cases_about(person)
        else:
            user = self.store.user_by_email((account or "").strip())
            if user is None:
                raise NotFound("there is no account with that email address; check it")
            names = self.store.organisation_names()
            held["account"] = {
                "name": user["name"], "email": user["email"], "role": user["role"],
                "organisation": names.get(user["organisation_id"] or "", ""),
                "created": _when(user["created_at"], LONDON),
                "switched_off": _when(user.get("disabled_at"), LONDON),
            }  # fmt: skip
            rows = self.store.cases_acted_on_by(user["email"])
            held["messages"] = [
                {"subject": m["subject"], "body": m["body"], "sent": _when(m["delivered_at"] or m["created_at"], LONDON)}
                for m in self.store.messages_to(user["email"])
            ]  # fmt: skip
        held["cases"] = [self._held_case(r) for r in rows if actor.covers(r["programme_id"])]
        if person and not held["cases"]:
            raise NotFound("no case you can see is about that person; check the identifier")
        return held

    def _held_case(self, row: dict[str, Any]) -> dict[str, Any]:
        programme = self.programme(row["programme_id"], row["version"])
        tz = ZoneInfo(programme.timezone)
        wf = programme.workflows.get(row["workflow"])
        states = {s.id: s.label for s in wf.states} if wf else {}
        answers = []
        for a in self.store.answers(row["id"]):
            form = programme.forms.get(a["form"])
            labels = form.questions() if form else {}
            answers.append({
                "form": form.title if form else a["form"],
                "record": a["record"],
                "answers": [{"question": labels[k].label if k in labels else k,
                             "answer": answer_text(programme, k, v)} for k, v in a["data"].items()],
            })  # fmt: skip
        questions = programme.questions()
        return {
            "reference": row["reference"],
            "programme": programme.name,
            "kind": wf.title if wf else row["workflow"],
            "state": states.get(row["state"], row["state"]),
            "organisation": self.store.organisation_name(row["organisation_id"] or "") or "",
            "started": _when(row["created_at"], tz),
            "answers": answers,
            "files": [
                {
                    "name": u["name"],
                    "size": u["size"],
                    "added": _when(u["created_at"], tz),
                    "question": questions[u["question_id"]].label
                    if u["question_id"] in questions
                    else "",
                }
                for u in self.store.uploads_of(row["id"])
            ],
            "history": [
                {
                    "when": _when(e["at"], tz),
                    "by": e["role"],
                    "what": _action_words(e, wf.transitions if wf else ()),
                }
                for e in self.store.history(row["id"])
            ],
        }


def _action_words(entry: dict[str, Any], transitions: Any) -> str:
    for t in transitions:
        if t.trigger == entry["action"]:
            return str(t.spec.get("label", t.trigger.replace("_", " ")))
    return _ACTIONS.get(entry["action"], entry["action"].replace("_", " ").capitalize())


_ACTIONS = {
    "start": "Started",
    "answer": "Answers saved",
    "personal_data_erased": "Personal data erased",
    "retention_delete": "Records removed at the end of their retention period",
    "retention_erase_personal_data": "Personal data erased at the end of its retention period",
}

_PAGE = Environment(autoescape=select_autoescape(default=True)).from_string("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Personal data held</title>
<style>body{font-family:Arial,sans-serif;margin:2rem;max-width:60rem;color:#0b0c0c}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}th,td{text-align:left;
border-bottom:1px solid #b1b4b6;padding:.4rem;vertical-align:top}</style></head><body>
<h1>Personal data held{% if held.account %} about {{ held.account.name }}{% endif %}</h1>
<p>Made {{ held.made }}.</p>
{% if held.account %}<h2>Account</h2><table>
<tr><th scope="row">Name</th><td>{{ held.account.name }}</td></tr>
<tr><th scope="row">Email address</th><td>{{ held.account.email }}</td></tr>
<tr><th scope="row">Organisation</th><td>{{ held.account.organisation }}</td></tr>
<tr><th scope="row">Account made</th><td>{{ held.account.created }}</td></tr>
{% if held.account.switched_off %}<tr><th scope="row">Switched off</th><td>{{ held.account.switched_off }}</td></tr>{% endif %}
</table>{% endif %}
{% for case in held.cases %}<h2>{{ case.kind }} {{ case.reference }}</h2>
<p>{{ case.programme }}{% if case.organisation %}, {{ case.organisation }}{% endif %}. Started {{ case.started }}. Now: {{ case.state }}.</p>
{% for set in case.answers %}<h3>{{ set.form }}{% if set.record %} (record {{ set.record }}){% endif %}</h3>
<table>{% for a in set.answers %}<tr><th scope="row">{{ a.question }}</th><td>{{ a.answer }}</td></tr>{% endfor %}</table>{% endfor %}
{% if case.files %}<h3>Files</h3><ul>{% for f in case.files %}<li>{{ f.name }} ({{ f.question }}, added {{ f.added }})</li>{% endfor %}</ul>{% endif %}
<h3>History</h3><table><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">By</th></tr>
{% for e in case.history %}<tr><td>{{ e.when }}</td><td>{{ e.what }}</td><td>{{ e.by }}</td></tr>{% endfor %}</table>
{% endfor %}
{% if held.messages %}<h2>Messages sent</h2>{% for m in held.messages %}<h3>{{ m.subject }}</h3><p>Sent {{ m.sent }}</p><pre>{{ m.body }}</pre>{% endfor %}{% endif %}
{% if not held.cases and not held.account %}<p>Nothing is held.</p>{% endif %}
</body></html>
""")


def subject_access_html(held: dict[str, Any]) -> str:
    """A subject access export as one self-contained HTML page (no scripts, no links out)."""
    return _PAGE.render(held=held)
