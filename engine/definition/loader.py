"""Programme and form files → every problem at once, or a validated `Programme`.

Order: safe YAML with positions, JSON Schema (format checks on), then cross-reference checks.
Nothing half-loads: `load_programme` either returns a whole programme or raises
`ProgrammeInvalid` carrying every problem in every file involved.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.dates import (
    Duration,
    Span,
    iso,
    parse_duration,
    parse_month,
    parse_timezone,
    parse_week_of,
    parse_when,
)
from engine.definition.checks import FormChecker, FormInfo, ProgrammeChecker, form_info
from engine.definition.extending import Extension, display_name, resolve
from engine.definition.schema_check import load_schema
from engine.definition.schema_check import schema_problems as _schema_problems
from engine.definition.yaml_source import Positions, read_yaml
from engine.errors import Problem, ProgrammeInvalid
from engine.model import Form, Milestone, Programme, Question, State, Transition, Workflow


@dataclass
class Source:
    """One file as read: its text, data, positions and the problems found in it so far."""

    fname: str
    raw: bytes
    data: Any
    positions: Positions
    problems: list[Problem] = field(default_factory=list)
    extension: Extension | None = None  # set when the file `extends:` another

    @property
    def text(self) -> str | None:
        """The file's text, when it is readable UTF-8."""
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError:
            return None


def read_source(path: Path, kind: str, raw: bytes | None = None) -> Source:
    """Read and schema-check one file of `kind` (`programme` or `form`), or `raw` as that file."""
    fname = display_name(path)
    try:
        raw = path.read_bytes() if raw is None else raw
    except OSError as exc:
        return Source(
            fname,
            b"",
            None,
            Positions(),
            [Problem(fname, 1, 1, "unreadable", f"cannot read the file: {exc.strerror}")],
        )
    data, positions, problems = read_yaml(fname, raw)
    src = Source(fname, raw, data, positions, problems)
    if isinstance(data, dict) and "extends" in data:
        merged = resolve(path, fname, data, positions, kind)
        src.data, src.positions, src.extension = merged.data, merged.positions, merged.extension
        src.problems.extend(merged.problems)
        data, positions = merged.data, merged.positions
    if data is None:
        return src
    if not isinstance(data, dict):
        pos = positions.value(())
        what = "a list" if isinstance(data, list) else "a single value"
        src.problems.append(
            Problem(
                fname,
                pos.line,
                pos.col,
                "wrong-type",
                f"a {kind} file must be a mapping of keys to values, not {what}",
            )
        )
        return src
    src.problems.extend(_schema_problems(kind, fname, data, positions))
    return src


def guess_kind(path: Path, data: Any = None) -> str:
    """`form` for files under a `forms` folder or with pages and no workflows; else `programme`."""
    if path.parent.name == "forms":
        return "form"
    if isinstance(data, dict) and "pages" in data and "workflows" not in data:
        return "form"
    return "programme"


def default_forms_dir(programme_path: Path) -> Path:
    """Forms live in `forms/` beside the `programmes/` folder (or beside the file)."""
    parent = programme_path.resolve().parent
    for candidate in (parent.parent / "forms", parent / "forms"):
        if candidate.is_dir():
            return candidate
    return parent.parent / "forms"


