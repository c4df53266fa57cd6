"""Budgets are parsed strictly: nothing is rounded or truncated silently, and a budget that selects nothing says why.

Case ../shared/cases/budget-strings: `select pool.json --budget 1.5` / `0.01` on a pool of 6 items.
"""

from __future__ import annotations

import math

import pytest

from selection import Budget, load_pool, select
from selection.budget import ACCEPTED
from tests.conftest import shared


@pytest.mark.parametrize("spec,why", [
    ("1.5", "a fraction of the pool must be in (0, 1], got 1.5 (a number with a decimal point is a fraction of the "
            "pool; a count is a whole number)"),
    (1.5, "a fraction of the pool must be in (0, 1], got 1.5 (a number with a decimal point is a fraction of the "
          "pool; a count is a whole number)"),
    (5.0, "a fraction of the pool must be in (0, 1], got 5 (for a count of 5 items write 5)"),
    ("inf", "not a finite number"), ("nan", "not a finite number"), (math.nan, "not a finite number"),
    ("-1", "a budget cannot be negative"), ("-0.1", "a budget cannot be negative"),
    ("0", "a count must be at least 1 (0 items selects nothing)"),
    (0, "a count must be at least 1 (0 or fewer items selects nothing)"),
    ("0.0", "a fraction of the pool must be in (0, 1], got 0"), ("0%", "a fraction of the pool must be in (0, 1], got 0"),
    ("150%", "a fraction of the pool must be in (0, 1], got 1.5 (more than the whole pool)"),
    ("0 tokens", "a token budget must be a whole number of tokens >= 1, not 0"),
    ("0.5 tokens", "a token budget must be a whole number of tokens >= 1, not 0.5"),
    ("1e3", "write a count as a whole number and a fraction with a decimal point"),
    ("lots", "not a number"), ("", "not a number"), (True, "not a number"),
])
def test_bad_budgets_are_refused_with_the_accepted_forms(spec, why):
    with pytest.raises(ValueError) as info:
        Budget.parse(spec)
    assert str(info.value) == f"budget {spec!r}: {why}; a budget is {ACCEPTED}"


@pytest.mark.parametrize("spec,budget", [
    ("1.0", Budget("fraction", 1.0)), (".5", Budget("fraction", 0.5)), ("12.5%", Budget("fraction", 0.125)),
    ("100%", Budget("fraction", 1.0)), ("1_000", Budget("count", 1000)), ("1.1k tokens", Budget("tokens", 1100)),
    ("1", Budget("count", 1)), (1, Budget("count", 1)),
])
def test_good_budgets(spec, budget):
    assert Budget.parse(spec) == budget


def test_case_fraction_that_selects_nothing_says_why():
    pool = load_pool([str(shared("..", "cases", "budget-strings", "pool.json"))])
    assert len(pool) == 6
    sel = select(pool, "0.01", "random")
    # 0.01 x 6 = 0.06 items rounds to 0: nothing is selected, and the summary says so and how to get one item
    assert sel.rows == []
    assert sel.summary["note"] == ("budget 0.01 of a pool of 6 items is 0.06 items, which rounds to 0: nothing "
                                   "selected; ask for a fraction above 0.0833 (1 item) or a count such as 1")
    assert select(pool, "0.09", "random").summary["selected"] == 1  # 0.54 items rounds to 1: no note
    assert select(pool, "0.09", "random").summary["note"] is None


def test_case_one_and_a_half_is_refused_before_the_flow(capsys):
    from flows.cli import main

    pool = shared("..", "cases", "budget-strings", "pool.json")
    assert main(["select", str(pool), "--budget", "1.5", "--out", "/nonexistent/never-written.jsonl"]) == 2
    assert capsys.readouterr().err == (
        "winnow select: error: options: budget = '1.5': a fraction of the pool must be in (0, 1], got 1.5 (a number "
        f"with a decimal point is a fraction of the pool; a count is a whole number); a budget is {ACCEPTED}\n")


@pytest.mark.parametrize("argv,expected", [
    (["demos", "--k", "0"], "winnow demos: error: options: k = 0: must be >= 1\n"),
    (["demos", "--lam", "nan"], "winnow demos: error: options: lam = nan: must be in [0, 1]\n"),
    (["select", "--budget", "3", "--semdedup-eps", "2"], "winnow select: error: semdedup_eps = 2.0: must be in [0, 1]\n"),
])
def test_select_and_demos_options_are_checked_before_the_flow(capsys, argv, expected):
    from flows.cli import main

    pool = str(shared("..", "cases", "budget-strings", "pool.json"))
    files = ["--pool", pool, "--queries", pool] if argv[0] == "demos" else [pool]
    assert main([argv[0], *files, *argv[1:], "--out", "/nonexistent/never-written.jsonl"]) == 2
    assert capsys.readouterr().err == expected
