"""The timeline and the cadences of reviews.

Milestones must parse, windows must close after they open and the timeline must be listed in
order; a cadence needs fixed dates or a recurrence with a start, and names what exists.
"""

from __future__ import annotations

from typing import Any

from engine.dates import DateError, Span, parse_month, parse_week_of, parse_when
from engine.definition.checks.base import _d, _l
from engine.definition.checks.index import ProgrammeIndex, _show
from engine.definition.yaml_source import Path


class TimelineChecks(ProgrammeIndex):
    """Milestones in order with readable dates, and cadences with a timing."""

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

    def _windows(self) -> None:
        """A workflow's `opens` and `closes` name milestones, and it closes after it opens."""
        for wid, wf in _d(_d(self.data).get("workflows")).items():
            wf = _d(wf)
            for key in ("opens", "closes"):
                if key in wf:
                    self.milestone(("workflows", wid, key), wf[key])
            opens, closes = (
                self.spans.get(n) if isinstance(n := wf.get(k), str) else None
                for k in ("opens", "closes")
            )
            if opens is not None and closes is not None and closes.end <= opens.start:
                self.err(
                    ("workflows", wid, "closes"),
                    "bad-window",
                    f'workflow "{wid}" closes ({_show(closes)}) before it opens ({_show(opens)}); '
                    "name a `closes` milestone that comes after its `opens` milestone",
                )

    def _reviews(self) -> None:
        for i, r in enumerate(_l(_d(self.data).get("reviews"))):
            r = _d(r)
            path: Path = ("reviews", i)
            label = f'cadence "{r.get("id")}"'
            wid = r.get("workflow")
            if "workflow" in r:
                self.workflow_ref((*path, "workflow"), wid)
            timings = [k for k in ("dates", "every", "at") if k in r]
            if r.get("to_be_agreed") is True and not timings:
                pass  # timing to be pinned later: nothing to check yet
            elif len(timings) != 1:
                self.err(
                    path,
                    "bad-cadence",
                    f"{label} needs one timing: fixed `dates`, `every` (with `start`) or once `at` "
                    f"a moment, not {' and '.join(f'`{k}`' for k in timings) if timings else 'none'}",
                )
            if "at" in r:
                self.anchor((*path, "at"), r["at"], wid, label, pausable=False)
                if "start" in r:
                    self.err(
                        (*path, "start"),
                        "bad-cadence",
                        f"{label} happens once `at` a moment, so it has no `start` to recur from; "
                        "remove `start`, or use `every` for a cadence that recurs",
                        key=True,
                    )
            if "every" in r and "start" not in r:
                self.err(
                    path,
                    "missing-key",
                    f'{label} recurs `every` {r.get("every")}, so it needs a "start" to count from',
                )
            if "start" in r:
                self.anchor((*path, "start"), r["start"], wid, label, pausable=False)
            self.state_refs((*path, "until"), r.get("until"), wid)
            if "form" in r:
                self.form_ref((*path, "form"), r["form"])
            for di, due in enumerate(_l(r.get("due"))):
                self.form_ref((*path, "due", di, "form"), _d(due).get("form"))
