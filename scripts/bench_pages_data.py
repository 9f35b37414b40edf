"""The databases scripts/bench_pages.py times pages on, written as the engine writes its rows.

Here the rows (`Rows`, `Case`) and the referral database (bench_pages_applications.py has the
other):
- referrals: programmes/bradford.yaml's `referral` workflow: people referred across 20 provider
  organisations, with their referral, contact records, interviews, action plans, reviews and
  step up / step down / discharge records, the audit rows each save and action leaves (contacts
  spread so the audit reaches the number asked for), and the service level's reminder rows;
Rows go in with `execute_many`, a few thousand cases a transaction, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from bench_common import ROOT

from engine.runtime import Engine
from engine.runtime.labels import label_of

REFERRALS_NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)  # 14 months into Bradford's service
SERVICE_START = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
PROVIDERS = [
    "Horton Park Wellbeing", "Keighley Healthy Living", "Shipley Community Minds", "Bingley Together",
    "Manningham Mind Matters", "Eccleshill Family Centre", "Thornton Village Hub", "Wyke Community Trust",
    "Allerton Neighbours", "Baildon Wellbeing Café", "Girlington Women's Network", "Holme Wood Voices",
    "Idle Support Circle", "Laisterdyke Link", "Queensbury Friends", "Saltaire Peer Support",
    "Tong Valley Trust", "Undercliffe Open Door", "Wibsey Connect", "Windhill Community Care",
]  # fmt: skip
REFERRAL_SOURCES = ["primary_care", "first_response", "cmht", "social_care", "mdt", "other"]
LOCALITIES = ["pcn_4", "pcn_5", "pcn_6", "pcn_7", "affinity", "bradford_north_west", "wishh",
              "five_le", "bingley_bubble"]  # fmt: skip
POSTCODES = ["BD1", "BD2", "BD3", "BD5", "BD6", "BD7", "BD8", "BD9", "BD10", "BD15", "BD16", "BD18"]
CONTACT_KINDS = ["community_location", "co_located", "phone", "phone", "video", "group"]
SUPPORT = ["one_to_one", "peer_support", "navigation", "financial", "housing", "community_activity",
           "physical_health", "mental_health_professional"]  # fmt: skip
ETHNICITIES = ["white_british", "asian_pakistani", "asian_indian", "asian_bangladeshi", "black_african",
               "mixed_white_asian", "white_other", "prefer_not_to_say"]  # fmt: skip
GOALS = [("Sleep through most nights", "mental_health"), ("Sort out council tax arrears", "money"),
         ("Go to a weekly group on my own", "connection"), ("Walk to the park twice a week", "physical_health"),
         ("Find somewhere safe to live", "housing"), ("Cut down on drinking", "drug_or_alcohol")]  # fmt: skip


def stamp(moment: datetime) -> str:
    """A moment as the engine stores it (ISO, UTC)."""
    return moment.astimezone(UTC).isoformat()


class Rows:
    """The rows of one table family, written a batch at a time with `execute_many`."""

    SQL: ClassVar[dict[str, str]] = {
        "cases": "INSERT INTO cases (id, reference, programme_id, version, workflow, state, organisation_id, "
        "subject, role, lot, parent_id, flags, entered, revision, created_at, updated_at, label) VALUES (:id, "
        ":reference, :programme_id, :version, :workflow, :state, :organisation_id, :subject, :role, "
        "NULL, :parent_id, :flags, :entered, :revision, :created_at, :updated_at, :label)",
        "answers": "INSERT INTO answers (case_id, form_id, record_no, data, submitted_at, updated_at) "
        "VALUES (:case_id, :form_id, :record_no, :data, :submitted_at, :updated_at)",
        "audit": "INSERT INTO audit (case_id, at, actor_role, actor_id, action, from_state, to_state, "
        "version, detail) VALUES (:case_id, :at, :role, :actor, :action, :from_state, :to_state, :version, :detail)",
        "reminders": "INSERT INTO reminders (key, programme_id, version, kind, rule, case_id, due_at, anchor_at, "
        "status, note, payload, created_at, done_at) VALUES (:key, :programme_id, :version, :kind, :rule, "
        ":case_id, :due_at, :anchor_at, :status, :note, :payload, :created_at, :done_at)",
        "assessments": "INSERT INTO assessments (case_id, assessor, scores, notes, comment, recommendation, "
        "conflict, version, created_at, updated_at) VALUES (:case_id, :assessor, :scores, '{}', :comment, "
        ":recommendation, :conflict, :version, :at, :at)",
        "awards": "INSERT INTO awards (case_id, programme_id, lot, amount, awarded_at) VALUES "
        "(:case_id, :programme_id, NULL, :amount, :at)",
        "uploads": "INSERT INTO uploads (id, case_id, form_id, question_id, name, size, kind, stored_as, "
        "uploaded_by, created_at, content) VALUES (:id, :case_id, :form_id, :question_id, :name, :size, "
        "'pdf', :id, :uploaded_by, :at, :content)",
    }

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pending: dict[str, list[dict[str, Any]]] = {k: [] for k in self.SQL}
        self.counts = dict.fromkeys(self.SQL, 0)

    def add(self, table: str, row: dict[str, Any]) -> None:
        """Queue a row; cases first, so every other row's case exists when it is written."""
        self.pending[table].append(row)
        if table == "cases" and len(self.pending["cases"]) >= 2000:
            self.flush()

    def flush(self) -> None:
        """Write every queued row, one transaction."""
        with self.engine.store.transaction():
            for table, rows in self.pending.items():
                if rows:
                    self.engine.store.execute_many(self.SQL[table], rows)
                    self.counts[table] += len(rows)
                    rows.clear()


