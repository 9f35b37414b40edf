"""What a programme reports: its KPIs and the demographics of whom it reaches.

A KPI needs the form or workflow its source implies, the fields its measure reads and RAG
thresholds the right way round; a demographic needs a countable question, rising bands, groups of
real options or postcode districts, and population shares that add up.
"""

from __future__ import annotations

from typing import Any

from engine.definition.checks.base import _d, _l, _num
from engine.definition.checks.expression_types import NUMERIC_QUESTIONS
from engine.definition.checks.forms import walk_questions
from engine.definition.checks.index import ProgrammeIndex
from engine.definition.schema_check import did_you_mean
from engine.definition.yaml_source import Path
from engine.vocabulary import BANDED, CHOICE, COUNTABLE, band_labels, postcode_district


class ReportingChecks(ProgrammeIndex):
    """KPIs and demographics."""

    def _kpis(self) -> None:
        for i, k in enumerate(_l(_d(self.data).get("kpis"))):
            k = _d(k)
            path: Path = ("kpis", i)
            label = f'KPI "{k.get("id")}"'
            source, measure = k.get("source"), k.get("measure")
            if source in ("returns", "records") and "form" not in k:
                self.err(
                    path,
                    "kpi-incomplete",
                    f'{label} is computed from {source}, so it needs the "form" they are sent on',
                )
            if source in ("cases", "records") and "workflow" not in k:
                self.err(
                    path,
                    "kpi-incomplete",
                    f'{label} is computed from {source}, so it needs the "workflow" whose cases count',
                )
            needs = {
                "sum": ["field"],
                "average": ["field"],
                "median": ["field"],
                "percentage": ["numerator"],
                "matched_change": ["pre", "post"],
            }
            for need in needs.get(str(measure), []):
                if need not in k and not (need == "field" and "value" in k):
                    self.err(
                        path,
                        "kpi-incomplete",
                        f'{label} is a {measure}, so it needs "{need}"'
                        + (
                            ' (or "value", an expression giving each number)'
                            if need == "field"
                            else ""
                        ),
                    )
            if "workflow" in k:
                self.workflow_ref((*path, "workflow"), k["workflow"])
            self.state_refs((*path, "states"), k.get("states"), k.get("workflow"))
            form = k.get("form")
            if "form" in k and self.form_ref((*path, "form"), form):
                info = self.forms.get(str(form))
                if info is not None:
                    for fk in ("field", "pre", "post"):
                        if (
                            fk in k
                            and self.ref(
                                (*path, fk),
                                k[fk],
                                set(info.questions),
                                "unknown-question",
                                "question",
                                f'in form "{form}"',
                            )
                            and fk in needs.get(str(measure), [])
                        ):
                            self._adds_up((*path, fk), label, measure, info.questions[k[fk]])
            self._bands(path, label, _d(k.get("target")), k.get("rag"))
            self._kpi_breakdowns(path, label, k)
            self._kpi_date(path, label, k)

    def _kpi_breakdowns(self, path: Path, label: str, k: dict[str, Any]) -> None:
        """A KPI is broken down only by the answer to a choice question it can read."""
        for j, b in enumerate(_l(k.get("by"))):
            qid = _d(b).get("answer")
            where = (*path, "by", j, "answer")
            q = self._kpi_question(where, k, qid, once=False)
            kind = None if q is None else q.get("type")
            if q is not None and isinstance(kind, str) and kind not in CHOICE:
                self.err(where, "kpi-not-choice",
                         f'{label} is broken down by the answer to "{qid}", a {kind} question, but '
                         "only the answers to a choice question fall into groups; name a radios, "
                         "select, checkboxes or yes/no question")  # fmt: skip

    def _kpi_date(self, path: Path, label: str, k: dict[str, Any]) -> None:
        """A KPI's own date is a date answer it can read, or an event of its workflow."""
        spec = k.get("date")
        if not isinstance(spec, dict):
            return  # the schema check has said what is wrong
        ref = self.exactly_one((*path, "date"), spec, ("answer", "entered", "trigger"), "bad-date",
                               f"the date of {label}")  # fmt: skip
        if ref is None:
            return
        name = spec[ref]
        where = (*path, "date", ref)
        if ref == "answer":
            q = self._kpi_question(where, k, name, once=k.get("source") == "cases")
            kind = None if q is None else q.get("type")
            if q is not None and isinstance(kind, str) and kind != "date":
                self.err(where, "kpi-not-date",
                         f'{label} counts each item in the period of its answer to "{name}", a '
                         f"{kind} question, which holds no date; name a date question")  # fmt: skip
            return
        wid = k.get("workflow")
        if not isinstance(wid, str):
            self.err(where, "needs-workflow",
                     f"{label} is dated by a case event, so it needs the \"workflow\" whose "
                     f"{'states' if ref == 'entered' else 'transitions'} these are")  # fmt: skip
        elif wid in self.workflows:
            known = self.states[wid] if ref == "entered" else self.triggers[wid]
            what = "state" if ref == "entered" else "transition"
            self.ref(where, name, known, f"unknown-{'state' if ref == 'entered' else 'trigger'}",
                     what, f'in workflow "{wid}"')  # fmt: skip

    def _kpi_question(
        self, where: Path, k: dict[str, Any], qid: Any, *, once: bool
    ) -> dict[str, Any] | None:
        """The question `qid` of the forms a KPI reads (with `once`, not repeatable ones), or None
        (after saying so) when it has none of that name; None too while its forms are unknown."""
        if not isinstance(qid, str):
            return None
        if k.get("source") in ("returns", "records"):
            form = k.get("form")
            if not isinstance(form, str) or form not in self.forms:
                return None  # reported where the form is named
            forms, owner = [form], f'in form "{form}"'
        else:
            wid = k.get("workflow")
            if not isinstance(wid, str) or wid not in self.workflows or self.forms_unknown(wid):
                return None
            forms = [f for f, ws in self.form_workflows.items() if wid in ws and f in self.forms
                     and not (once and f in self.repeatable)]  # fmt: skip
            owner = f'in the forms of workflow "{wid}"' + (
                " asked once per case (a repeatable form's records have no single date)"
                if once
                else ""
            )
        known = {q: spec for f in forms for q, spec in self.forms[f].questions.items()}
        if not self.ref(where, qid, set(known), "unknown-question", "question", owner):
            return None
        return known[qid]

    def _bands(self, path: Path, label: str, target: dict[str, Any], bands: Any) -> None:
        """Green starts at the target (or `rag.green` without one), amber is on its worse side."""
        if not isinstance(bands, dict):
            return
        goal, green, amber = target.get("value"), bands.get("green"), bands.get("amber")
        if _num(goal) and _num(green) and goal != green:
            self.err((*path, "rag", "green"), "bad-rag",
                     f"{label} is green at or beyond its target ({goal}), so a green threshold of "
                     f"{green} contradicts it; leave green out, or make it {goal}")  # fmt: skip
            return
        if not _num(goal) and "green" not in bands:
            self.err((*path, "rag"), "bad-rag",
                     f"{label} has an amber threshold but nothing to be green against; give it a "
                     "target (green from the target), or a green threshold")  # fmt: skip
            return
        best = goal if _num(goal) else green
        if _num(best) and _num(amber):
            down = target.get("direction") == "at_most"
            if (not down and best < amber) or (down and best > amber):
                word = "below" if not down else "above"
                what = "target" if _num(goal) else "green threshold"
                self.err((*path, "rag"), "bad-rag",
                         f"{label}'s {what} ({best}) is {word} its amber threshold ({amber}); amber "
                         f"must be the worse result, {'under' if not down else 'over'} the {what}")  # fmt: skip

    def _adds_up(self, path: Path, label: str, measure: Any, q: dict[str, Any]) -> None:
        """A KPI adds up (or averages, or takes the change in) only number answers."""
        qid, kind = q.get("id"), q.get("type")
        if not isinstance(kind, str) or kind in NUMERIC_QUESTIONS:
            return
        does = {"sum": "adds up", "average": "averages", "median": "takes the median of"}.get(
            str(measure), "measures the change in"
        )
        if kind == "yesno":
            instead = f"; to count the yes answers, use measure: percentage with numerator: {qid}"
        elif kind in CHOICE:
            instead = f'; to count answers of one kind, use measure: count with where: {qid} == "…"'
        else:
            instead = ""
        self.err(
            path,
            "kpi-not-numeric",
            f'{label} {does} question "{qid}", a {kind} question: its answers are not numbers, so '
            f"none would ever count; only a {_either(sorted(NUMERIC_QUESTIONS))} question's "
            f"answers can be added up{instead}",
        )

    def _demographics(self) -> None:
        for i, spec in enumerate(_l(_d(_d(self.data).get("reporting")).get("demographics"))):
            spec = _d(spec)
            path: Path = ("reporting", "demographics", i)
            wid, qid = spec.get("workflow"), spec.get("question")
            known_wf = "workflow" in spec and self.workflow_ref((*path, "workflow"), wid)
            self.state_refs((*path, "states"), spec.get("states"), wid)
            if not isinstance(qid, str) or ("workflow" in spec and not known_wf):
                continue
            forms = [f for f, wfs in self.form_workflows.items() if not known_wf or wid in wfs]
            infos = [self.forms[f] for f in forms if f in self.forms]
            found = next(
                ((info, info.questions[qid]) for info in infos if qid in info.questions), None
            )
            if found is None:
                if not self.forms_unknown(wid if known_wf else None):  # else reported there
                    owner = (
                        f'in the forms of workflow "{wid}"'
                        if known_wf
                        else "in the programme's forms"
                    )
                    known = {q for info in infos for q in info.questions}
                    self.ref((*path, "question"), qid, known, "unknown-question", "question", owner)
                continue
            self._demographic(path, spec, *found)

    def _demographic(self, path: Path, spec: dict[str, Any], info: Any, q: dict[str, Any]) -> None:
        qid, kind = q.get("id"), q.get("type")
        inside = next((g for pi, page in enumerate(_l(_d(info.data).get("pages")))
                       for _p, inner, g in walk_questions(_l(_d(page).get("questions")), ("pages", pi, "questions"))
                       if inner.get("id") == qid and g), None)  # fmt: skip
        if inside or kind not in COUNTABLE:
            why = (f'it is asked inside group "{inside[-1]}", once for each item' if inside
                   else f"it is a {kind} question")  # fmt: skip
            self.err(
                (*path, "question"),
                "not-countable",
                f'question "{qid}" cannot be counted into groups of people: {why}; name a choice, yes/no, number, date or postcode question',
            )
            return
        bands = [b for b in _l(spec.get("bands")) if _num(b)]
        if kind in BANDED and "bands" not in spec:
            self.err(
                path,
                "missing-key",
                f'question "{qid}" is a {kind} question, so it needs "bands": where each band starts, e.g. [18, 25, 35, 50, 65]',
            )
        if "bands" in spec and kind not in BANDED:
            self.err((*path, "bands"), "key-not-for-type", f'"bands" are for number and date questions, and "{qid}" is a {kind} question')  # fmt: skip
        elif any(b >= a for a, b in zip(bands[1:], bands, strict=False)):
            self.err((*path, "bands"), "bad-range", "each band must start above the one before, e.g. [18, 25, 35, 50, 65]")  # fmt: skip
        groups = _d(spec.get("groups"))
        if groups and kind in BANDED:
            self.err((*path, "groups"), "key-not-for-type", f'"groups" are for choice and postcode questions, and "{qid}" is a {kind} question')  # fmt: skip
            return
        values = self._option_values(q) if kind in CHOICE else None
        for name, members in groups.items():
            for j, m in enumerate(_l(members)):
                if values is not None:
                    self.ref((*path, "groups", name, j), m, values, "unknown-option", "option", f'in question "{qid}"')  # fmt: skip
                elif isinstance(m, str) and postcode_district(m) != m:
                    self.err((*path, "groups", name, j), "bad-value", f'"{m}" is not a postcode district; give the part before the space in capitals, e.g. LE11')  # fmt: skip
        # members the schema already refused (a mapping, a list) are left out, not hashed
        grouped = {m for ms in groups.values() for m in _l(ms) if isinstance(m, str)}
        if kind in CHOICE:
            keys: set[str] | None = (set(values or ()) - grouped) | set(groups)
        elif kind in BANDED:
            keys = set(band_labels(bands)) if bands else None
        else:
            keys = None  # a postcode district may be any district
        shares = _d(_d(spec.get("compare_with")).get("shares"))
        for key in shares:
            where = (*path, "compare_with", "shares", key)
            if keys is not None and key not in keys:
                listing = "" if len(keys) > 12 else f" (there are: {', '.join(sorted(keys))})"
                self.err(where, "unknown-option", f'there is no group "{key}" to compare in question "{qid}"{did_you_mean(key, keys) or listing}', key=True)  # fmt: skip
            elif keys is None and key not in groups and postcode_district(key) != key:
                self.err(where, "bad-value", f'"{key}" is neither a group nor a postcode district such as LE11', key=True)  # fmt: skip
        total = sum(v for v in shares.values() if _num(v))
        if kind != "checkboxes" and total > 100.5:  # rounded shares may add up to a little over 100
            self.err((*path, "compare_with", "shares"), "out-of-range", f"the population's shares add up to {total:g}%, more than 100%")  # fmt: skip

    def _option_values(self, q: dict[str, Any]) -> set[str]:
        """A choice question's option values (from the programme where `options_from` says)."""
        if q.get("type") == "yesno":
            return {"yes", "no"}
        src = q.get("options_from")
        if isinstance(src, str):
            d = _d(self.data)
            items = _l(_d(d.get("funding")).get("lots")) if src == "lots" else _l(d.get(src))
            return {str(_d(it).get("id")) for it in items}
        return {str(_d(o).get("value")) for o in _l(q.get("options"))}


def _either(words: list[str]) -> str:
    """`a, b or c`."""
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else "".join(words)
