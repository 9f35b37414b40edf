"""What callers may rely on in a store, as typed protocols: one per table family, and
`StoreContract`, all of them together.

The runtime, reporting, web and scheduler use a store through these methods and nothing else.
`Store` (engine.store.database) implements `StoreContract` on SQLite and on PostgreSQL alike,
so the choice of database needs no change in any caller.
tests/test_store_contract.py proves `Store` matches every signature here and has no public method
the contract leaves out.

Rows are plain dicts keyed by column, the same keys and the same JSON columns decoded or not
on both databases; times are ISO 8601 strings. A store raises the errors of engine.errors
(`StaleCase`, `EmailTaken`, `DatabaseError`), never its driver's own. `Store.execute`,
`Store.execute_many`, `Store.write` and `Store.write_many` are no part of the contract: SQL
stays behind these methods.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from engine.store.draft_contract import DraftStore
from engine.store.organisation_contract import OrganisationStore
from engine.store.panel_contract import PanelStore
from engine.store.people_contract import AccountStore, StaffStore
from engine.store.privacy_contract import PrivacyStore


class TransactionStore(Protocol):
    """The database itself: where it is, its schema version, upgrades and transactions."""

    path: str
    kind: str

    def schema_version(self) -> int:
        """The schema version recorded in the database (0 for a new one)."""

    def upgrade(self) -> list[int]:
        """Apply every migration the database lacks, each in its own transaction; the versions applied."""

    def transaction(self, *, serial: bool = True) -> AbstractContextManager[None]:
        """All of an action or none of it, re-entrant; `serial`: one writer at a time, as on SQLite."""

    def one_at_a_time(self, name: str, *, wait: bool = True) -> AbstractContextManager[None]:
        """A lock every process on the database honours; waits for it (not `wait`: raises Busy)."""

    def table_names(self) -> list[str]:
        """The tables in the database, for copying one database into another."""

    def close(self) -> None:
        """Let go of the database (the process may go on without it)."""


class ProgrammeStore(Protocol):
    """Programme versions: the normalised document each case is pinned to."""

    def save_programme_version(
        self, programme_id: str, version: str, data: dict[str, Any], source: str, now: str
    ) -> bool:
        """Register a version; False when it was already registered."""

    def programme_data(self, programme_id: str, version: str) -> dict[str, Any] | None:
        """The normalised document of one version."""

    def latest_version(self, programme_id: str) -> str | None:
        """The most recently published version of a programme."""

    def programme_ids(self) -> list[str]:
        """Every programme with at least one published version."""

    def versions(self, programme_id: str) -> list[dict[str, Any]]:
        """Each version with when it was published and how many cases it has."""


class CaseStore(Protocol):
    """One case at a time (or a few read together): its row, answers, record drafts, children and
    audit log."""

    def insert_case(self, row: dict[str, Any], prefix: str) -> int:
        """Create a case row; returns its id and gives it a reference such as `ABC-000042`."""

    def case(self, case_id: int) -> dict[str, Any] | None:
        """One case row, with its JSON columns decoded."""

    def case_by_reference(self, reference: str) -> dict[str, Any] | None:
        """The case with this reference (e.g. `LIV-000042`), as `case`."""

    def move_case(
        self,
        case_id: int,
        revision: int,
        state: str,
        flags: dict[str, Any],
        entered: dict[str, str],
        now: str,
    ) -> int:
        """Compare-and-set the case's state; raises StaleCase if someone else moved it first."""

    def set_case_lot(self, case_id: int, lot: str | None) -> None:
        """Put a case in a lot (its one lot: the start, its answers and its award agree)."""

    def set_case_label(self, case_id: int, label: str | None) -> None:
        """Keep the answer that labels a case in lists on the case (searched without its answers)."""

    def touch_case(self, case_id: int, revision: int, now: str) -> int:
        """Bump a case's revision (answers changed) with the same compare-and-set."""

    def change_case_version(self, case_id: int, revision: int, version: str, now: str) -> int:
        """Pin a case to another version of its programme, with the same compare-and-set."""

    def cases_by_version(self, programme_id: str, version: str | None = None, workflow: str | None = None,
                         state: str | None = None, *, limit: int = 0, offset: int = 0) -> list[dict[str, Any]]:  # fmt: skip
        """Case counts by version, workflow and state; with `limit`, the cases of one, oldest first."""

    def children(self, case_id: int) -> list[int]:
        """Cases started from this one (e.g. the contract of an application)."""

    def save_answers(
        self,
        case_id: int,
        form_id: str,
        record_no: int,
        data: dict[str, Any],
        now: str,
        submitted: bool,
    ) -> None:
        """Insert or replace one form's answers (or one record of a repeatable form)."""

    def mark_submitted(self, case_id: int, form_id: str, now: str) -> None:
        """Mark a form's answers as submitted (they stop being a draft)."""

    def answers(self, case_id: int) -> list[dict[str, Any]]:
        """Every form's answers and records for a case, in the order they were made."""

    def case_with_answers(
        self, case: int | str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """A case by id or reference, as `case`, with its answers as `answers`: one statement."""

    def case_with_facts(
        self, case: int | str
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]] | None:
        """A case with its answers (as `case_with_answers`) and `plan_facts`, in one round trip."""

    def insert_case_with_facts(
        self, row: dict[str, Any], prefix: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """`insert_case` on the newest version only (else None): its row and `plan_facts`, one round trip."""

    def next_record_no(self, case_id: int, form_id: str) -> int:
        """The number the next record of a repeatable form gets (1, 2, …)."""

    def record_draft(self, case_id: int, form_id: str) -> dict[str, Any] | None:
        """The answers so far of a record being filled in, if any."""

    def save_record_draft(
        self, case_id: int, form_id: str, data: dict[str, Any], who: str | None, now: str
    ) -> None:
        """Keep the answers so far of a record being filled in."""

    def delete_record_draft(self, case_id: int, form_id: str) -> None:
        """Forget a record's draft (it was recorded, or discarded)."""

    def audit(
        self,
        case_id: int,
        at: str,
        role: str,
        actor_id: str | None,
        action: str,
        from_state: str | None,
        to_state: str | None,
        version: str,
        detail: dict[str, Any],
    ) -> None:
        """Append one event to the case's audit log."""

    def history(self, case_id: int) -> list[dict[str, Any]]:
        """The case's audit log, oldest first."""

    def fired(self, case_id: int, action: str) -> str | None:
        """When the action was last taken on the case, if ever."""

    def fired_all(self, case_id: int) -> dict[str, str]:
        """When each action was last taken on a case."""

    def histories_of(self, case_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Each of these cases' audit logs, as `history` gives one, by case."""

    def cases_of(self, case_ids: list[int]) -> dict[int, dict[str, Any]]:
        """These cases' rows, as `case` gives one, by id (any not found left out)."""

    def fired_of(self, case_ids: list[int]) -> dict[int, dict[str, str]]:
        """When each action was last taken on each of these cases, as `fired_all`, by case."""


class MoneyStore(Protocol):
    """Awards made on cases and payments against them."""

    def award_totals(self, programme_id: str) -> dict[str, Any]:
        """How many awards, how much in total, and how much and how many per lot."""

    def awards(self, programme_id: str) -> list[dict[str, Any]]:
        """Every award of a programme, in the order made."""

    def insert_award(
        self, case_id: int, programme_id: str, lot: str | None, amount: int, now: str
    ) -> None:
        """Record an award against the programme (and lot)."""

    def award_for(self, case_ids: list[int]) -> dict[str, Any] | None:
        """The award made on any of these cases (an application and the contract it started)."""

    def insert_payment(self, case_id: int, amount: int, now: str) -> None:
        """Record a payment made on a case."""

    def payments(self, case_id: int) -> list[dict[str, Any]]:
        """Payments made on a case."""

    def programme_payments(self, programme_id: str) -> list[dict[str, Any]]:
        """Every payment made on a programme's cases, in the order made."""


class ScheduleStore(Protocol):
    """The scheduler's rows: reminders planned, claimed and finished, pinned dates, the outbox."""

    def plan_rows(self, rows: list[dict[str, Any]]) -> None:
        """Insert reminder rows that are not there yet (the key makes planning idempotent)."""

    def plan_facts(self, case_id: int, programme_id: str) -> dict[str, Any]:
        """What re-planning a case reads, in one query: fired actions, pinned dates, pending keys."""

    def cancel_rows(self, keys: set[str], now: str) -> None:
        """Cancel pending rows by key (their case's facts no longer call for them)."""

    def programme_pending_keys(self, programme_id: str) -> set[str]:
        """The keys of a programme's pending rows about the round itself (no case)."""

    def due_reminders(self, now: str, limit: int) -> list[dict[str, Any]]:
        """Pending rows due by `now`, oldest first."""

    def reminder(self, reminder_id: int) -> dict[str, Any] | None:
        """One reminder row."""

    def claim_reminder(self, reminder_id: int) -> bool:
        """Compare-and-set a pending row to `working`; False if someone else has it or finished it."""

    def finish_reminder(self, reminder_id: int, status: str, note: str, now: str) -> None:
        """Set a claimed row to sent, skipped or back to pending (with when and why)."""

    def reminders_for(self, case_id: int) -> list[dict[str, Any]]:
        """A case's reminder rows, in due order."""

    def pins(self, programme_id: str) -> dict[str, str]:
        """Dates the commissioner has pinned: target → ISO time."""

    def pin(self, programme_id: str, target: str, at: str, who: str, now: str) -> None:
        """Pin a vague date (a meeting known by its month) to a moment."""

    def queue_message(self, message: dict[str, Any]) -> None:
        """Put a message in the outbox once per reminder and recipient (`failed_at`: never to send)."""

    def add_outbox_message(
        self,
        to_address: str,
        subject: str,
        body: str,
        now: str,
        *,
        to_role: str = "applicant",
        programme_id: str = "",
        organisation_id: str | None = None,
    ) -> int:
        """Queue a message that no reminder caused (a password reset link) in the outbox."""

    def undelivered(self, limit: int, now: str | None = None) -> list[dict[str, Any]]:
        """Messages still to send: not delivered, not given up on, not claimed by another at `now`."""

    def claim_messages(self, message_ids: list[int], sender: str, now: str, until: str) -> set[int]:
        """Claim messages for one sender until `until`: the ids it won (not sent, given up or claimed)."""

    def mark_delivered(self, message_id: int, backend: str, now: str) -> None:
        """Record that a message was handed over."""

    def mark_not_delivered(self, message_id: int, error: str, now: str, *, give_up: bool) -> None:
        """Count a failed try and its reason; with `give_up`, stop trying for good."""

    def not_delivered(self, programme_id: str) -> list[dict[str, Any]]:
        """A programme's messages given up on, newest first, with why."""

    def outbox_for(self, to_address: str) -> list[dict[str, Any]]:
        """Messages queued for one address, newest first."""


class AssessmentStore(Protocol):
    """Assessors' assessments of cases and the conflicts they declared."""

    def save_assessment(self, row: dict[str, Any]) -> None:
        """Insert or replace one assessor's assessment of a case."""

    def assessments(self, case_id: int) -> list[dict[str, Any]]:
        """Every assessor's assessment of a case (and declared conflicts), in the order made."""

    def assessments_by(self, assessor: str) -> dict[int, dict[str, Any]]:
        """One assessor's assessments and conflicts, by case id."""


class ReportingStore(Protocol):
    """Read-only reads across many cases, for lists, dashboards, KPIs and exports."""

    def programme_cases(self, programme_id: str) -> list[dict[str, Any]]:
        """Every case of a programme, JSON columns decoded (for KPIs and exports)."""

    def cases_by_state(self, programme_id: str, workflow: str | None = None) -> dict[str, int]:
        """How many cases are in each state."""

    def revision(self) -> tuple[str, int]:
        """The database and its newest audit row's id: every change to a case writes one."""

    def programme_changed(self, programme_id: str, after: int, upto: int) -> bool:
        """Whether any audit row after `after`, up to `upto`, is of a case of the programme."""

    def programme_cases_changed(self, programme_id: str, after: int, upto: int) -> set[int]:
        """The programme's cases with an audit row after `after`, up to `upto`."""

    def kept_figures(self, key: str) -> tuple[int, bytes] | None:
        """The figures kept under a key and the audit row they are up to date with, if any."""

    def keep_figures(self, programme_id: str, key: str, checked: int, body: bytes, now: str) -> bool:  # fmt: skip
        """Keep a programme's figures as of audit row `checked`, unless newer ones are kept or a case was erased since; whether kept."""

    def programme_cases_of(self, programme_id: str, case_ids: list[int]) -> list[dict[str, Any]]:
        """These cases of the programme, as `programme_cases` gives them (the others left out)."""

    def case_organisations(self, programme_id: str, workflows: list[str]) -> list[str]:
        """The organisations holding any case of these workflows of a programme."""

    def cases_after(
        self, programme_id: str, workflow: str | None, after: int, limit: int
    ) -> list[dict[str, Any]]:
        """The next `limit` cases of a programme (of one workflow, if given) after case `after`, by id."""

    def answers_of(self, case_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Every answer and record of these cases, by case, in the order they were made."""

    def case_times(
        self, programme_id: str, cases: tuple[int, int] | None = None
    ) -> list[tuple[str, str | None, str, str | None, str | None]]:
        """Each case of a programme (ids in `cases`, if given) as (created, changed, workflow, organisation, lot)."""

    def case_buckets(self, programme_id: str, size: int) -> list[int]:
        """Which runs of `size` case ids hold any case of the programme (id // size), in order."""

    def organisation_case_counts(self, programme_id: str) -> list[tuple[str, int]]:
        """How many cases each organisation holds in a programme, most first."""

    def state_counts(self, programme_id: str) -> dict[str, dict[str, int]]:
        """How many of a programme's cases of each workflow are in each state (one indexed query)."""

    def flagged_cases(self, programme_id: str, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """How many of a programme's cases have a flag raised, and the first `limit` of them."""

    def case_links(self, case_ids: list[int]) -> dict[int, tuple[int | None, str | None]]:
        """Each case's parent (the case it was started from) and lot."""

    def list_cases(
        self,
        programme_id: str,
        *,
        workflow: str | None = None,
        state: str | None = None,
        organisation_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Cases of a programme, newest first, filtered as asked."""

    def cases_for_organisation(self, organisation_id: str) -> list[dict[str, Any]]:
        """Every case of an organisation, across programmes, newest first."""

    def organisation_cases(self, organisation_id: str) -> list[dict[str, Any]]:
        """An organisation's cases with their subject and flags decoded, newest first."""

    def organisation_case_kinds(self, organisation_id: str) -> list[tuple[str, str, str]]:
        """The (programme, version, workflow) of an organisation's cases about people."""

    def organisation_cases_in(
        self, organisation_id: str, scope: list[tuple[str, str, str, list[str]]]
    ) -> list[dict[str, Any]]:
        """An organisation's cases about people of these (programme, version, workflow, states), newest first."""

    def last_actions(self, case_ids: list[int], actions: list[str]) -> dict[int, dict[str, str]]:
        """When each of these actions was last taken on each of these cases, by case."""

    def organisation_flagged(
        self, organisation_id: str, programme_ids: list[str] | None
    ) -> list[dict[str, Any]]:
        """An organisation's cases about people with any flag set, newest first (None: every programme)."""

    def cases_in_states(
        self, programme_id: str | None, workflow: str | None, states: list[str]
    ) -> list[dict[str, Any]]:
        """Cases (of one programme and workflow, or all) in any of these states, oldest first."""

    def workflow_cases(
        self, programme_id: str, workflow: str | None, states: list[str] | None,
        answers: bool = True, cases: tuple[int, int] | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Cases of a workflow that are or were in some states, with their answers, for KPIs."""

    def programme_answers(
        self, programme_id: str, cases: tuple[int, int] | None = None
    ) -> dict[int, list[dict[str, Any]]]:
        """Every answer and record of every case of a programme, by case, in one query."""

    def form_entries(
        self, programme_id: str, form_id: str, cases: tuple[int, int] | None = None
    ) -> list[dict[str, Any]]:
        """Every submitted answer set of one form, with its case's facts (for KPIs over returns)."""

    def state_changes(self, case_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        """Each case's moves from the audit log, oldest first: (when, the state it moved to)."""

    def first_event(self, programme_id: str, anchor: dict[str, Any]) -> str | None:
        """When any case of the programme first took an action or entered a state (an anchor)."""

    def first_events(
        self, programme_id: str, event: dict[str, Any], cases: tuple[int, int] | None = None
    ) -> dict[int, str]:
        """When each case of a programme first took an action or entered a state, by case."""

    def overdue_reminders(
        self, programme_id: str, now: str, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Pending reminder rows of a programme whose time has passed, oldest first (up to `limit`)."""

    def overdue_count(self, programme_id: str, now: str) -> int:
        """How many of a programme's pending reminder rows are past their time."""

    def pending_for_organisation(self, organisation_id: str, until: str) -> list[dict[str, Any]]:
        """Pending reminder rows and checks on an organisation's cases due by `until`, soonest first."""


class ListingStore(Protocol):
    """Lists of cases a page at a time, searched, filtered and sorted by the database.

    `scope`: (programme, workflow or None, state or None) triples a case must match one of;
    `search`: a reference's start or number, or part of an organisation's name or a label, in any
    case of letters;
    `labels`: whether the list shows each case's label (its label question's answer, kept on the
    case) and searches it;
    `not_conflicted`: an assessor whose declared conflicts (and, once a programme assigns
    work, the cases not assigned to them) are left out; `sort`: one of
    `engine.store.listing.SORTS` (newest, oldest, reference, changed, organisation, due).
    """

    def find_cases(
        self,
        *,
        scope: list[tuple[str, str | None, str | None]] | None = None,
        organisation_id: str | None = None,
        about_people: bool | None = None,
        workflow: str | None = None,
        state: str | None = None,
        search: str = "",
        labels: bool = False,
        not_conflicted: str | None = None,
        sort: str = "newest",
        limit: int = 25,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many cases match, and one page of them with their organisation, label, next due and opener."""


class StoreContract(
    TransactionStore,
    ProgrammeStore,
    OrganisationStore,
    CaseStore,
    MoneyStore,
    ScheduleStore,
    AccountStore,
    StaffStore,
    PrivacyStore,
    AssessmentStore,
    PanelStore,
    DraftStore,
    ReportingStore,
    ListingStore,
    Protocol,
):
    """Everything a store offers: what SQLite's `Store` and a PostgreSQL store both implement."""