class Linter:
    """Checks programme and form files, reading each form once however many programmes use it."""

    def __init__(self) -> None:
        self._forms: dict[Path, tuple[Source, FormInfo | None, list[Problem]]] = {}

    def form(self, path: Path) -> tuple[Source, FormInfo | None, list[Problem]]:
        """Read and check one form file (cached)."""
        key = path.resolve()
        if key not in self._forms:
            self._forms[key] = _checked_form(path)
        return self._forms[key]

    def forms_read(self) -> list[Source]:
        """Every form file read so far, as read (for keeping a published version's files)."""
        return [src for src, _info, _problems in self._forms.values()]

    def programme(
        self,
        path: Path,
        forms_dir: Path | None = None,
        *,
        build: bool = True,
        src: Source | None = None,
    ) -> tuple[Programme | None, dict[str, list[Problem]]]:
        """Check a programme and its forms; the programme when all are clean, and problems by file."""
        src = src or read_source(path, "programme")
        by_file: dict[str, list[Problem]] = {src.fname: list(src.problems)}
        if not isinstance(src.data, dict):
            return None, by_file
        forms_dir = forms_dir or default_forms_dir(path)
        forms: dict[str, FormInfo] = {}
        form_sources: dict[str, Source] = {}
        available = sorted(p.stem for p in forms_dir.glob("*.yaml")) if forms_dir.is_dir() else []
        for i, entry in enumerate(src.data.get("forms") or []):
            fid = entry.get("form") if isinstance(entry, dict) else None
            if not isinstance(fid, str) or fid in forms or fid in form_sources:
                continue
            stem = entry.get("file") if isinstance(entry.get("file"), str) else fid
            fpath = forms_dir / f"{stem}.yaml"
            if not fpath.is_file():
                from engine.definition.schema_check import did_you_mean

                pos = src.positions.value(("forms", i, "file" if stem != fid else "form"))
                where = display_name(forms_dir)
                by_file[src.fname].append(
                    Problem(
                        pos.file or src.fname,
                        pos.line,
                        pos.col,
                        "unknown-form",
                        f'there is no form file "{stem}.yaml" in {where}/{did_you_mean(stem, set(available))}',
                    )
                )
                continue
            fsrc, info, fproblems = self.form(fpath)
            if info is not None and stem != fid and info.data.get("id") != fid:
                pos = src.positions.value(("forms", i, "file"))
                by_file[src.fname].append(
                    Problem(
                        pos.file or src.fname,
                        pos.line,
                        pos.col,
                        "form-id-mismatch",
                        f'the form in "{stem}.yaml" has the id "{info.data.get("id")}", not '
                        f'"{fid}"; a form file named here must build on the form "{fid}"',
                    )
                )
                continue
            form_sources[fid] = fsrc
            if fproblems:
                by_file.setdefault(fsrc.fname, []).extend(fproblems)
            if info is not None:
                forms[fid] = info
        checker = ProgrammeChecker(src.fname, src.data, src.positions, forms, src.text)
        by_file[src.fname].extend(checker.run())
        by_file = {k: sorted(set(v)) for k, v in by_file.items()}
        if any(by_file.values()) or len(form_sources) != len(forms):
            return None, by_file
        if not build:
            return None, by_file
        return _build(path, src, form_sources, checker), by_file

    def file(self, path: Path) -> dict[str, list[Problem]]:
        """Check one file of either kind; problems by file (a programme's forms included)."""
        src = None
        if guess_kind(path) == "programme":
            src = read_source(path, "programme")
            if isinstance(src.data, dict) and guess_kind(path, src.data) == "form":
                src = None
        if src is None:
            fsrc, _info, problems = self.form(path)
            return {fsrc.fname: problems}
        return self.programme(path, build=False, src=src)[1]  # checking needs no model


CheckedForm = tuple[Source, FormInfo | None, list[Problem]]
# Forms checked before, by their name and their bytes: the browser's editor checks a programme
# as it is typed, and its dozen forms have not changed since the last keystroke. A form that
# `extends:` another is always read afresh (its base may have changed). Nothing here is mutated
# after it is made (building a programme deep-copies a form's data).
_CHECKED: OrderedDict[tuple[str, str], CheckedForm] = OrderedDict()
_CHECKED_MAX = 512
_CHECKED_LOCK = threading.Lock()


