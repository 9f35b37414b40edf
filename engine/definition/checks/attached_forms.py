"""The forms a programme attaches to its workflows under `forms:`.

Each is attached once per workflow, at states and for roles that exist, and a question that takes
its choices from a programme list (`options_from`) needs that list to have items. Whoever fills in
a form must be able to see every answer on it (a question's `visible_to`, or personal data in an
anonymised programme, must not hide an answer from the person who gives it).
"""

from __future__ import annotations

import difflib
from typing import Any

from engine.definition.checks.base import _d, _l
from engine.definition.checks.forms import FormInfo
from engine.definition.checks.index import ACTORS, ProgrammeIndex
from engine.definition.schema_check import load_schema
from engine.definition.yaml_source import Path
from engine.model import PERSONAL_DATA_ROLES


class AttachedFormChecks(ProgrammeIndex):
    """The `forms:` list and where its forms take their choices from."""

    def _forms(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        for i, f in enumerate(_l(_d(self.data).get("forms"))):
            f = _d(f)
            path: Path = ("forms", i)
            wid = f.get("workflow")
            pair = (str(f.get("form")), str(wid))
            if pair in seen:
                self.err(
                    (*path, "form"),
                    "duplicate-id",
                    f'form "{pair[0]}" is attached to workflow "{pair[1]}" twice',
                )
            seen[pair] = i
            self.workflow_ref((*path, "workflow"), wid)
            self.state_refs((*path, "states"), f.get("states"), wid)
            self.role_refs((*path, "applies_to"), f.get("applies_to"), wid)
            info = self.forms.get(str(f.get("form")))
            if info is not None:
                self._options_from(info)
                self._seen_by_fillers(path, f, info)
                self._record_date(path, f, info)

    def _record_date(self, path: Path, entry: dict[str, Any], info: FormInfo) -> None:
        """A record's own date is a date question of the form itself, and only records have one."""
        for key in ("record_date", "future_dates", "max_records"):
            if key in entry and entry.get("repeatable") is not True:
                self.err(
                    (*path, key),
                    "key-not-for-form",
                    f'form "{info.id}" is filled in once per case, so "{key}" does nothing; it is '
                    "for repeatable forms (repeatable: true)",
                    key=True,
                )
        qid = entry.get("record_date")
        if not isinstance(qid, str):
            return
        dates = {
            str(_d(q).get("id"))
            for page in _l(_d(info.data).get("pages"))
            for q in _l(_d(page).get("questions"))
            if _d(q).get("type") == "date"
        }
        self.ref((*path, "record_date"), qid, dates, "unknown-question", "date question", f'in form "{info.id}"')  # fmt: skip

    def _seen_by_fillers(self, path: Path, entry: dict[str, Any], info: FormInfo) -> None:
        """Whoever fills in a form must be able to read back every answer they give on it."""
        by = entry.get("by")
        if isinstance(by, list):
            # a name that is no one (reported by the schema check) is not asked what it can see
            fillers = [r for r in by if isinstance(r, str) and r in ACTORS and r != "scheduler"]
        else:  # the engine's default: the case's own side, and the commissioner
            subject = _d(self.workflows.get(str(entry.get("workflow")))).get("subject")
            fillers = ["caseworker" if subject == "person" else "applicant", "commissioner"]
        anonymised = _d(_d(self.data).get("reporting")).get("anonymised") is True
        where = (*path, "by") if isinstance(by, list) else (*path, "form")
        for qid, q in info.questions.items():
            named = q.get("visible_to")
            if isinstance(named, list):
                shut = [r for r in fillers if r not in named]
                why = f"its visible_to names only {', '.join(map(str, named))}"
            elif anonymised and (q.get("personal") is True or q.get("special_category") is True):
                shut = [r for r in fillers if r not in PERSONAL_DATA_ROLES]
                why = "it is personal data and this programme's reports are anonymised"
            else:
                continue
            if shut:
                who = " and ".join(shut)
                self.err(
                    where,
                    "hidden-from-filler",
                    f'form "{info.id}" is filled in by {who}, but question "{qid}" would be hidden '
                    f"from them ({why}), so they could not read back what they entered; add "
                    f"{who} to the question's visible_to",
                )

    def _misspelt_list(self, src: str) -> bool:
        """Whether the list `src` may be there under a key the schema check calls unknown.

        `funding: {lot: [...]}` is one mistake, reported at the key; the questions that take their
        choices from `lots` are not each told that the programme has none.
        """
        schema = load_schema("programme")["properties"]
        parent, known = _d(self.data), schema
        if src == "lots":
            parent, known = _d(parent.get("funding")), _d(schema["funding"].get("properties"))
        strays = [k for k in parent if isinstance(k, str) and k not in known]
        return bool(difflib.get_close_matches(src, strays, n=1, cutoff=0.6))

    def _options_from(self, info: FormInfo) -> None:
        d = _d(self.data)
        for q in info.questions.values():
            src = q.get("options_from")
            if isinstance(src, str):
                items = _l(_d(d.get("funding")).get("lots")) if src == "lots" else _l(d.get(src))
                if not items and not self._misspelt_list(src):
                    where = "funding › lots" if src == "lots" else src
                    self.err(
                        ("forms",),
                        "missing-options",
                        f'form "{info.id}" takes question "{q.get("id")}"\'s choices from the '
                        f"programme's {src}, but the programme has no {where}",
                    )
