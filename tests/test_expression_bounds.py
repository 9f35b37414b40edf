"""A costly expression is refused where it is written, and never hangs or crashes a worker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cel
import pytest

from engine import rules
from engine.definition.loader import Linter
from engine.rules import EvaluationError, Expression, ExpressionError, compile_expression
from engine.runtime import Actor, Engine

from .conftest import EXAMPLE, PROGRAMMES, ROOT
from .databases import database_in

RULE = "    rule: income < 1000000\n"  # line 21 of the example programme
NESTED = "lists.range(10000).map(x, lists.range(10000).filter(y, y == x)).size() > 0"


def lint_rule(tmp_path: Path, rule: str) -> list[Any]:
    """The problems of the example programme with its eligibility rule replaced."""
    example = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")
    assert RULE in example
    (tmp_path / "tiny.yaml").write_text(example.replace(RULE, f"    rule: '{rule}'\n"), "utf-8")
    _programme, by_file = Linter().programme(tmp_path / "tiny.yaml", EXAMPLE / "forms")
    return [p for ps in by_file.values() for p in ps]


def refused(tmp_path: Path, rule: str) -> Any:
    """The one problem the rule gives: positioned on its line, with the cost code."""
    [problem] = lint_rule(tmp_path, rule)
    assert (problem.line, problem.code) == (21, "expression-too-costly"), problem
    return problem


def test_nested_comprehensions_over_large_ranges_are_refused_at_load(tmp_path: Path) -> None:
    problem = refused(tmp_path, NESTED)
    assert problem.col == 12 + len("lists.range(")  # at the number
    assert "lists.range(10000) builds more than 1,000 items" in problem.message


def test_nested_comprehensions_are_refused_with_what_to_do(tmp_path: Path) -> None:
    problem = refused(tmp_path, "[income].map(x, [income].filter(y, y == x)).size() > 0")
    assert problem.col == 12 + len("[income].map(x, [income].")  # at the inner one
    assert "nests comprehensions (filter inside map)" in problem.message
    assert "a rule can look through one list at a time" in problem.message


def test_chained_replace_is_refused_at_load(tmp_path: Path) -> None:
    rule = "string(income)" + '.replace("1", "1111111111")' * 8 + ".size() > 0"
    problem = refused(tmp_path, rule)
    assert "more than 3 times" in problem.message and "multiply the length" in problem.message


def test_a_200000_element_list_is_refused_before_it_is_compiled(tmp_path: Path) -> None:
    problem = refused(tmp_path, "income in [" + ", ".join(["1"] * 200_000) + "]")
    assert "600,010 characters long; it can be at most 2,000" in problem.message


def test_a_short_list_with_too_many_elements_is_refused(tmp_path: Path) -> None:
    problem = refused(tmp_path, "income in [" + ",".join(["1"] * 300) + "]")
    assert "more than 200 items" in problem.message


def test_100000_nested_parentheses_are_a_problem_not_a_panic(tmp_path: Path) -> None:
    problem = refused(tmp_path, "(" * 100_000 + "income < 1" + ")" * 100_000)
    assert "at most 2,000" in problem.message
    problem = refused(tmp_path, "(" * 40 + "income < 1" + ")" * 40)
    assert problem.col == 12 + 32  # at the first bracket too deep
    assert "more than 32 deep" in problem.message


def test_brackets_inside_string_literals_do_not_count(tmp_path: Path) -> None:
    quoted = '"' + "(" * 40 + "[" * 40 + '" != "x"'
    assert lint_rule(tmp_path, f"income < 1000000 && {quoted}") == []


def test_a_comprehension_over_a_list_built_with_plus_is_refused() -> None:
    with pytest.raises(ExpressionError) as err:
        compile_expression("(a + a + a + a).map(x, x).size() > 0")
    assert err.value.code == "expression-too-costly" and err.value.offset_col == 4
    compile_expression("a.map(x, x + 1).filter(y, y > 2).size() > 0")  # a chain is fine


def test_a_rust_panic_while_compiling_is_an_expression_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rules, "check_bounds", lambda source: None)  # as before the bounds
    with pytest.raises(ExpressionError) as err:
        compile_expression("(" * 100_000 + "1" + ")" * 100_000)
    assert "could not be read" in err.value.message


def unchecked(source: str) -> Expression:
    """An expression compiled as before the load-time bounds, as a stored programme may hold."""
    program = cel.compile(source)
    return Expression(source, program, frozenset(), frozenset({"lists.range", "replace"}))


def test_an_unchecked_nested_comprehension_is_refused_at_run_time_not_run() -> None:
    with pytest.raises(EvaluationError, match=r"lists.range\(10,000\) would build more than"):
        unchecked(NESTED).evaluate({})


def test_unchecked_string_growth_is_refused_before_the_text_is_built() -> None:
    source = '"a"' + '.replace("a", "aaaaaaaaaa")' * 8 + ".size() > 0"
    with pytest.raises(EvaluationError, match="replace would build a text longer than 100,000"):
        unchecked(source).evaluate({})


@pytest.mark.parametrize(
    ("value", "says"),
    [("x" * 200_000, "a text of 200,000 characters"), (list(range(5_000)), "5,000 items")],
)
def test_a_huge_input_value_is_refused_with_a_sentence(value: object, says: str) -> None:
    with pytest.raises(EvaluationError) as err:
        compile_expression("size(big) > 0").evaluate({"big": {"deep": [value]}})
    assert str(err.value).startswith('this rule could not be worked out: "big" is too large')
    assert says in str(err.value)


def test_reading_more_than_the_budget_ends_the_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    expr = compile_expression("lists.range(1000).map(i, s + s).size() > 0")
    assert expr.evaluate({"s": "x" * 10}) is True
    monkeypatch.setattr(rules, "MAX_FUEL", 10_000)
    with pytest.raises(EvaluationError, match="more than 10,000 characters and items"):
        expr.evaluate({"s": "x" * 1_000})


def test_a_rust_panic_while_evaluating_is_an_evaluation_error() -> None:
    try:
        cel.compile("(" * 100_000 + "1" + ")" * 100_000)
    except BaseException as exc:  # the panic is what this test needs
        panic = type(exc)
    assert not issubclass(panic, Exception)

    class Panicking:
        def execute(self, context: object) -> object:
            raise panic("index out of bounds")

    expr = Expression("x > 1", Panicking(), frozenset({"x"}), frozenset())  # type: ignore[arg-type]
    with pytest.raises(EvaluationError, match="the expression language failed"):
        expr.evaluate({"x": 2})


def test_a_stored_programme_with_a_costly_rule_says_so_instead_of_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tiny.yaml").write_text(
        (EXAMPLE / "programmes" / "tiny.yaml")
        .read_text("utf-8")
        .replace(RULE, f"    rule: income < 1000000 && {NESTED}\n"),
        "utf-8",
    )
    while_open = datetime(2022, 1, 10, 12, 0, tzinfo=UTC)
    engine = Engine(database_in(tmp_path, "engine"), clock=lambda: while_open)
    with monkeypatch.context() as before_the_bounds:
        before_the_bounds.setattr(rules, "check_bounds", lambda source: None)
        engine.publish(tmp_path / "tiny.yaml", EXAMPLE / "forms")
    compile_expression.cache_clear()  # forget what was compiled without the bounds
    ann = Actor("applicant", "ann", "org_a")
    case = engine.start_case("tiny_grants", "application", ann)
    engine.save_answers(case.id, "tiny_eoi", {"income": 5_000}, ann)
    [result] = engine.eligibility(case.id, ann)
    assert result.status == "not_answered"
    assert result.message.startswith("this rule could not be worked out: lists.range(10000)")


@pytest.mark.parametrize("path", PROGRAMMES, ids=lambda p: p.stem)
def test_every_shipped_programme_is_within_the_bounds(path: Path) -> None:
    _programme, by_file = Linter().programme(path, ROOT / "forms")
    assert [p for ps in by_file.values() for p in ps] == []