def _checked_form(path: Path) -> CheckedForm:
    """A form file read and checked, or the same bytes' check from before."""
    try:
        raw = path.read_bytes()
    except OSError:
        return _check_form(path, None)
    if b"extends" in raw:
        return _check_form(path, raw)
    key = (display_name(path), hashlib.sha256(raw).hexdigest())
    with _CHECKED_LOCK:
        if (hit := _CHECKED.get(key)) is not None:
            _CHECKED.move_to_end(key)
            return hit
    checked = _check_form(path, raw)
    with _CHECKED_LOCK:
        _CHECKED[key] = checked
        while len(_CHECKED) > _CHECKED_MAX:
            _CHECKED.popitem(last=False)
    return checked


def _check_form(path: Path, raw: bytes | None) -> CheckedForm:
    src = read_source(path, "form", raw)
    info = None
    problems = list(src.problems)
    if isinstance(src.data, dict):
        # A form that `extends:` another keeps that form's id unless it writes its own.
        written_in = src.positions.value(("id",)).file
        expected = Path(written_in).stem if written_in else path.stem
        info = form_info(expected, src.fname, src.data, src.positions)
        problems += FormChecker(info, expected, src.text).run()
    return src, info, sorted(set(problems))


def load_programme(path: str | Path, forms_dir: str | Path | None = None) -> Programme:
    """Load a programme and its forms, or raise ProgrammeInvalid with every problem found."""
    programme, by_file = Linter().programme(Path(path), Path(forms_dir) if forms_dir else None)
    if programme is None:
        raise ProgrammeInvalid([p for ps in by_file.values() for p in ps])
    return programme


# -- building the model and the normalised document ----------------------------------------


def _question(spec: dict[str, Any]) -> Question:
    return Question(
        id=spec["id"],
        type=spec["type"],
        label=spec["label"],
        required=spec.get("required", True),
        spec=spec,
        questions=tuple(_question(q) for q in spec.get("questions", [])),
    )


