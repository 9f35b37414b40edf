"""The forms a programme attaches to its workflows under `forms:`.

Each is attached once per workflow, at states and for roles that exist, and a question that takes
its choices from a programme list (`options_from`) needs that list to have items.
"""

from __future__ import annotations

from engine.definition.checks.base import _d, _l
from engine.definition.checks.forms import FormInfo
from engine.definition.checks.index import ProgrammeIndex
from engine.definition.yaml_source import Path


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
