"""The programme studio: a commissioner's drafts of a programme's files, checked as they type,
and published from the browser.

A draft is a copy of the files a published version was built from (or, for next year's round, a
small file that `extends:` this year's, beside a copy of it). Saving keeps who and when; two
people saving the same draft cannot overwrite each other unawares (each save names the revision
it was made on). Publishing is refused while the linter finds a problem, writes the version and
its files in one transaction, and is written to the service log.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import moment_in_words, stored_moment
from engine.definition.next_round import round_file
from engine.definition.schema_check import did_you_mean
from engine.definition.workspace import files_of, lint_files, load_files
from engine.definition.yaml_source import read_yaml
from engine.errors import ActionRefused, EngineError, NotFound, Problem, ProgrammeInvalid
from engine.model import Programme
from engine.runtime.core import EngineCore
from engine.runtime.views import Actor
from engine.timeline.planner import plan_programme

PROGRAMME_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
EDIT, NEXT_ROUND = "edit", "next round"


class StudioService(EngineCore):
    """Drafts of programmes: open, save, check, preview and publish them."""

    # -- opening ---------------------------------------------------------------------------
    def published_files(self, programme_id: str, actor: Actor) -> tuple[str, dict[str, str]]:
        """The newest published version's main file name and its files."""
        self._reach(programme_id, actor)
        programme = self.programme(programme_id)
        files = self.store.version_files(programme_id, programme.version)
        if files is None:
            # published before versions kept their files: read them from where they were published
            files = self._files_on_disk(programme)
        main = next((n for n in files if n.startswith("programmes/") and _id_of(files[n]) == programme_id), None)  # fmt: skip
        if main is None:
            raise NotFound(f"the files of {programme.name} were not kept, so it cannot be edited here; publish it again with `commission publish`")  # fmt: skip
        return main, files

    def _files_on_disk(self, programme: Programme) -> dict[str, str]:
        kept = next((v["source"] for v in self.store.versions(programme.id) if v["version"] == programme.version), "")  # fmt: skip
        source = Path(kept or "")
        if not source.is_file():
            return {}
        files = files_of(source)
        try:
            if load_files(files, f"programmes/{source.name}").version != programme.version:
                return {}  # the file changed since: it is not the published version any more
        except ProgrammeInvalid:
            return {}
        return files

    def open_draft(self, programme_id: str, actor: Actor) -> int:
        """A draft of a programme's newest published version for this person: the one they have
        open already, if any (pressing "Edit" twice opens one draft), or a new one; its id."""
        main, files = self.published_files(programme_id, actor)
        with self.store.transaction():  # two presses at once still make one draft
            version = self.store.latest_version(programme_id)
            mine = [d["id"] for d in self.store.drafts([programme_id])
                    if d["purpose"] == EDIT and d["created_by"] == actor.id and d["base_version"] == version]  # fmt: skip
            if mine:
                return mine[0]  # newest saved first
            return self.store.create_draft(programme_id, EDIT, main, files, version, actor.id, self._stamp())  # fmt: skip

    def next_round_draft(self, programme_id: str, new_id: str, actor: Actor) -> int:
        """A draft of next year's round: a small file that extends this one's; its id."""
        main, files = self.published_files(programme_id, actor)
        new_id = new_id.strip()
        if not PROGRAMME_ID.match(new_id):
            raise ActionRefused(
                "Enter a short name for the new round using lower case letters, numbers and "
                "underscores, starting with a letter, for example grants_2027"
            )
        if new_id in self.store.programme_ids() or f"programmes/{new_id}.yaml" in files:
            raise ActionRefused(f"A programme called {new_id} exists already: choose another short name")  # fmt: skip
        data, _positions, problems = read_yaml(main, files[main].encode("utf-8"))
        if problems or not isinstance(data, dict):
            raise ActionRefused("The published file cannot be read: publish it again first")
        new_main = f"programmes/{new_id}.yaml"
        text = round_file(Path(main), Path(new_main), data, new_id)
        files = {**files, new_main: text}
        version = self.store.latest_version(programme_id)
        return self.store.create_draft(programme_id, NEXT_ROUND, new_main, files, version, actor.id, self._stamp())  # fmt: skip

    # -- reading and saving ----------------------------------------------------------------
    def draft(self, draft_id: int, actor: Actor) -> dict[str, Any]:
        """A draft the actor may edit (NotFound for anyone else, as for a draft that is not there)."""
        row = self.store.draft(draft_id)
        if row is None or not actor.covers(row["programme_id"]):
            raise NotFound(f"there is no draft {draft_id}")
        return row

    def save_draft_file(self, draft_id: int, name: str, text: str, revision: int, actor: Actor) -> int:  # fmt: skip
        """Save one file of a draft over the revision it was edited from; the new revision."""
        row = self.draft(draft_id, actor)
        if name not in row["files"]:
            raise NotFound(f'this draft has no file "{name}"{did_you_mean(name, set(row["files"]))}')  # fmt: skip
        self._open(row)
        files = {**row["files"], name: text.replace("\r\n", "\n")}
        with self.store.transaction():
            if not self.store.save_draft(draft_id, files, row["main_file"], revision, actor.id, self._stamp()):  # fmt: skip
                raise self._saved_since(draft_id)
        return revision + 1

    def _saved_since(self, draft_id: int) -> ActionRefused:
        row = self.store.draft(draft_id) or {}
        if row.get("published_version") or row.get("closed_at"):
            return ActionRefused("This draft has been published or discarded since you opened it: start a new draft to make more changes")  # fmt: skip
        tz = ZoneInfo(self.programme(row["programme_id"]).timezone)
        when = moment_in_words(stored_moment(row["saved_at"]), tz)
        return ActionRefused(
            f"{row.get('saved_by', 'Someone')} saved this draft at {when}, after you opened it. "
            "Copy your changes, open the draft again and make them there"
        )

    @staticmethod
    def _open(row: dict[str, Any]) -> None:
        if row["published_version"] or row["closed_at"]:
            raise ActionRefused("This draft has been published or discarded: start a new draft to make more changes")  # fmt: skip

    def discard_draft(self, draft_id: int, revision: int, actor: Actor) -> None:
        """Throw a draft away (it stays in the database, closed)."""
        row = self.draft(draft_id, actor)
        self._open(row)
        with self.store.transaction():
            if not self.store.close_draft(draft_id, revision, self._stamp()):
                raise self._saved_since(draft_id)

    # -- checking --------------------------------------------------------------------------
    def lint_draft(self, draft_id: int, actor: Actor, edited: dict[str, str] | None = None) -> dict[str, list[Problem]]:  # fmt: skip
        """Every problem in the draft (with the text being edited in place of what is saved)."""
        row = self.draft(draft_id, actor)
        files = {**row["files"], **{k: v for k, v in (edited or {}).items() if k in row["files"]}}
        try:
            return lint_files(files, row["main_file"])
        except EngineError as exc:
            return {row["main_file"]: [Problem(row["main_file"], 1, 1, "draft", str(exc))]}

    def draft_programme(self, draft_id: int, actor: Actor) -> Programme:
        """The programme the draft makes (ProgrammeInvalid with every problem while it has any)."""
        row = self.draft(draft_id, actor)
        return load_files(row["files"], row["main_file"])

    def draft_changes(self, draft_id: int, actor: Actor) -> tuple[Programme, list[dict[str, Any]] | None, Programme | None]:  # fmt: skip
        """The draft's programme, what publishing it changes, and what it was compared with: its
        published version, or (for next year's round) the round it was started from; no changes
        (None) for a programme with nothing to compare."""
        row = self.draft(draft_id, actor)
        programme = load_files(row["files"], row["main_file"])
        if not actor.covers(programme.id) and programme.id in self.store.programme_ids():
            raise ActionRefused("This draft now has the short name of a programme you do not commission: change its id")  # fmt: skip
        changed = self.changes_from_published(programme)  # type: ignore[attr-defined]
        if changed is not None:
            return programme, changed, self.programme(programme.id)
        if row["programme_id"] != programme.id:
            base = self.programme(row["programme_id"])
            return programme, self.changes_between(base, programme), base  # type: ignore[attr-defined]
        return programme, None, None

    # -- publishing ------------------------------------------------------------------------
    def publish_draft(self, draft_id: int, revision: int, actor: Actor) -> tuple[Programme, bool]:
        """Publish the draft as a version of its programme; (programme, whether the version is new)."""
        row = self.draft(draft_id, actor)
        self._open(row)
        try:
            programme = load_files(row["files"], row["main_file"])
        except ProgrammeInvalid as exc:
            count = len(exc.problems)
            raise ActionRefused(
                f"This draft has {count} problem{'s' if count != 1 else ''}: put "
                f"{'them' if count != 1 else 'it'} right before publishing",
                [p.message for p in exc.problems[:10]],
            ) from exc
        known = programme.id in self.store.programme_ids()
        if known and not actor.covers(programme.id):
            raise ActionRefused("This draft has the short name of a programme you do not commission: change its id")  # fmt: skip
        stamp = self._stamp()
        with self.store.transaction():
            if not self.store.close_draft(draft_id, revision, stamp, programme.version):
                raise self._saved_since(draft_id)
            new = self.store.save_programme_version(programme.id, programme.version, programme.data, f"draft {draft_id}", stamp)  # fmt: skip
            self.store.keep_version_files(programme.id, programme.version, row["files"], actor.id)
            if new:
                plan_programme(self.store, programme, self.now())
            if not known and row["programme_id"] != programme.id:
                self._same_people(row["programme_id"], programme.id, actor)
            self.store.log_service(stamp, actor.role, actor.id, "programme published",
                                   programme_id=programme.id, subject=programme.id,
                                   detail={"version": programme.version, "draft": draft_id,
                                           "new_version": new, "from": row["programme_id"]})  # fmt: skip
        self._programmes[(programme.id, programme.version)] = programme
        return programme, new

    def _same_people(self, base_id: str, new_id: str, actor: Actor) -> None:
        """Staff with a role in this year's round hold it in next year's (scoped roles included)."""
        for held in self.store.staff_roles():
            if held["programme_id"] == base_id:
                self.store.grant_role(held["user_id"], held["role"], new_id, held["organisation_id"], actor.id, self._stamp())  # fmt: skip


def _id_of(text: str) -> str | None:
    """The `id:` written at the top of a programme file, read without loading it."""
    m = re.search(r"^id:\s*['\"]?([a-z][a-z0-9_]*)", text, re.M)
    return m.group(1) if m else None
