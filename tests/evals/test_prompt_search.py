"""Prompt search: the Pareto front, the choice rule, seeded recombination, and the search with a fake scorer."""

from __future__ import annotations

import pytest

from evals.prompt_search import SearchConfig, demo_list, search, split_queries, write_report
from evals.eval_sets import load_task
from prompts.prompt_search import (PromptCandidate, choose, clean_rewrite, first_sentence, pareto_front,
                                   propose_candidates)


def test_pareto_front_on_constructed_points():
    # (accuracy, tokens): 1 is dominated by 0 (less accurate, more tokens); 3 by 2 (same accuracy, more tokens)
    points = [(0.80, 100), (0.70, 150), (0.90, 200), (0.90, 250), (0.60, 20), (0.80, 100)]
    # sorted by tokens; the two equal points 0 and 5 are both kept
    assert pareto_front(points) == [4, 0, 5, 2]


def test_choice_rule_takes_the_cheapest_within_tolerance():
    points = [(0.900, 300), (0.895, 120), (0.850, 40), (0.900, 250)]
    assert choose(points, tolerance=0.01) == 1    # 0.895 is within 1 point of 0.900, and 120 tokens is cheapest
    assert choose(points, tolerance=0.0) == 3     # only the best two; 250 < 300 tokens
    assert choose(points, tolerance=0.06) == 2    # 0.850 >= 0.900 - 0.06
    assert choose(points, tolerance=0.0) in pareto_front(points)
    with pytest.raises(ValueError):
        choose([])


def test_recombination_is_deterministic_by_seed():
    seed = "Decide whether the review is positive or negative. Answer with one word."
    a = propose_candidates(seed, 4, 8, rewrites=["Say positive or negative."], seed=3)
    assert a == propose_candidates(seed, 4, 8, rewrites=["Say positive or negative."], seed=3)
    assert a != propose_candidates(seed, 4, 8, rewrites=["Say positive or negative."], seed=4)
    assert a[0] == PromptCandidate(seed, 4, "\n\n", "seed") and len(set(a)) == 8
    # stratified: the 4 instructions (seed, shortened, rewrite0, none) each appear among the first 4 draws
    assert {c.origin for c in a[1:5]} == {"seed", "shortened", "rewrite0", "none"}
    # grid: 4 instructions (seed, first sentence, one rewrite, none) x k 0..4 x 2 separators = 40, less the seed
    assert len(propose_candidates(seed, 4, 100, rewrites=["Say positive or negative."])) == 40
    assert {c.origin for c in propose_candidates(seed, 4, 100)} == {"seed", "shortened", "none"}
    assert first_sentence(seed) == "Decide whether the review is positive or negative."


def test_clean_rewrite():
    assert clean_rewrite('Rewritten: "Say if it is positive."\nmore', 100) == "Say if it is positive."
    assert clean_rewrite("\n\n", 100) is None
    assert clean_rewrite("x" * 50, 10) is None


def test_splits_are_disjoint_and_demos_balanced():
    task = load_task("sst2")
    dev, test = split_queries(task, 40, 80, seed=0)
    assert len(dev) == 40 and len(test) == 80 and not set(dev) & set(test)
    demos = demo_list(task, 4, seed=0)
    assert [task.label_of(task.pool[i]) for i in demos] == ["negative", "positive", "negative", "positive"]


class FakeScorer:
    """No LM: the gold answer wins only when the prompt has an instruction (it does not start with the task's own
    'Review:' line), so an instruction is worth accuracy; tokens are whitespace words."""

    def __init__(self, device: str = "cpu"):
        self.gold = {ex.input: ex.output for ex in load_task("sst2").test}

    def choice_scores(self, prompt, choices):
        gold = next(g for q, g in self.gold.items() if prompt.endswith(q))
        helped = not prompt.startswith("Review:")
        return [1.0 if (c == gold) == helped else 0.0 for c in choices]

    def count_tokens(self, prompt):
        return len(prompt.split())

    def prefill_seconds(self, prompt):
        return None

    def rewrite(self, instruction, n, seed):
        return ["Positive or negative?"][:n]


def test_search_with_a_fake_scorer(tmp_path):
    config = SearchConfig(task="sst2", candidates=6, dev=10, test=20, seed_k=2, max_k=2)
    report = search(config, FakeScorer())
    names = [r["name"] for r in report["candidates"]]
    assert names[0] == "seed/k2/nl2" and len(names) == 6 and report["chosen"] in report["front"]
    chosen = next(r for r in report["candidates"] if r["name"] == report["chosen"])
    # with an instruction every answer is right; the cheapest such candidate wins
    assert chosen["dev_accuracy"]["mean"] == 1.0 and chosen["instruction"]
    assert all(r["dev_mean_prompt_tokens"] >= chosen["dev_mean_prompt_tokens"] for r in report["candidates"]
               if r["dev_accuracy"]["mean"] == 1.0)
    t = report["test"]
    assert t["accuracy_difference"]["delta"] == 0.0 and t["accuracy_difference"]["verdict"] == "within noise"
    assert t["majority_baseline"]["n"] == 20 and report["prefill_ms"]["measured"] is False
    paths = write_report(report, tmp_path)
    assert "Held-out test" in open(paths["markdown"]).read() and open(paths["plot"], "rb").read(4) == b"\x89PNG"
