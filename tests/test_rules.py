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