class Case:
    """One case being written: its row, its answers and its audit rows, in the order they happened."""

    def __init__(self, rows: Rows, programme: Any, workflow: str, case_id: int, org: str,
                 at: datetime, actor: tuple[str, str], **more: Any) -> None:  # fmt: skip
        self.rows, self.programme, self.id = rows, programme, case_id
        initial = programme.workflows[workflow].initial
        start_detail = more.pop("start_detail", {})
        prefix = programme.data["reference_prefix"]
        self.row = {"id": case_id, "reference": f"{prefix}-{case_id:06d}", "programme_id": programme.id,
                    "version": programme.version, "workflow": workflow, "state": initial,
                    "organisation_id": org, "subject": None, "role": None, "parent_id": None,
                    "flags": {}, "entered": {initial: stamp(at)}, "created_at": stamp(at),
                    "label": None} | more  # fmt: skip
        self.audit: list[dict[str, Any]] = []
        self.answers: dict[tuple[str, int], dict[str, Any]] = {}
        self.log(at, actor, "start", None, initial, start_detail)

    def log(self, at: datetime, actor: tuple[str, str], action: str, from_state: str | None,
            to_state: str, detail: dict[str, Any]) -> None:  # fmt: skip
        self.audit.append({"case_id": self.id, "at": stamp(at), "role": actor[0], "actor": actor[1],
                           "action": action, "from_state": from_state, "to_state": to_state,
                           "version": self.programme.version, "detail": json.dumps(detail)})  # fmt: skip

    def answer(self, at: datetime, actor: tuple[str, str], form: str, data: dict[str, Any],
               record: int = 0) -> None:  # fmt: skip
        """Answers saved: a form's (record 0, submitted by its action) or a repeatable form's record."""
        state = self.row["state"]
        known, label = label_of(self.programme, self.row["workflow"], form, data)
        if known and not record:  # kept on the case, as the engine keeps it
            self.row["label"] = label
        self.answers[(form, record)] = {"case_id": self.id, "form_id": form, "record_no": record,
                                        "data": json.dumps(data), "updated_at": stamp(at),
                                        "submitted_at": stamp(at) if record else None}  # fmt: skip
        detail = (
            {"form": form, "record": record}
            if record
            else {"form": form, "questions": sorted(data)}
        )
        self.log(at, actor, "answer", state, state, detail)

    def act(self, at: datetime, actor: tuple[str, str], trigger: str, dest: str, forms: tuple[str, ...] = (),
            **detail: Any) -> None:  # fmt: skip
        """An action taken: the state moves, its forms are submitted, it is audited."""
        source, self.row["state"] = self.row["state"], dest
        self.row["entered"][dest] = stamp(at)
        for form in forms:
            self.answers[(form, 0)]["submitted_at"] = stamp(at)
        self.log(at, actor, trigger, source, dest, {"effects": detail.pop("effects", []), **detail})

    def write(self) -> None:
        """Queue the case and everything it holds."""
        self.audit.sort(key=lambda a: a["at"])  # ids in the order things happened, as the engine's
        last = self.audit[-1]["at"]
        self.rows.add("cases", {**self.row, "flags": json.dumps(self.row["flags"]),
                                "entered": json.dumps(self.row["entered"]),
                                "revision": len(self.audit) - 1, "updated_at": last})  # fmt: skip
        for row in self.answers.values():
            self.rows.add("answers", row)
        for row in self.audit:
            self.rows.add("audit", row)


