"""Eval tasks parse back to cloze form; continuation scoring with a reused KV cache equals a full forward pass."""

from __future__ import annotations

import pytest
import torch

from core.lm_scoring import split_continuation, score_continuations
from core.statistics import mean_ci, proportion_ci
from evals.eval_sets import load_task


@pytest.mark.parametrize("name,pool,test,n_choices", [
    ("arc_easy", 2251, 2376, None), ("boolq", 9427, 3270, 2), ("piqa", 16113, 1838, 2),
    ("sst2", 6920, 1821, 2), ("agnews", 6080, 1520, 4), ("trec", 5452, 500, 6),
])
def test_tasks_load_with_exact_sizes(name, pool, test, n_choices):
    task = load_task(name)
    assert (len(task.pool), len(task.test)) == (pool, test)
    for ex in task.test[:50] + task.pool[:50]:
        assert 0 <= ex.gold < len(ex.choices) and all(c.strip() for c in ex.choices)
        assert n_choices is None or len(ex.choices) == n_choices
        assert "\n A." not in ex.input  # letter options are gone: answers are scored as text
    assert not {e.id for e in task.pool} & {e.id for e in task.test}


def test_arc_question_and_options_are_recovered():
    ex = load_task("arc_easy").test[0]
    assert ex.input.startswith("Question: Which statement best explains why photosynthesis")
    assert ex.input.endswith("\nAnswer:") and ex.output == "Sunlight is the source of energy for nearly all ecosystems."


@pytest.mark.slow
def test_cached_prefix_scoring_equals_full_recompute():
    from core.models import load_smollm2

    model, tok = load_smollm2("cpu")
    context = "Question: Which gas do plants take in for photosynthesis?\nAnswer:"
    conts = [" carbon dioxide", " oxygen", " nitrogen gas from the soil"]
    fast = score_continuations(model, tok, context, conts)
    for c, s in zip(conts, fast):
        ctx, cont = split_continuation(tok, context, c)
        with torch.inference_mode():
            logp = torch.log_softmax(model(torch.tensor([ctx + cont])).logits[0].float(), -1)
        full = sum(logp[len(ctx) - 1 + j, t].item() for j, t in enumerate(cont))
        assert s.logprob == pytest.approx(full, abs=1e-3) and s.tokens == len(cont)
    assert fast[0].mean > fast[2].mean  # the right answer is the likelier one


def test_intervals():
    p = proportion_ci(45, 60)
    assert p["mean"] == 0.75 and p["ci95"][0] < 0.75 < p["ci95"][1] and p["ci95"][1] <= 1
    assert proportion_ci(60, 60)["ci95"][1] == pytest.approx(1.0)
    m = mean_ci([1.0, 2.0, 3.0, None, float("nan")])
    assert m["n"] == 3 and m["mean"] == 2.0 and m["ci95"][0] < 2.0 < m["ci95"][1]
