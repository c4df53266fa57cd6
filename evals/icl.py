"""In-context evaluation of demonstration selection: SmolLM2 scores each answer text after k demos.

The same query sample is used for every condition (paired comparisons); every prompt records the demo ids it
used, so a result can be traced to the exact prompt.

``run_query`` scores one query under every (strategy, template, demo order) variant plus zero-shot per template,
and records what the no-LM baselines need (the labels of the chosen demos and of the query's nearest pool item);
``evals.icl_report`` turns those records into paired comparisons, baselines and spreads.
"""

from __future__ import annotations

import time

import numpy as np

from core.lm_scoring import score_continuations
from evals.eval_sets import Task
from prompts.demos import SelfMatches, pick_demos
from prompts.templates import Template, render, template_variants


def query_sample(task: Task, n: int, seed: int = 0, ordered: bool = True) -> list[int]:
    """``n`` test rows drawn without replacement (seeded). ``ordered=False`` keeps the draw order, so any prefix
    of the list is itself a random sample (a run stopped early still evaluates a random subset)."""
    idx = [int(i) for i in np.random.default_rng(seed).permutation(len(task.test))[:n]]
    return sorted(idx) if ordered else idx


def task_embeddings(task: Task, embed, queries: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pool examples embed input + answer; queries embed their input only (the answer is unknown).

    With ``queries``, only those test rows are embedded (the others stay zero)."""
    pool = embed([f"{e.input} {e.output}" for e in task.pool])
    rows = list(range(len(task.test))) if queries is None else queries
    test = np.zeros((len(task.test), pool.shape[1]), dtype=np.float32)
    test[rows] = embed([task.test[i].input for i in rows])
    return pool, test


# How the k chosen demos are ordered in the prompt, by their similarity to the query. "ascending" is the library's
# order (most similar last, next to the query); "descending" puts it first; "shuffled" is a seeded permutation that
# is neither of the two (k >= 3). The same rules apply to every strategy, so strategies are compared on the same
# variants.
ORDERS = ("ascending", "descending", "shuffled")


def demo_order(n: int, rule: str, seed: int) -> list[int]:
    """Positions (0 = least similar of the ``n`` demos) in prompt order under ``rule`` (one of ``ORDERS``)."""
    if rule == "ascending":
        return list(range(n))
    if rule == "descending":
        return list(range(n))[::-1]
    if rule != "shuffled":
        raise ValueError(f"unknown demo order {rule!r}: one of {', '.join(ORDERS)}")
    fixed = (list(range(n)), list(range(n))[::-1])
    rng = np.random.default_rng(seed)
    for _ in range(100):
        perm = [int(i) for i in rng.permutation(n)]
        if n < 3 or perm not in fixed:
            return perm
    raise AssertionError("unreachable: k >= 3 has 4+ other permutations")


def icl_templates(task: Task) -> dict[str, Template]:
    return template_variants(task.template, task.labels)


def answer_label(task: Task, ex) -> int | None:
    """The answer as an index into the task's fixed label set (SST-2, AG News, BoolQ); None for open choices
    (ARC, PIQA), where one example's answer index says nothing about another's."""
    return int(ex.gold) if task.labels else None


def _score(model, tokenizer, prompt: str, ex) -> tuple[int, float]:
    means = [s.mean for s in score_continuations(model, tokenizer, prompt, [" " + c for c in ex.choices])]
    return int(np.argmax(means)), float(means[ex.gold])


def run_query(task: Task, qi: int, k: int, strategies: tuple[str, ...], model, tokenizer, pool_emb: np.ndarray,
              test_emb: np.ndarray, itself: SelfMatches, orders: tuple[str, ...] = ORDERS, seed: int = 0) -> dict:
    """One query, every variant: zero-shot per template, then per strategy one demo set (``pick_demos``, least
    similar first) rendered in each template and each order of ``orders``.

    Returns a JSON-ready record: ``gold``; ``gold_label`` and ``nearest_label`` (the label of the most similar pool
    item, the no-LM 1-NN baseline; None for open-choice tasks); ``zero_shot[template] = {pred, gold_lp}``; and per
    strategy its ``demos`` (ids, least similar first), ``demo_labels``, ``orders[rule]`` (positions in prompt order)
    and ``variants["template/rule"] = {pred, gold_lp}`` (gold_lp: the gold answer's log-probability per token)."""
    start = time.perf_counter()
    ex = task.test[qi]
    exclude = itself.matches(None, ex.input)
    templates = icl_templates(task)
    nearest = pick_demos(test_emb[qi], pool_emb, 1, "knn", exclude=exclude)
    rec = {"task": task.name, "query": qi, "id": ex.id, "gold": ex.gold, "n_choices": len(ex.choices), "k": k,
           "gold_label": answer_label(task, ex),
           "nearest_label": answer_label(task, task.pool[nearest[0].index]) if nearest else None,
           "zero_shot": {}, "strategies": {}}
    for name, template in templates.items():
        pred, gold_lp = _score(model, tokenizer, render(template, [], ex.fields), ex)
        rec["zero_shot"][name] = {"pred": pred, "gold_lp": gold_lp}
    labels = [task.label_of(e) for e in task.pool] if "balanced" in strategies else None
    for strategy in strategies:
        picks = pick_demos(test_emb[qi], pool_emb, k, strategy, seed=seed * 100_003 + qi, labels=labels,
                             exclude=exclude)
        demos = [task.pool[p.index] for p in picks]
        cell = {"demos": [d.id for d in demos], "demo_labels": [answer_label(task, d) for d in demos],
                "similarities": [round(p.similarity, 4) for p in picks], "orders": {}, "variants": {}}
        for rule in orders:
            positions = demo_order(len(demos), rule, seed * 100_003 + qi)
            cell["orders"][rule] = positions
            for name, template in templates.items():
                prompt = render(template, [demos[i].fields for i in positions], ex.fields)
                pred, gold_lp = _score(model, tokenizer, prompt, ex)
                cell["variants"][f"{name}/{rule}"] = {"pred": pred, "gold_lp": gold_lp}
        rec["strategies"][strategy] = cell
    rec["seconds"] = round(time.perf_counter() - start, 2)
    return rec
