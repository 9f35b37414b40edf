"""Cross-reference checks across a programme file and the forms it uses.

Names are checked against what the file declares, with a "did you mean" for near misses; each
check reads the data defensively, so a file with ten mistakes gets ten messages.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import (
    DateError,
    Span,
    parse_duration,
    parse_month,
    parse_timezone,
    parse_week_of,
    parse_when,
)
from engine.definition.form_checks import (
    UTC_ZONE,
    FormInfo,
    _Base,
    _d,
    _l,
    typed_values,
    walk_questions,
)
from engine.definition.schema_check import did_you_mean, load_schema
from engine.definition.yaml_source import Path, Positions
from engine.errors import Problem
from engine.vocabulary import BANDED, CHOICE, COUNTABLE, band_labels, postcode_district


class ProgrammeChecker(_Base):
    """Checks across one programme file and the forms it uses."""

    def __init__(
        self,
        fname: str,
        data: Any,
        positions: Positions,
        forms: dict[str, FormInfo],
        source_text: str | None = None,
    ) -> None:
        super().__init__(fname, data, positions)
        self.forms = forms  # only the forms the programme lists and that could be read
        self.source_text = source_text
        self.tz: ZoneInfo = UTC_ZONE
        self.spans: dict[str, Span] = {}
        self.milestones: dict[str, int] = {}
        self.workflows: dict[str, dict[str, Any]] = {}
        self.states: dict[str, set[str]] = {}
        self.triggers: dict[str, set[str]] = {}
        self.roles: dict[str, set[str]] = {}
        self.form_workflows: dict[str, set[str]] = {}
        self.reviews: dict[str, dict[str, Any]] = {}

    # -- entry point -------------------------------------------------------------------
    def run(self) -> list[Problem]:
        """Run every programme check; return the problems found."""
        d = _d(self.data)
        tzname = d.get("timezone")
        if isinstance(tzname, str):
            try:
                self.tz = parse_timezone(tzname)
            except DateError as exc:
                self.err(("timezone",), "bad-timezone", str(exc))
        self._index()
        self._typed_values()
        self._timeline()
        self._funding()
        self._workflows()
        self._forms()
        self._eligibility_and_criteria()
        self._reviews()
        self._reminders()
        self._service_levels()
        self._kpis()
        self._demographics()
        return self.problems

    # -- indexes -----------------------------------------------------------------------
    def _index(self) -> None:
        d = _d(self.data)
        for key in ("priorities", "outcomes", "services", "eligibility", "criteria", "timeline",
                    "reviews", "reminders", "service_levels", "kpis"):  # fmt: skip
            self.unique_ids(d.get(key), (key,), what=key.rstrip("s").replace("_", " "))
        funding = _d(d.get("funding"))
        for key in ("lots", "fees", "caps"):
            self.unique_ids(funding.get(key), ("funding", key), what=key.rstrip("s"))
        self.milestones = {
            m["id"]: i
            for i, m in enumerate(_l(d.get("timeline")))
            if isinstance(_d(m).get("id"), str)
        }
        self.reviews = {
            r["id"]: r for r in _l(d.get("reviews")) if isinstance(_d(r).get("id"), str)
        }
        for wid, wf in _d(d.get("workflows")).items():
            wf = _d(wf)
            self.workflows[wid] = wf
            self.unique_ids(wf.get("states"), ("workflows", wid, "states"), what="state")
            self.unique_ids(wf.get("roles"), ("workflows", wid, "roles"), what="role")
            self.states[wid] = {
                s["id"] for s in _l(wf.get("states")) if isinstance(_d(s).get("id"), str)
            }
            self.triggers[wid] = {
                t["trigger"]
                for t in _l(wf.get("transitions"))
                if isinstance(_d(t).get("trigger"), str)
            }
            self.roles[wid] = {
                r["id"] for r in _l(wf.get("roles")) if isinstance(_d(r).get("id"), str)
            }
        for f in _l(d.get("forms")):
            f = _d(f)
            if isinstance(f.get("form"), str) and isinstance(f.get("workflow"), str):
                self.form_workflows.setdefault(f["form"], set()).add(f["workflow"])

    @property
    def question_names(self) -> set[str]:
        """Every question id of every form the programme uses."""
        names: set[str] = set()
        for info in self.forms.values():
            names |= set(info.questions)
        return names

    # -- durations, dates, expressions wherever the schema says they are -----------------
    def _typed_values(self) -> None:
        root = load_schema("programme")
        names = self.question_names
        for path, kind, value in typed_values(self.data, root, root):
            if not isinstance(value, str):
                continue
            try:
                if kind == "duration":
                    parse_duration(value)
                elif kind == "date":
                    parse_when(value, self.tz, allow_time=False)
                elif kind == "datetime":
                    parse_when(value, self.tz)
            except DateError as exc:
                code = "bad-duration" if kind == "duration" else "bad-date"
                self.err(path, code, str(exc))
            if kind == "expression":
                self.check_expression(path, value, names, "the expression")

    # -- timeline ----------------------------------------------------------------------
    def _timeline(self) -> None:
        latest_start: tuple[Span, int] | None = None
        for i, m in enumerate(_l(_d(self.data).get("timeline"))):
            m = _d(m)
            path: Path = ("timeline", i)
            label = f'milestone "{m.get("id")}"'
            given = self.exactly_one(
                path, m, ("at", "from", "month", "week_of"), "milestone-date", label
            )
            if given is None:
                continue
            span = self._span(path, m, given, label)
            if span is None:
                continue
            if isinstance(m.get("id"), str):
                self.spans[m["id"]] = span
            if latest_start is not None and span.end < latest_start[0].start:
                earlier = _d(_l(_d(self.data).get("timeline"))[latest_start[1]])
                self.err(
                    (*path, given),
                    "timeline-order",
                    f'{label} ({_show(span)}) comes before milestone "{earlier.get("id")}" '
                    f"({_show(latest_start[0])}), which is listed above it; list the timeline "
                    "in order, or correct the date",
                )
            if latest_start is None or span.start > latest_start[0].start:
                latest_start = (span, i)

    def _span(self, path: Path, m: dict[str, Any], kind: str, label: str) -> Span | None:
        try:
            if kind == "at":
                span = parse_when(m["at"], self.tz)
                if "ends" in m:
                    end = parse_when(m["ends"], self.tz)
                    if end.end < span.start:
                        self.err((*path, "ends"), "bad-window", f"{label} ends before it starts")
                        return None
                    span = Span(
                        span.start, end.end, "minute" if span.exact and end.exact else "window"
                    )
                return span
            if kind == "from":
                start = parse_when(m["from"], self.tz, allow_time=False)
                if "to" not in m:
                    self.err(path, "missing-key", f'{label} has "from" but no "to"')
                    return None
                end = parse_when(m["to"], self.tz, allow_time=False)
                if end.end < start.start:
                    self.err(
                        (*path, "to"),
                        "bad-window",
                        f"{label} ends ({m['to']}) before it starts ({m['from']})",
                    )
                    return None
                return Span(start.start, end.end, "window")
            if kind == "month":
                return parse_month(m["month"], self.tz)
            return parse_week_of(m["week_of"], self.tz)
        except DateError as exc:
            self.err((*path, kind), "bad-date", str(exc))
        except (TypeError, KeyError):
            pass
        return None

    def milestone(self, path: Path, name: Any, *, exact: bool = False, what: str = "") -> None:
        """Check a reference to a milestone (and that it is an exact time, for deadlines)."""
        if not self.ref(
            path, name, set(self.milestones), "unknown-milestone", "milestone", "in the timeline"
        ):
            return
        span = self.spans.get(name)
        if exact and span is not None and span.precision not in ("minute", "day"):
            self.err(
                path,
                "vague-deadline",
                f'milestone "{name}" is known only as {_show(span)}, so it cannot be {what}; '
                "give it an exact `at` date (and time)",
            )

    # -- money -------------------------------------------------------------------------
    def _funding(self) -> None:
        f = _d(_d(self.data).get("funding"))
        total = f.get("total")
        award = _d(f.get("award"))
        lo, hi = award.get("min"), award.get("max")
        if _num(lo) and _num(hi) and lo > hi:
            self.err(
                ("funding", "award", "min"),
                "award-range",
                f"the smallest award (£{lo:,}) is more than the largest (£{hi:,})",
            )
        if _num(total) and _num(hi) and hi > total:
            self.err(
                ("funding", "award", "max"),
                "award-over-pot",
                f"the largest award (£{hi:,}) is more than the whole pot (£{total:,})",
            )
        n = f.get("max_awards")
        if _num(total) and _num(lo) and _num(n) and n * lo > total:
            self.err(
                ("funding", "max_awards"),
                "pot-too-small",
                f"{n} awards of at least £{lo:,} need £{n * lo:,}, more than the pot of £{total:,}",
            )
        lots = _l(f.get("lots"))
        budgets = [_d(x).get("budget") for x in lots]
        budgets = [b for b in budgets if _num(b)]
        if _num(total) and budgets and sum(budgets) > total:
            self.err(
                ("funding", "lots"),
                "over-budget",
                f"the lots' budgets add up to £{sum(budgets):,}, more than the total of £{total:,}",
            )
        fees = [_d(x).get("percent") for x in _l(f.get("fees"))]
        fees = [p for p in fees if _num(p)]
        if sum(fees) > 100 and all(
            p <= 100 for p in fees
        ):  # one fee over 100 is the schema's to report
            self.err(
                ("funding", "fees"),
                "out-of-range",
                f"the fees add up to {sum(fees)}%, more than 100%",
            )
        caps: dict[tuple[str, str], list[float]] = {}
        for c in _l(f.get("caps")):
            c = _d(c)
            if _num(c.get("percent")) and isinstance(c.get("limit"), str):
                caps.setdefault((str(c.get("of", "award")), c["limit"]), []).append(c["percent"])
        for (of, limit), values in caps.items():
            if limit == "at_least" and sum(values) > 100:
                self.err(
                    ("funding", "caps"),
                    "out-of-range",
                    f"the floors on each {of} add up to {sum(values)}%, more than 100%",
                )
        payment = _d(f.get("payment"))
        after = payment.get("after")
        every = set().union(*self.triggers.values()) if self.triggers else set()
        self.ref(("funding", "payment", "after"), after, every, "unknown-trigger", "transition")

    # -- workflows ---------------------------------------------------------------------
    def _workflows(self) -> None:
        for wid, wf in self.workflows.items():
            base: Path = ("workflows", wid)
            states = self.states[wid]
            final = {
                s["id"]
                for s in _l(wf.get("states"))
                if _d(s).get("final") and isinstance(_d(s).get("id"), str)
            }
            initial = wf.get("initial")
            self.ref(
                (*base, "initial"),
                initial,
                states,
                "unknown-state",
                "state",
                f'in workflow "{wid}"',
            )
            edges: dict[str, set[str]] = {s: set() for s in states}
            for ti, t in enumerate(_l(wf.get("transitions"))):
                t = _d(t)
                tpath: Path = (*base, "transitions", ti)
                src = t.get("source")
                sources: list[str]
                if src == "*":
                    sources = sorted(states - final)
                elif isinstance(src, list):
                    sources = [s for s in src if isinstance(s, str)]
                    for si, s in enumerate(src):
                        self.ref(
                            (*tpath, "source", si),
                            s,
                            states,
                            "unknown-state",
                            "state",
                            f'in workflow "{wid}"',
                        )
                elif isinstance(src, str):
                    sources = [src]
                    self.ref(
                        (*tpath, "source"),
                        src,
                        states,
                        "unknown-state",
                        "state",
                        f'in workflow "{wid}"',
                    )
                else:
                    sources = []
                dest = t.get("dest")
                ok_dest = self.ref(
                    (*tpath, "dest"), dest, states, "unknown-state", "state", f'in workflow "{wid}"'
                )
                for s in sources:
                    if s in final and src != "*":
                        self.err(
                            (*tpath, "source"),
                            "leaves-final-state",
                            f'transition "{t.get("trigger")}" leaves "{s}", which is a final state; '
                            "a case never leaves a final state (remove `final: true` or the transition)",
                        )
                    if s in edges and ok_dest and isinstance(dest, str):
                        edges[s].add(dest)
                label = f'transition "{t.get("trigger")}"'
                if "deadline" in t:
                    self.milestone(
                        (*tpath, "deadline"),
                        t["deadline"],
                        exact=True,
                        what=f"the deadline of {label}",
                    )
                if "not_before" in t:
                    self.milestone(
                        (*tpath, "not_before"),
                        t["not_before"],
                        exact=True,
                        what=f"the start of {label}",
                    )
                for fi, form in enumerate(_l(t.get("forms"))):
                    if isinstance(form, str) and wid not in self.form_workflows.get(form, set()):
                        attached = sorted(f for f, ws in self.form_workflows.items() if wid in ws)
                        self.err(
                            (*tpath, "forms", fi),
                            "unknown-form",
                            f'{label} needs form "{form}", but no form "{form}" is attached to workflow '
                            f'"{wid}" under `forms:`{did_you_mean(form, set(attached))}',
                        )
                if "at" in t:
                    self.anchor((*tpath, "at"), t["at"], wid, label)
                    by = t.get("by")
                    if isinstance(by, list) and by != ["scheduler"]:
                        self.err(
                            (*tpath, "by"),
                            "timed-by",
                            f"{label} is timed (it has `at`), so only the scheduler takes it; "
                            "remove `by` or make it [scheduler]",
                        )
                for ei, eff in enumerate(_l(t.get("effects"))):
                    eff = _d(eff)
                    epath: Path = (*tpath, "effects", ei)
                    if eff.get("do") == "start_case":
                        if "workflow" not in eff:
                            self.err(
                                epath,
                                "missing-key",
                                'start_case needs "workflow": the workflow of the new case',
                            )
                        else:
                            self.ref(
                                (*epath, "workflow"),
                                eff["workflow"],
                                set(self.workflows),
                                "unknown-workflow",
                                "workflow",
                            )
                    for qk in ("amount", "lot"):
                        if qk in eff:
                            self.ref(
                                (*epath, qk),
                                eff[qk],
                                self.question_names,
                                "unknown-question",
                                "question",
                                "in the programme's forms",
                            )
                    if eff.get("do") in ("raise_flag", "clear_flag") and "flag" not in eff:
                        self.err(
                            epath,
                            "missing-key",
                            f'{eff.get("do")} needs "flag": the name of the flag',
                        )
            self._reachability(wid, base, wf, edges, final, initial)

    def _reachability(
        self,
        wid: str,
        base: Path,
        wf: dict[str, Any],
        edges: dict[str, set[str]],
        final: set[str],
        initial: Any,
    ) -> None:
        index = {
            s["id"]: i
            for i, s in enumerate(_l(wf.get("states")))
            if isinstance(_d(s).get("id"), str)
        }
        if isinstance(initial, str) and initial in edges:
            seen = {initial}
            todo = [initial]
            while todo:
                for nxt in edges.get(todo.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            for s, i in index.items():
                if s not in seen:
                    self.err(
                        (*base, "states", i, "id"),
                        "unreachable-state",
                        f'state "{s}" of workflow "{wid}" cannot be reached from "{initial}"; '
                        "add a transition into it or remove it",
                    )
        for s, i in index.items():
            if s not in final and not edges.get(s):
                self.err(
                    (*base, "states", i, "id"),
                    "dead-end-state",
                    f'state "{s}" of workflow "{wid}" has no way out; add a transition from it, '
                    "or mark it `final: true`",
                )

    def anchor(self, path: Path, a: Any, workflow: Any, what: str) -> None:
        """Check a time anchor: exactly one reference, which exists, and a readable offset."""
        a = _d(a)
        ref = self.exactly_one(
            path,
            a,
            ("milestone", "review", "entered", "trigger"),
            "bad-anchor",
            f"the time of {what}",
        )
        if ref is None:
            return
        if "before" in a and "after" in a:
            self.err(path, "bad-anchor", f"the time of {what} has both before and after; keep one")
        if ref == "milestone":
            self.milestone((*path, "milestone"), a["milestone"])
        elif ref == "review":
            self.ref(
                (*path, "review"),
                a["review"],
                set(self.reviews),
                "unknown-review",
                "cadence",
                "in `reviews`",
            )
        else:
            if not isinstance(workflow, str):
                self.err(
                    path,
                    "needs-workflow",
                    f'the time of {what} counts from a case event ("{ref}"), so it needs a `workflow`',
                )
                return
            if workflow not in self.workflows:
                return  # reported where the workflow is named
            if ref == "entered":
                self.ref(
                    (*path, "entered"),
                    a["entered"],
                    self.states[workflow],
                    "unknown-state",
                    "state",
                    f'in workflow "{workflow}"',
                )
            else:
                self.ref(
                    (*path, "trigger"),
                    a["trigger"],
                    self.triggers[workflow],
                    "unknown-trigger",
                    "transition",
                    f'in workflow "{workflow}"',
                )

    def workflow_ref(self, path: Path, wid: Any) -> bool:
        """Check a reference to a workflow."""
        return self.ref(path, wid, set(self.workflows), "unknown-workflow", "workflow")

    def state_refs(self, path: Path, states: Any, wid: Any) -> None:
        """Check a list of state names against a workflow."""
        if not isinstance(wid, str) or wid not in self.states:
            if isinstance(states, list) and states and not isinstance(wid, str):
                self.err(
                    path,
                    "needs-workflow",
                    "states are named here, so a `workflow` is needed to say whose states they are",
                )
            return
        for i, s in enumerate(_l(states)):
            self.ref(
                (*path, i), s, self.states[wid], "unknown-state", "state", f'in workflow "{wid}"'
            )

    def role_refs(self, path: Path, roles: Any, wid: Any) -> None:
        """Check applicant roles against the workflow that declares them."""
        known = (
            self.roles.get(wid, set())
            if isinstance(wid, str)
            else set().union(*self.roles.values())
            if self.roles
            else set()
        )
        for i, r in enumerate(_l(roles)):
            self.ref(
                (*path, i),
                r,
                known,
                "unknown-role",
                "role",
                "declared under the workflow's `roles`",
            )

    # -- forms -------------------------------------------------------------------------
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

    def _options_from(self, info: FormInfo) -> None:
        d = _d(self.data)
        for q in info.questions.values():
            src = q.get("options_from")
            if isinstance(src, str):
                items = _l(_d(d.get("funding")).get("lots")) if src == "lots" else _l(d.get(src))
                if not items:
                    where = "funding › lots" if src == "lots" else src
                    self.err(
                        ("forms",),
                        "missing-options",
                        f'form "{info.id}" takes question "{q.get("id")}"\'s choices from the '
                        f"programme's {src}, but the programme has no {where}",
                    )

    def form_ref(self, path: Path, name: Any) -> bool:
        """Check a reference to a form the programme uses."""
        return self.ref(
            path, name, set(self.form_workflows), "unknown-form", "form", "under `forms:`"
        )

    # -- eligibility and criteria -------------------------------------------------------
    def _eligibility_and_criteria(self) -> None:
        d = _d(self.data)
        for i, c in enumerate(_l(d.get("eligibility"))):
            c = _d(c)
            wid = c.get("workflow", next(iter(self.workflows), None))
            if "workflow" in c:
                self.workflow_ref(("eligibility", i, "workflow"), c["workflow"])
            self.role_refs(("eligibility", i, "applies_to"), c.get("applies_to"), wid)
        for i, c in enumerate(_l(d.get("criteria"))):
            c = _d(c)
            path: Path = ("criteria", i)
            self.role_refs((*path, "applies_to"), c.get("applies_to"), None)
            if "stage" in c:
                self.form_ref((*path, "stage"), c["stage"])
            if c.get("kind") == "scored" and "scale" not in c:
                self.err(
                    path,
                    "missing-key",
                    f'criterion "{c.get("id")}" is scored, so it needs a "scale"',
                )
            scale = _d(c.get("scale"))
            if _num(scale.get("min")) and _num(scale.get("max")) and scale["min"] >= scale["max"]:
                self.err(
                    (*path, "scale"),
                    "bad-range",
                    f'the scale of criterion "{c.get("id")}" runs from {scale["min"]} to {scale["max"]}; min must be below max',
                )
        weights = [_d(c).get("weight") for c in _l(d.get("criteria"))]
        weights = [w for w in weights if _num(w)]
        if weights and sum(weights) > 100:
            self.err(
                ("criteria",),
                "out-of-range",
                f"the criteria's weights add up to {sum(weights)}%, more than 100%",
            )

    # -- cadences, reminders, service levels, KPIs ---------------------------------------
    def _reviews(self) -> None:
        for i, r in enumerate(_l(_d(self.data).get("reviews"))):
            r = _d(r)
            path: Path = ("reviews", i)
            label = f'cadence "{r.get("id")}"'
            wid = r.get("workflow")
            if "workflow" in r:
                self.workflow_ref((*path, "workflow"), wid)
            if r.get("to_be_agreed") is True and "dates" not in r and "every" not in r:
                pass  # timing to be pinned later: nothing to check yet
            elif ("dates" in r) == ("every" in r):
                self.err(
                    path,
                    "bad-cadence",
                    f"{label} needs either fixed `dates` or `every` (with `start`), not {'both' if 'dates' in r else 'neither'}",
                )
            if "every" in r and "start" not in r:
                self.err(
                    path,
                    "missing-key",
                    f'{label} recurs `every` {r.get("every")}, so it needs a "start" to count from',
                )
            if "start" in r:
                self.anchor((*path, "start"), r["start"], wid, label)
            self.state_refs((*path, "until"), r.get("until"), wid)
            if "form" in r:
                self.form_ref((*path, "form"), r["form"])
            for di, due in enumerate(_l(r.get("due"))):
                self.form_ref((*path, "due", di, "form"), _d(due).get("form"))

    def _reminders(self) -> None:
        for i, r in enumerate(_l(_d(self.data).get("reminders"))):
            r = _d(r)
            path: Path = ("reminders", i)
            wid = r.get("workflow")
            if "workflow" in r:
                self.workflow_ref((*path, "workflow"), wid)
            if "when" in r:
                self.anchor((*path, "when"), r["when"], wid, f'reminder "{r.get("id")}"')
            self.state_refs((*path, "states"), r.get("states"), wid)
            on = r.get("on_missed")
            del on

    def _service_levels(self) -> None:
        for i, s in enumerate(_l(_d(self.data).get("service_levels"))):
            s = _d(s)
            path: Path = ("service_levels", i)
            wid = s.get("workflow")
            if self.workflow_ref((*path, "workflow"), wid) and "within" in s:
                within = _d(s["within"])
                self.anchor((*path, "within"), within, wid, f'service level "{s.get("id")}"')
                if "milestone" in within or "review" in within:
                    self.err(
                        (*path, "within"),
                        "bad-anchor",
                        "a service level counts from a case event: use `entered` or `trigger`",
                    )
                if "after" not in within:
                    self.err(
                        (*path, "within"),
                        "bad-anchor",
                        'a service level needs "after": how long from the event it must be kept',
                    )

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
                "percentage": ["numerator"],
                "matched_change": ["pre", "post"],
            }
            for need in needs.get(str(measure), []):
                if need not in k:
                    self.err(
                        path, "kpi-incomplete", f'{label} is a {measure}, so it needs "{need}"'
                    )
            if "workflow" in k:
                self.workflow_ref((*path, "workflow"), k["workflow"])
            self.state_refs((*path, "states"), k.get("states"), k.get("workflow"))
            form = k.get("form")
            if "form" in k and self.form_ref((*path, "form"), form):
                info = self.forms.get(str(form))
                if info is not None:
                    for fk in ("field", "pre", "post"):
                        if fk in k:
                            self.ref(
                                (*path, fk),
                                k[fk],
                                set(info.questions),
                                "unknown-question",
                                "question",
                                f'in form "{form}"',
                            )
            target, rag = _d(k.get("target")), _d(k.get("rag"))
            green, amber = rag.get("green"), rag.get("amber")
            if _num(green) and _num(amber):
                down = target.get("direction") == "at_most"
                if (not down and green < amber) or (down and green > amber):
                    word = "below" if not down else "above"
                    self.err(
                        (*path, "rag"),
                        "bad-rag",
                        f"{label}'s green threshold ({green}) is {word} its amber one ({amber}); green must be the better result",
                    )

    # -- who the programme reaches ------------------------------------------------------
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
                if infos or not forms:  # forms that could not be read have been reported already
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
        grouped = {m for ms in groups.values() for m in _l(ms)}
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


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _show(span: Span) -> str:
    if span.precision == "minute":
        return span.start.strftime("%-d %B %Y %H:%M")
    if span.precision == "day":
        return span.start.strftime("%-d %B %Y")
    if span.precision == "month":
        return span.start.strftime("%B %Y")
    if span.precision == "year":
        return span.start.strftime("%Y")
    if span.precision == "week":
        return "the week beginning " + span.start.strftime("%-d %B %Y")
    return f"{span.start.strftime('%-d %B %Y')} to {span.end.strftime('%-d %B %Y')}"
