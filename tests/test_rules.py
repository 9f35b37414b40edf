"""The expression language: what it reads, which functions it has, and how it evaluates."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.rules import KNOWN_FUNCTIONS, ExpressionError, compile_expression


def test_names_read_exclude_macro_variables_and_namespaces() -> None:
    expr = compile_expression(
        'partners.all(p, p.name != "") && math.abs(change) > 2 && words(summary) <= 500'
    )
    assert expr.names == {"partners", "change", "summary"}
    assert expr.functions <= KNOWN_FUNCTIONS
    assert "math.abs" in expr.functions


def test_extension_functions_evaluate_including_namespaced_ones() -> None:
    expr = compile_expression(
        'math.abs(x) == 3 && "abc".charAt(1) == "b" && words(s) == 3 && [3, 1].sort()[0] == 1'
    )
    assert expr.evaluate({"x": -3, "s": "one two three"}) is True


def test_dates_in_any_timezone_compare_as_moments() -> None:
    london = datetime(2022, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
    assert compile_expression('now > date("2022-06-01")').evaluate({"now": london}) is True
    assert (
        compile_expression("a < b").evaluate(
            {"a": london, "b": datetime(2022, 6, 1, 11, 30, tzinfo=UTC)}
        )
        is True
    )


@pytest.mark.parametrize(
    ("source", "col", "says"), [("income >", 9, "ends before"), ("a ==== b", 5, '"=="')]
)
def test_a_broken_expression_says_where(source: str, col: int, says: str) -> None:
    with pytest.raises(ExpressionError) as err:
        compile_expression(source)
    assert err.value.offset_col == col and says in err.value.message


def test_date_arithmetic_counts_days_working_days_and_age() -> None:
    from datetime import UTC, datetime

    from engine.rules import compile_expression

    def run(source: str, **values: object) -> object:
        return compile_expression(source).evaluate(values)

    def day(y: int, m: int, d: int) -> datetime:
        return datetime(y, m, d, tzinfo=UTC)

    assert run("days_between(a, b)", a=day(2024, 4, 15), b=day(2024, 5, 1)) == 16
    assert run("days_between(a, b)", a=day(2024, 5, 1), b=day(2024, 4, 15)) == -16
    # Thursday before Easter to the Friday after: Good Friday and Easter Monday do not count
    assert run("working_days_between(a, b)", a=day(2024, 3, 28), b=day(2024, 4, 5)) == 4
    assert run("working_days_between(a, b)", a=day(2024, 4, 5), b=day(2024, 3, 28)) == -4
    # 2 January is a bank holiday in Scotland only
    new_year = {"a": day(2024, 12, 31), "b": day(2025, 1, 3)}
    assert run('working_days_between(a, b, "scotland")', **new_year) == 1
    assert run("working_days_between(a, b)", **new_year) == 2
    # the day before a 16th birthday is still 15
    assert run("age(born, on)", born=day(2008, 4, 16), on=day(2024, 4, 15)) == 15
    assert run("age(born, on) >= 16", born=day(2008, 4, 16), on=day(2024, 4, 16)) is True
    assert run("age(born, on)", born=day(2008, 2, 29), on=day(2025, 2, 28)) == 16