def day(moment: datetime) -> str:
    """The date a person would type for a moment, in London."""
    return moment.astimezone(LONDON).date().isoformat()


def next_id(engine: Engine) -> int:
    """The first case id free in the database."""
    return int(engine.store.execute("SELECT coalesce(max(id), 0) FROM cases").fetchone()[0]) + 1


# ---- the referral database -------------------------------------------------------------------


def referral_plan(rng: random.Random, referred: datetime, now: datetime) -> dict[str, Any]:
    """How one person's referral went: when each step was taken, until `now`."""
    hours = lambda h: referred + timedelta(hours=h)  # noqa: E731
    plan: dict[str, Any] = dict.fromkeys(("accepted", "refused", "interview", "plan", "exit"))
    if rng.random() < 0.07:
        plan["refused"] = hours(rng.uniform(2, 72))
    else:
        plan["accepted"] = hours(rng.uniform(1, 72))
        plan["interview"] = hours(rng.uniform(10, 35) * 24)
        plan["plan"] = plan["interview"] + timedelta(days=rng.uniform(0, 14))
        early = rng.random() < 0.06  # stepped up to crisis services before the interview
        plan["exit"] = (plan["accepted"] + timedelta(days=rng.uniform(2, 20)) if early
                        else plan["plan"] + timedelta(days=rng.uniform(45, 330)))  # fmt: skip
        plan["route"] = (
            "step_up" if early else rng.choices(["step_down", "step_up", "discharge"], [5, 2, 3])[0]
        )
    for key in ("accepted", "refused", "interview", "plan", "exit"):  # what has not happened yet
        if plan[key] is not None and (
            plan[key] > now or (key == "accepted" and rng.random() < 0.02)
        ):
            plan[key] = None
    if plan["exit"] and plan["route"] == "step_up" and plan["exit"] < (plan["interview"] or now):
        plan["interview"] = plan["plan"] = None
    if not plan["interview"] or (plan["exit"] and plan["plan"] and plan["plan"] > plan["exit"]):
        plan["plan"] = None
    return plan


def build_referrals(engine: Engine, cases: int, audit_rows: int) -> dict[str, Any]:
    """Publish Bradford and write `cases` referrals across 20 providers, about `audit_rows` audit rows."""
    programme, _ = engine.publish(ROOT / "programmes" / "bradford.yaml")
    rng, rows, now = random.Random(19), Rows(engine), REFERRALS_NOW
    providers = [(re.sub(r"\W+", "_", name.lower()).strip("_"), name) for name in PROVIDERS]
    with engine.store.transaction():
        for org, name in providers:
            engine.store.ensure_organisation(org, name, stamp(SERVICE_START))
    span = (now - SERVICE_START).total_seconds()
    plans = []
    for i in range(cases):  # referrals arrive a little faster as the service becomes known
        moment = SERVICE_START + timedelta(seconds=span * (i / cases) ** 0.8)
        local = moment.astimezone(LONDON).replace(hour=9, minute=0) + timedelta(
            minutes=rng.randint(0, 480)
        )
        referred = local.astimezone(UTC)  # in working hours
        plans.append((referred, referral_plan(rng, referred, now)))
    fixed = sum(_fixed_audit(p) for _, p in plans)
    contacts = _contacts_for(rng, plans, max(0, audit_rows - fixed))
    first = next_id(engine)
    for i, ((referred, plan), count) in enumerate(zip(plans, contacts, strict=True)):
        org = providers[i % len(providers)][0]
        _referral(rows, programme, first + i, org, referred, plan, count, rng, now)
        if i % 20000 == 19999:
            rows.flush()
    rows.flush()
    if engine.store.kind == "PostgreSQL":
        engine.store.execute(
            "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"
        )
    return {"programme": programme.id, "organisations": providers, **rows.counts}


