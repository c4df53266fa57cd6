"""In-context evaluation of demonstration selection: SmolLM2 scores each answer text after k demos.

The same query sample is used for every condition (paired comparisons); every prompt records the demo ids it
used, so a result can be traced to the exact prompt.
"""

from __future__ import annotations

import time

import numpy as np

from core.lm_scoring import score_continuations
from core.statistics import majority_baseline, mean_ci, proportion_ci
from evals.tasks import Task
from prompts.demos import SelfMatches, select_demos
from prompts.templates import render


def query_sample(task: Task, n: int, seed: int = 0) -> list[int]:
    idx = np.random.default_rng(seed).permutation(len(task.test))[:n]
    return sorted(int(i) for i in idx)


def task_embeddings(task: Task, embed, queries: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pool examples embed input + answer; queries embed their input only (the answer is unknown).

    With ``queries``, only those test rows are embedded (the others stay zero)."""
    pool = embed([f"{e.input} {e.output}" for e in task.pool])
    rows = list(range(len(task.test))) if queries is None else queries
    test = np.zeros((len(task.test), pool.shape[1]), dtype=np.float32)
    test[rows] = embed([task.test[i].input for i in rows])
    return pool, test


def run_condition(task: Task, queries: list[int], k: int, strategy: str, seed: int, model, tokenizer,
                  pool_emb: np.ndarray, test_emb: np.ndarray, lam: float = 0.5) -> dict:
    start = time.perf_counter()
    labels = [task.label_of(e) for e in task.pool] if strategy == "balanced" else None
    itself = SelfMatches([str(i) for i in range(len(task.pool))], [e.input for e in task.pool])
    records = []
    prompt_tokens = 0
    for qi in queries:
        ex = task.test[qi]
        # a pool item with the query's input text is the query itself: never its own demo (issue 15)
        picks = select_demos(test_emb[qi], pool_emb, k, strategy, seed=seed * 100_003 + qi, lam=lam, labels=labels,
                             exclude=itself.matches(None, ex.input))
        demos = [task.pool[p.index] for p in picks]
        prompt = render(task.template, [d.fields for d in demos], ex.fields)
        scores = score_continuations(model, tokenizer, prompt, [" " + c for c in ex.choices])
        means = [s.mean for s in scores]
        pred = int(np.argmax(means))
        prompt_tokens += len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        records.append({"id": ex.id, "demos": [d.id for d in demos], "pred": pred, "gold": ex.gold,
                        "correct": pred == ex.gold, "gold_logprob_per_token": means[ex.gold]})
    return {
        "task": task.name, "k": k, "strategy": strategy, "seed": seed, "n": len(records),
        "accuracy": proportion_ci(sum(r["correct"] for r in records), len(records)),
        # the constant answer to beat: always the most frequent gold label (choice index) of these queries
        "majority_baseline": majority_baseline([r["gold"] for r in records]),
        "gold_logprob_per_token": mean_ci([r["gold_logprob_per_token"] for r in records]),
        "mean_prompt_tokens": prompt_tokens / max(1, len(records)),
        "seconds": round(time.perf_counter() - start, 2), "records": records,
    }
