"""The type check of expressions: it refuses exactly what the runtime cannot work out.

Every refusal below is also evaluated by the real runtime with answers of each question's type
(as `forms.answers` makes them), and must fail there; every acceptance must evaluate there.
"""

from __future__ import annotations

import shutil
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.definition.checks import expression_types
from engine.definition.checks.expression_types import (
    ANSWER_TYPES,
    DYN,
    INT,
    STRING,
    Type,
    answer_types,
    place,
    type_problems,
)
from engine.definition.loader import Linter
from engine.definition.schema_check import load_schema
from engine.forms.answers import cel_value, check_value
from engine.model import Question
from engine.rules import compile_expression

from .conftest import EXAMPLE, PROGRAMMES, ROOT

OPTIONS = [{"value": "cic", "label": "CIC"}, {"value": "charity", "label": "Charity"}]
# One question of each type the tests read, and an answer to it as a person would type it.
QUESTIONS: dict[str, tuple[dict[str, Any], Any]] = {
    "income": ({"type": "money"}, "300000"),
    "directors": ({"type": "number"}, "3"),
    "score": ({"type": "decimal"}, "4.5"),
    "share": ({"type": "percent"}, "80"),
    "rating": ({"type": "scale", "min": 1, "max": 5}, "3"),
    "org_name": ({"type": "text"}, "Hope CIC"),
    "summary": ({"type": "textarea"}, "We run a lunch club"),
    "org_type": ({"type": "radios", "options": OPTIONS}, "cic"),
    "lot": ({"type": "select", "options": OPTIONS}, "charity"),
    "contact": ({"type": "email"}, "info@hope.org.uk"),
    "phone": ({"type": "phone"}, "0151 123 4567"),
    "postcode": ({"type": "postcode"}, "L1 8JQ"),
    "kinds": ({"type": "checkboxes", "options": OPTIONS}, ["cic"]),
    "has_partners": ({"type": "yesno"}, "yes"),
    "established": ({"type": "date"}, "2019-05-01"),
    "accounts": ({"type": "file"}, {"name": "accounts.pdf", "size": 1000}),
    "budget": (
        {
            "type": "group",
            "questions": [
                {"id": "amount", "type": "money", "label": "Amount"},
                {"id": "item", "type": "text", "label": "Item"},
            ],
        },
        [{"amount": "500", "item": "rent"}],
    ),
}


def _question(qid: str, spec: dict[str, Any]) -> Question:
    inner = tuple(_question(s["id"], s) for s in spec.get("questions", []))
    return Question(qid, spec["type"], qid, True, {"id": qid, "label": qid, **spec}, inner)


def _answers() -> dict[str, Any]:
    out = {}
    for qid, (spec, typed) in QUESTIONS.items():
        q = _question(qid, spec)
        clean, errors = check_value(q, typed)
        assert not errors, (qid, errors)
        out[qid] = cel_value(q, clean)
    return out


SPECS = [{"id": qid, **spec} for qid, (spec, _typed) in QUESTIONS.items()]
NAMES = answer_types(SPECS)
ANSWERS = _answers()
MONEY = {"id": "income", "type": "money"}


def runtime_fails(source: str, value: dict[str, Any] | None = None) -> bool:
    """Whether the real runtime fails to work the expression out with these answers."""
    variables = {**ANSWERS, "answers": ANSWERS, "now": datetime(2022, 6, 1, tzinfo=UTC)}
    variables |= {"role": "lead", "value": ANSWERS[value["id"]] if value else None}
    expr = compile_expression(source)
    try:
        expr.evaluate({n: variables[n] for n in expr.names})
    except Exception:
        return True
    return False


@pytest.mark.parametrize(
    "source",
    [
        "income < 250000.0",  # whole and decimal numbers compare
        "score > 2 && share >= 75 && rating <= 5.5",
        "income * 100 > 30 * (income + directors)",
        "score * 2.0 + double(directors) > 1.0",
        "(has_partners ? 1 : 0) + directors >= 2",
        "has_partners < true",  # booleans are ordered too
        'established <= date("2020-09-01") && now - established > duration("24h")',
        "established.getFullYear() >= 2019",
        '"cic" in kinds && size(kinds) == 1 && kinds[0] == "cic" && kinds.exists(k, k == "cic")',
        "budget.map(line, line.amount).sum() <= income",
        'budget.all(line, line.amount <= 5000 && line.item != "")',
        'has(answers.accounts) && accounts.size > 0 && accounts["name"].endsWith(".pdf")',
        'org_name.startsWith("Hope") && size(org_name) < 100 && words(summary) <= 500',
        'org_type == "cic" || org_type == "charity"',
        'income == "300000"',  # always false, but never fails: equality takes any two values
        'role == "lead" && case.state != 1 && programme.funding.total + 1 > 0',
        "-income < 0 && -score < 0.0",
        'string(income) + " pounds" != ""',
        "math.abs(directors) > 0 && int(score) > 0",
    ],
)
def test_accepted_expressions_also_evaluate(source: str) -> None:
    assert type_problems(source, NAMES) == []
    if "case." not in source:  # the runtime is given no case here
        assert not runtime_fails(source)