def _fixed_audit(plan: dict[str, Any]) -> int:
    """Audit rows a referral has besides its contacts and reviews."""
    n = 2 + bool(plan["accepted"] or plan["refused"])
    n += 2 * bool(plan["interview"]) + 2 * bool(plan["plan"]) + 2 * bool(plan["exit"])
    return n


def _contacts_for(rng: random.Random, plans: list[tuple[datetime, dict[str, Any]]],
                  total: int) -> list[int]:  # fmt: skip
    """How many contacts (and reviews) each accepted referral has, `total` in all: two each for
    those accepted a week or more (as the service promises), the rest by how long they ran."""
    weeks = [((p["exit"] or REFERRALS_NOW) - p["accepted"]).days / 7 if p["accepted"] else 0.0
             for _referred, p in plans]  # fmt: skip
    counts = [2 if w >= 1 else 0 for w in weeks]
    if sum(counts) > total:  # too few rows asked for to give everyone two
        counts = [0] * len(weeks)
    weights = [max(0.0, w) * rng.uniform(0.5, 1.5) for w in weeks]
    rest = total - sum(counts)
    scale = rest / (sum(weights) or 1)
    counts = [c + int(w * scale) for c, w in zip(counts, weights, strict=True)]
    accepted = [i for i, w in enumerate(weights) if w > 0]
    for i in rng.sample(accepted, min(total - sum(counts), len(accepted))) if accepted else []:
        counts[i] += 1
    return counts


def _referral(rows: Rows, programme: Any, case_id: int, org: str, referred: datetime,
              plan: dict[str, Any], contacts: int, rng: random.Random, now: datetime) -> None:  # fmt: skip
    """One person's referral, from the referral to where it stands at `now`."""
    worker = ("caseworker", f"worker{case_id % 3 + 1}@{org.replace('_', '')}.example.org")
    case = Case(rows, programme, "referral", case_id, org, referred, worker, subject="pseudonymous")
    answers = referral_answers(rng, case_id, referred, refused=bool(plan["refused"]))
    case.answer(referred + timedelta(minutes=20), worker, "bradford_referral", answers)
    if plan["refused"]:
        reason = ("Lives outside the Wave 2 footprint; passed to the Wave 1 service."
                  if answers["pcn_locality"] == "outside_wave_2"
                  else "Another VCSE service nearby can support them.")  # fmt: skip
        case.act(plan["refused"], worker, "refuse_referral", "not_accepted", reason=reason)
    if not plan["accepted"]:
        case.write()
        _reminders(rows, programme, case_id, referred, now, kept=bool(plan["refused"]))
        return
    case.act(plan["accepted"], worker, "accept_referral", "contacting", ("bradford_referral",),
             checks_passed={"eligibility": "every criterion met"})  # fmt: skip
    goals = rng.sample(GOALS, rng.randint(1, 3))
    meaningful = []
    for moment, kind in _steps(plan, contacts, rng, now):
        data = STEPS[kind](rng, moment, goals, plan.get("route"))
        if kind in ("contact", "first_contact", "review"):
            form = "bradford_review" if kind == "review" else "bradford_contact"
            number = sum(1 for f, _ in case.answers if f == form) + 1
            case.answer(moment, worker, form, data, number)
            if form == "bradford_contact" and data["meaningful_contact"]:
                meaningful.append(moment)
            continue
        form, trigger, dest = {
            "interview": ("bradford_initial_interview", "hold_initial_interview", "assessed"),
            "plan": ("bradford_action_plan", "agree_action_plan", "supported"),
            "exit": (
                "bradford_step_discharge",
                plan.get("route"),
                ROUTES.get(plan.get("route", "")),
            ),
        }[kind]
        case.answer(moment, worker, form, data)
        checks = (
            {"checks_passed": {"guard": f'exit_route == "{trigger}"'}} if kind == "exit" else {}
        )
        case.act(moment + timedelta(minutes=5), worker, trigger, dest, (form,), **checks)
    limit = referred + timedelta(weeks=4)
    kept = sum(m <= limit for m in meaningful) >= 2
    if not kept and limit < now:  # the scheduler found the promise missed, raised its flag, audited
        case.row["flags"] = {"two_contacts_within_4_weeks": True}
        case.log(limit + timedelta(minutes=1), ("scheduler", "scheduler"), "service_level_missed",
                 case.row["state"], case.row["state"], {"missed": ["two_contacts_within_4_weeks"]})  # fmt: skip
    case.write()
    _reminders(rows, programme, case_id, referred, now, kept)


