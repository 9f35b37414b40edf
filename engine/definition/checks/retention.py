"""Retention rules: the workflow, the states and the moment each counts from."""

from __future__ import annotations

from engine.definition.checks.base import _d, _l
from engine.definition.checks.index import ProgrammeIndex
from engine.definition.yaml_source import Path


class RetentionChecks(ProgrammeIndex):
    """`retention`: every name a rule uses exists in its workflow or the timeline."""

    def _retention(self) -> None:
        rules = _l(_d(self.data).get("retention"))
        self.unique_ids(rules, ("retention",), what="retention rule")
        for i, r in enumerate(rules):
            r = _d(r)
            path: Path = ("retention", i)
            wid = r.get("workflow")
            if "workflow" in r and not self.workflow_ref((*path, "workflow"), wid):
                continue  # reported where the workflow is named: its states cannot be checked
            self.state_refs((*path, "states"), r.get("states"), wid)
            if "from" in r:
                self.anchor((*path, "from"), r["from"], wid, f'retention rule "{r.get("id")}"',
                            pausable=False)  # fmt: skip