@pytest.mark.parametrize(
    ("source", "at", "says"),
    [
        ('income < "250000"', "<", "write 250000 without quotes"),
        ('established <= "2020-09-01"', "<=", 'write a date as date("2020-09-01")'),
        ("established > 2019", ">", "established.getFullYear() >= 2020"),
        ("established + 7 <= now", "+", 'established + duration("24h")'),
        ("score + 1 > 5.0", "+", "write 1.0 for 1"),
        ("directors * score > 1.0", "*", "write double(directors) for directors"),
        ("share % 2.0 == 0.0", "%", "only between whole numbers"),
        ("has_partners + directors >= 2", "+", "(has_partners ? 1 : 0)"),
        ('org_name - "CIC" == ""', "-", "joined to text, with +"),
        ("org_name + income", "+", "string(income)"),
        ("size(income) > 0", "size", "compare the number itself, e.g. income > 0"),
        ('"Hope" in org_name', "in", "org_name.contains(…)"),
        ("income && has_partners", "income", "income > 0"),
        ("!org_type", "org_type", 'org_type == "…"'),
        ("kinds ? 1 : 2", "kinds", "size(kinds) > 0"),
        ("income.total > 0", "total", "has no fields"),
        ("income[0] > 0", "0", "picks an item"),
        ('kinds["cic"]', '"cic"', "numbered from 0"),
        ("income.getFullYear() > 2000", "getFullYear", "works on a date"),
        ("org_name.startsWith(1)", "1", "write it in quotes"),
        ("kinds.exists(k, k)", "k)", 'k == "…"'),
        ("org_name.exists(c, c == 1)", "exists", "looks through a list"),
        ('budget.exists(line, line.amount > "100")', ">", "write 100 without quotes"),
        ('has(answers.income) && answers.income > "1"', ">", "without quotes"),
        ("-org_name", "-", "only a number"),
    ],
)
def test_refused_expressions_fail_at_run_time_too(source: str, at: str, says: str) -> None:
    found = type_problems(source, NAMES)
    assert len(found) == 1, found
    offset, message = found[0]
    assert source[offset:].startswith(at), (source[offset:], at)
    assert says in message
    assert runtime_fails(source)


def test_value_has_its_questions_type_in_its_own_validate_rule() -> None:
    assert type_problems("value >= 50000 && value <= 100000", NAMES, MONEY) == []
    [(offset, message)] = type_problems('value >= "50000"', NAMES, MONEY)
    assert offset == 6 and "a money answer" in message and "without quotes" in message
    assert runtime_fails('value >= "50000"', MONEY)
    assert type_problems('value >= "50000"', NAMES) == []  # outside a validate rule: unknown


def test_what_is_not_known_for_certain_passes() -> None:
    for source in (
        'case.records.x > "1"',  # `case` has no fixed shape
        'programme.funding.total < "1"',
        'nobody_asked < "1"',  # reported as an unknown question instead
        'dyn(income) < "1"',
        "kinds.distinct()[0] + 1 > 0",  # a function whose result is not known
    ):
        assert type_problems(source, NAMES) == [], source


def test_comprehension_variables_shadow_answers_and_end_with_their_call() -> None:
    assert type_problems("kinds.exists(income, income == 'cic') && income > 0", NAMES) == []
    assert len(type_problems('kinds.exists(k, k == "cic") && k > "a" && income < "1"', NAMES)) == 1


def test_syntax_it_does_not_follow_is_never_reported() -> None:
    # a message literal is valid CEL the engine never uses: the checker claims nothing
    assert type_problems('google.type.Date{year: 2020} == income && income < "1"', NAMES) == []


def test_an_answer_has_the_type_the_runtime_gives_it() -> None:
    python = {int: "int", float: "double", str: "string", bool: "bool", list: "list", dict: "map"}
    for qid, (spec, _typed) in QUESTIONS.items():
        value = ANSWERS[qid]
        kind = "timestamp" if isinstance(value, datetime) else python[type(value)]
        assert expression_types.question_type({"id": qid, **spec}).kind == kind, qid
    asked = {spec["type"] for spec, _t in QUESTIONS.values()}
    assert (
        asked
        == set(ANSWER_TYPES) | {"group"}
        == set(load_schema("form")["$defs"]["question"]["properties"]["type"]["enum"])
    )