def referral_answers(
    rng: random.Random, case_id: int, referred: datetime, refused: bool
) -> dict[str, Any]:
    """The referral form, answered as a caseworker would (no name; only a postcode district)."""
    locality = "outside_wave_2" if refused and rng.random() < 0.5 else rng.choice(LOCALITIES)
    source = rng.choice(REFERRAL_SOURCES)
    birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 57))
    return {"referral_date": day(referred), "local_reference": f"MY{case_id:07d}", "referral_source": source,
            **({"referral_source_other": "Self-referral through a community group"} if source == "other" else {}),
            "date_of_birth": birth.isoformat(), "postcode": rng.choice(POSTCODES), "pcn_locality": locality,
            "has_smi": True, "smi_support_situation": rng.choice(["not_supported_elsewhere", "stepping_up_or_down_acute"]),
            "other_vcse_service_could_support": refused and locality != "outside_wave_2",
            "agrees_to_referral": True, "consent_to_share_data": True}  # fmt: skip


def _steps(
    plan: dict[str, Any], contacts: int, rng: random.Random, now: datetime
) -> list[tuple[datetime, str]]:
    """Every save after acceptance, in time order: contacts and reviews spread over the support."""
    end = min(plan["exit"] or now, now)
    reviews = contacts // 8 if plan["plan"] else 0
    spread = contacts - reviews
    steps = [(plan["accepted"] + (end - plan["accepted"]) * ((n + rng.random()) / spread), "contact")
             for n in range(spread)]  # fmt: skip
    if spread >= 2 and rng.random() < 0.9:  # most providers keep the two-contacts promise
        early = [
            plan["accepted"] + timedelta(days=rng.uniform(*days)) for days in ((0.5, 10), (10, 22))
        ]
        steps[:2] = [(min(moment, end), "first_contact") for moment in early]
    steps += [
        (plan["plan"] + (end - plan["plan"]) * ((n + 0.5) / reviews), "review")
        for n in range(reviews)
    ]
    steps += [(plan[kind], kind) for kind in ("interview", "plan", "exit") if plan[kind]]
    return sorted(steps)


def _contact(rng: random.Random, moment: datetime, goals: list[tuple[str, str]], route: str | None,
             meaningful: bool = False) -> dict[str, Any]:  # fmt: skip
    useful = meaningful or rng.random() < 0.8
    data = {
        "contact_date": day(moment),
        "meaningful_contact": useful,
        "contact_kind": rng.choice(CONTACT_KINDS),
    }
    return data | (
        {"contact_interventions": rng.sample(SUPPORT, rng.randint(1, 3))} if useful else {}
    )


def _review(
    rng: random.Random, moment: datetime, goals: list[tuple[str, str]], route: str | None
) -> dict[str, Any]:
    progress = ["achieved", "progressing", "progressing", "no_progress"]
    return {"review_date": day(moment),
            "goal_progress": [{"reviewed_goal": g, "progress": rng.choice(progress)} for g, _ in goals],
            "interventions_since_last_review": rng.sample(SUPPORT, 2),
            "support_intensity": rng.choice(["same", "same", "increase", "decrease"]), "review_outcome": "continue"}  # fmt: skip