def _normal_form(data: dict[str, Any], programme: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in and `options_from` resolved against the programme."""
    form = copy.deepcopy(data)
    sources = {
        "priorities": programme.get("priorities", []),
        "lots": programme.get("funding", {}).get("lots", []),
        "outcomes": programme.get("outcomes", []),
        "services": programme.get("services", []),
    }

    def fix(qs: list[dict[str, Any]]) -> None:
        for q in qs:
            q.setdefault("required", True)
            src = q.get("options_from")
            if src:
                q["options"] = [
                    {
                        "value": item["id"],
                        "label": item.get("title") or item.get("name") or item["id"],
                    }
                    for item in sources[src]
                ]
            fix(q.get("questions", []))

    for page in form["pages"]:
        fix(page["questions"])
    return form


def _span_json(span: Span) -> dict[str, str]:
    return {"start": iso(span.start), "end": iso(span.end), "precision": span.precision}


def _milestone_span(m: dict[str, Any], tz: Any) -> Span:
    if "at" in m:
        s = parse_when(m["at"], tz)
        if "ends" in m:
            e = parse_when(m["ends"], tz)
            return Span(s.start, e.end, "minute" if s.exact and e.exact else "window")
        return s
    if "from" in m:
        return Span(parse_when(m["from"], tz).start, parse_when(m["to"], tz).end, "window")
    if "month" in m:
        return parse_month(m["month"], tz)
    return parse_week_of(m["week_of"], tz)


def _normal_duration(d: Duration) -> str:
    return str(d)


def _normalise(data: dict[str, Any], tz: Any, forms: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The programme as `inspect --json` shows it: dates with offsets, defaults filled, forms resolved."""
    from engine.definition.checks import typed_values

    out = copy.deepcopy(data)
    root = load_schema("programme")
    for path, kind, value in list(typed_values(out, root, root)):
        target = out
        for step in path[:-1]:
            target = target[step]
        if kind == "duration":
            target[path[-1]] = _normal_duration(parse_duration(value))
        elif kind == "datetime":
            span = parse_when(value, tz)
            target[path[-1]] = iso(span.start)
        elif kind == "date":
            span = parse_when(value, tz, allow_time=False)
            target[path[-1]] = {"text": value, **_span_json(span)}
    for m, orig in zip(out.get("timeline", []), data.get("timeline", []), strict=True):
        m.update({"kind": m.get("kind", "event"), **_span_json(_milestone_span(orig, tz))})
    # Every top-level key is present, so readers of `inspect --json` need no special cases.
    for key in ("commissioners", "priorities", "outcomes", "services", "eligibility", "criteria",
                "timeline", "forms", "reviews", "reminders", "service_levels", "kpis", "guidance"):  # fmt: skip
        out.setdefault(key, [])
    for key in ("contract", "funding", "reporting"):
        out.setdefault(key, {})
    out["funding"].setdefault("per", "programme")
    out.setdefault("currency", "GBP")  # optional: a programme with no money need not name one
    for wf in out["workflows"].values():
        for s in wf["states"]:
            s.setdefault("final", False)
        for t in wf["transitions"]:
            if isinstance(t["source"], str) and t["source"] != "*":
                t["source"] = [t["source"]]
            t.setdefault("by", ["scheduler"] if "at" in t else [])
    for r in out.get("reminders", []):
        r.setdefault("on_missed", "if_useful")
    for entry in out.get("forms", []):
        entry.setdefault("repeatable", False)
        entry["definition"] = forms[entry["form"]]
    return out


def _build(
    path: Path, src: Source, form_sources: dict[str, Source], checker: ProgrammeChecker
) -> Programme:
    data = src.data
    tz = parse_timezone(data["timezone"])
    normal_forms = {fid: _normal_form(fs.data, data) for fid, fs in form_sources.items()}
    digest = hashlib.sha256(src.raw)
    for fid in sorted(form_sources):
        digest.update(fid.encode() + b"\0" + form_sources[fid].raw)
    for source in (src, *form_sources.values()):  # a change to a base is a new version too
        for _name, raw in source.extension.raws if source.extension else []:
            digest.update(b"\0" + raw)
    version = digest.hexdigest()[:16]
    normal = {"version": version, **_normalise(data, tz, normal_forms)}
    return programme_from_data(normal, src.fname)


def programme_from_data(normal: dict[str, Any], source: str = "") -> Programme:
    """Rebuild the model from a normalised document (as `inspect --json` shows and the store keeps)."""
    forms = {
        entry["form"]: Form(
            id=entry["form"],
            title=entry["definition"]["title"],
            pages=tuple(
                (p["id"], p["title"], tuple(_question(q) for q in p["questions"]))
                for p in entry["definition"]["pages"]
            ),
            spec=entry["definition"],
        )
        for entry in normal["forms"]
    }
    workflows: dict[str, Workflow] = {}
    for wid, wf in normal["workflows"].items():
        states = tuple(State(s["id"], s["label"], s["final"]) for s in wf["states"])
        non_final = tuple(s.id for s in states if not s.final)
        workflows[wid] = Workflow(
            id=wid,
            title=wf.get("title", wid),
            initial=wf["initial"],
            states=states,
            transitions=tuple(
                Transition(
                    trigger=t["trigger"],
                    sources=non_final if t["source"] == "*" else tuple(t["source"]),
                    dest=t["dest"],
                    by=tuple(t["by"]),
                    spec=t,
                )
                for t in wf["transitions"]
            ),
            roles=tuple(r["id"] for r in wf.get("roles", [])),
        )
    milestones = {
        m["id"]: Milestone(
            m["id"],
            m["label"],
            Span(
                datetime.fromisoformat(m["start"]), datetime.fromisoformat(m["end"]), m["precision"]
            ),
            m.get("kind"),
        )
        for m in normal["timeline"]
    }
    return Programme(
        id=normal["id"],
        name=normal["name"],
        timezone=normal["timezone"],
        version=normal["version"],
        source=source,
        workflows=workflows,
        forms=forms,
        milestones=milestones,
        data=normal,
    )