def test_an_id_asked_as_two_types_is_unknown() -> None:
    merged = answer_types([{"id": "x", "type": "money"}, {"id": "x", "type": "text"}])
    assert merged == {"x": ("", DYN)}
    same = answer_types([{"id": "x", "type": "money"}, {"id": "x", "type": "number"}])
    assert same == {"x": ("", DYN)}  # the question type differs, so the message would mislead
    assert answer_types([{"id": "x", "type": "text"}] * 2) == {"x": ("text", STRING)}
    group = expression_types.question_type(QUESTIONS["budget"][0])
    assert group == Type("list", Type("map", DYN, (("amount", INT), ("item", STRING))))


@pytest.mark.parametrize(
    ("lines", "start", "source", "offset", "where"),
    [
        (['    rule: income < "1"'], (1, 11), 'income < "1"', 7, (1, 18)),
        (['    - rule: "value <= \\"2020\\""'], (1, 13), 'value <= "2020"', 9, (1, 24)),
        (["    rule: 'it''s' < 1"], (1, 11), "'it's' < 1", 7, (1, 19)),
        (
            ["    rule: >-", "      a &&", "      size(b) > 0"],
            (1, 11),
            "a && size(b) > 0",
            5,
            (3, 7),
        ),
        (["    rule: |", "      a &&", "        b < 1"], (1, 11), "a &&\n  b < 1\n", 9, (3, 11)),
    ],
)
def test_a_problem_is_placed_inside_the_yaml_scalar(
    lines: list[str], start: tuple[int, int], source: str, offset: int, where: tuple[int, int]
) -> None:
    assert place(lines, *start, source, offset) == where


def _tiny(tmp_path: Path, old: str, new: str) -> dict[str, list]:
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "programmes" / "tiny.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return Linter().programme(path, tmp_path / "forms", build=False)[1]


def test_a_kpi_adds_up_only_numbers_and_says_what_to_count_instead(tmp_path: Path) -> None:
    by_file = _tiny(tmp_path, "measure: sum\n    field: income", "measure: average\n    field: org_type")  # fmt: skip
    [problem] = [p for ps in by_file.values() for p in ps]
    assert problem.code == "kpi-not-numeric"
    assert 'averages question "org_type", a radios question' in problem.message
    assert "decimal, money, number, percent or scale" in problem.message
    assert 'measure: count with where: org_type == "…"' in problem.message


def test_a_kpi_of_another_measure_is_not_held_to_its_unused_field(tmp_path: Path) -> None:
    by_file = _tiny(tmp_path, "measure: sum\n    field: income", "measure: count\n    field: org_type")  # fmt: skip
    assert not any(by_file.values())


def test_a_programme_rule_is_reported_at_the_operator(tmp_path: Path) -> None:
    by_file = _tiny(tmp_path, "rule: income < 1000000", "rule: org_type < 1000000")
    [problem] = [p for ps in by_file.values() for p in ps]
    assert (problem.line, problem.col, problem.code) == (21, 20, "expression-type")
    assert problem.message.startswith("org_type (a radios answer: text) cannot be compared with")


def test_every_shipped_expression_is_read_and_none_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[str] = []
    unsure: list[str] = []

    def spy(source: str, names: dict, value: Any = None) -> list:
        reader = expression_types._Reader(source, dict(names), {})
        try:
            reader.expr()
            assert reader.k == len(reader.toks)
        except (expression_types._Unsure, AssertionError):
            unsure.append(source)
        read.append(source)
        return type_problems(source, names, value)

    monkeypatch.setattr("engine.definition.checks.base.type_problems", spy)
    # forms checked earlier in this process are remembered by their bytes: read every one afresh
    monkeypatch.setattr("engine.definition.loader._CHECKED", OrderedDict())
    linter = Linter()
    for path in [
        *PROGRAMMES,
        *(EXAMPLE / "programmes" / f"{n}.yaml" for n in ("tiny", "link_service")),
    ]:
        forms = ROOT / "forms" if path in PROGRAMMES else EXAMPLE / "forms"
        by_file = linter.programme(path, forms, build=False)[1]
        codes = {p.code for ps in by_file.values() for p in ps}
        assert not codes & {"expression-type", "kpi-not-numeric"}, path
    assert len(read) > 150 and unsure == []


def test_half_an_expression_is_never_a_crash() -> None:
    source = 'income < "1" && kinds.map(k, k == "a", k)[0] + -1u > .5 ? {"a": 1}.a : has(answers.x)'
    for i in range(len(source) + 1):
        for part in (source[:i], source[i:]):
            assert isinstance(type_problems(part, NAMES), list)