def _interview(
    rng: random.Random, moment: datetime, goals: list[tuple[str, str]], route: str | None
) -> dict[str, Any]:
    return {"interview_date": day(moment), "sex": rng.choice(["female", "male", "prefer_not_to_say"]),
            "gender_same_as_birth": "yes", "sexual_orientation": rng.choice(["heterosexual", "prefer_not_to_say", "bisexual"]),
            "ethnicity": rng.choice(ETHNICITIES), "religion_or_belief": rng.choice(["no_religion", "christian", "muslim", "prefer_not_to_say"]),
            "disability": rng.choice(["yes", "no"]), "marriage_or_civil_partnership": rng.choice(["neither", "married", "prefer_not_to_say"]),
            "pregnancy_or_maternity": "no", "main_language": rng.choice(["English", "English", "Urdu", "Punjabi", "Polish"]),
            "known_diagnoses": ["anxiety_or_depression"], "wider_factors": rng.sample(["money_worries", "poor_housing", "language_barriers"], 1)}  # fmt: skip


def _action_plan(
    rng: random.Random, moment: datetime, goals: list[tuple[str, str]], route: str | None
) -> dict[str, Any]:
    return {"support_start_date": day(moment), "planned_interventions": rng.sample(SUPPORT, 3),
            "action_plan": "Weekly one-to-one sessions at the community centre and an introduction to a local group.",
            "goals": [{"goal": g, "goal_issue": issue} for g, issue in goals]}  # fmt: skip


def _exit(
    rng: random.Random, moment: datetime, goals: list[tuple[str, str]], route: str | None
) -> dict[str, Any]:
    where = {"step_down": ("step_down_to", ["self_care", "community_support"]),
             "step_up": ("step_up_to", ["community_mental_health_team", "acute_or_crisis"]),
             "discharge": ("discharge_reason", ["chose_to_stop", "not_engaging", "moved_away"])}[route or "discharge"]  # fmt: skip
    return {"exit_route": route, where[0]: rng.choice(where[1]), "support_finish_date": day(moment),
            "goal_outcomes": [{"outcome_goal": g, "goal_outcome": rng.choice(["achieved", "partly_achieved"])} for g, _ in goals],
            "overall_goal_outcome": rng.choice(["all_achieved", "some_achieved"]),
            "interventions_provided": rng.sample(SUPPORT, 2)}  # fmt: skip


STEPS = {
    "first_contact": lambda rng, moment, goals, route: _contact(rng, moment, goals, route, True),
    "contact": _contact,
    "review": _review,
    "interview": _interview,
    "plan": _action_plan,
    "exit": _exit,
}
ROUTES = {"step_down": "stepped_down", "step_up": "stepped_up", "discharge": "discharged"}


def _reminders(
    rows: Rows, programme: Any, case_id: int, referred: datetime, now: datetime, kept: bool
) -> None:
    """The service level's warning and check, as the planner makes them; swept once they fell due."""
    rule = "two_contacts_within_4_weeks"
    for kind, weeks, to in (
        ("service_level_warn", 3, "caseworker"),
        ("service_level", 4, "commissioner"),
    ):
        due = referred + timedelta(weeks=weeks)
        done = due <= now
        status, note = ("skipped", "the promise was kept") if kept else ("sent", "taken")
        rows.add("reminders", {"key": f"{programme.id}:{kind}:{rule}:{case_id}:{due.astimezone(LONDON).isoformat()}",
                               "programme_id": programme.id, "version": programme.version, "kind": kind,
                               "rule": rule, "case_id": case_id, "due_at": stamp(due), "anchor_at": stamp(referred),
                               "status": status if done else "pending", "note": note if done else None,
                               "payload": json.dumps({"reason": f"service level {rule}", "to": [to]}),
                               "created_at": stamp(referred), "done_at": stamp(due) if done else None})  # fmt: skip
