"""Fixed few-shot prompt sets for the serving benchmark: raw, demo-selected and compressed, same queries.

- raw: the published fixed context for every query (GSM8K: OLMES 8-shot chain of thought; ARC-Easy: 5 demos
  drawn once with seed 0), as lm-eval serves them;
- selected: the same number of demos per query, chosen by kNN on MiniLM embeddings from the train pool;
- compressed: the raw context compressed once (question-agnostic, it is shared) to ``rate`` x its tokens.

Quality is scored on the answer texts (cloze, length-normalized log-likelihood), so the serving cost of each
set can be weighed against what it keeps.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field

import numpy as np

from core.shared_data import shared_data_dir
from core.lm_scoring import score_continuations
from core.statistics import majority_baseline, mean_ci, proportion_ci

SETS = ("raw", "selected", "compressed")
SHOTS = {"gsm8k": 8, "arc_easy": 5}


@dataclass
class Query:
    text: str            # what follows the demos: the question and the answer cue
    choices: list[str]   # answer texts, each with its leading space
    gold: int


@dataclass
class PromptSet:
    task: str
    name: str
    prompts: list[str]
    queries: list[Query]
    notes: dict = field(default_factory=dict)


def gsm8k_items(n: int) -> tuple[list[str], list[Query]]:
    """The OLMES 8-shot demos and the first ``n`` test questions with their gold solutions."""
    rows = []
    with gzip.open(shared_data_dir() / "eval_mc/gsm8k/gold_bpb_5shot/requests.jsonl.gz", "rt") as f:
        for line in f:
            rows.append(json.loads(line))
            if len(rows) == n:
                break
    demos, _ = rows[0]["request"]["context"].rsplit("\n\nQuestion: ", 1)
    queries = [Query("Question: " + r["request"]["context"].rsplit("\n\nQuestion: ", 1)[1],
                     [r["request"]["continuation"]], 0) for r in rows]
    return demos.split("\n\n"), queries


def gsm8k_train_demos() -> list[tuple[str, str]]:
    """(question, demo text) in the OLMES format: calculator marks dropped, ``#### n`` as "So the answer is n."."""
    out = []
    for line in (shared_data_dir() / "math/gsm8k_train.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        body, final = r["answer"].rsplit("####", 1)
        steps = " ".join(s.strip() for s in re.sub(r"<<[^>]*>>", "", body).splitlines() if s.strip())
        out.append((r["question"], f"Question: {r['question']}\nAnswer: {steps} So the answer is {final.strip()}."))
    return out


def demo_text(example) -> str:
    """A cloze demonstration as the prompts show it: the example's input, a space, its answer text. The compressor
    classifier's ``meta["trained_items"]`` holds CRC-32s of these texts, so trainer and benchmarks build them here."""
    return f"{example.input} {example.output}"


def cloze_items(task_name: str, n: int, shots: int = 5):
    """Fixed demos (seed 0) and ``n`` sampled test queries; also the task, for its pool."""
    from evals.eval_sets import load_task

    task = load_task(task_name, max_passage_chars=400)
    demo_idx, test_idx = cloze_draw(task, shots, n)
    return [demo_text(task.pool[i]) for i in demo_idx], [
        Query(task.test[i].input, [" " + c for c in task.test[i].choices], task.test[i].gold) for i in test_idx], task


def cloze_draw(task, shots: int, n: int) -> tuple[list[int], list[int]]:
    """The fixed (seed 0) draw ``cloze_items`` makes: ``shots`` pool indices for the demos, then ``n`` sorted test
    indices. The compressor classifier's trainer calls it to keep those demos out of its training prompts."""
    rng = np.random.default_rng(0)
    demos = rng.permutation(len(task.pool))[:shots].tolist()
    return demos, sorted(rng.permutation(len(task.test))[:n].tolist())


def build(task: str, n: int, model, tokenizer, embed, rate: float = 0.33) -> dict[str, PromptSet]:
    from prompts.compress import compress
    from prompts.demos import SelfMatches, pick_demos

    k = SHOTS[task]
    if task == "gsm8k":
        context, queries = gsm8k_items(n)
        pool = gsm8k_train_demos()
        pool_keys, pool_texts = [q for q, _ in pool], [t for _, t in pool]
        query_keys = [q.text.removeprefix("Question: ").removesuffix("\nAnswer:") for q in queries]
    else:
        context, queries, t = cloze_items(task, n, k)
        pool_keys = pool_texts = [demo_text(e) for e in t.pool]
        query_keys = [q.text for q in queries]
    pool_emb, query_emb = embed(pool_keys), embed(query_keys)
    itself = SelfMatches([str(i) for i in range(len(pool_keys))], pool_keys)  # a query is never its own demo
    selected = [[pool_texts[p.index] for p in pick_demos(query_emb[i], pool_emb, k, "knn",
                                                            exclude=itself.matches(None, query_keys[i]))]
                for i in range(len(queries))]
    squeezed = compress({"context": context}, rate=rate, model=model, tokenizer=tokenizer, embed=embed)
    joined = "\n\n".join(context)
    return {
        "raw": PromptSet(task, "raw", [f"{joined}\n\n{q.text}" for q in queries], queries, {"shots": k}),
        "selected": PromptSet(task, "selected", ["\n\n".join(d) + f"\n\n{q.text}" for d, q in zip(selected, queries)],
                              queries, {"shots": k, "strategy": "knn"}),
        "compressed": PromptSet(task, "compressed", [f"{squeezed.text}\n\n{q.text}" for q in queries], queries,
                                {"shots": k, "rate": rate, "context_ratio": squeezed.ratio,
                                 "compressor_s": squeezed.latency_s}),
    }


def compress_per_query(ps: PromptSet, context: list[str], target_tokens: list[int], model, tokenizer, embed,
                       cache_path=None) -> PromptSet:
    """Each query's whole prompt compressed on its own (LongLLMLingua style: demos cut with the question in view,
    the question kept whole) to ``target_tokens[i]``: no two prompts share a prefix, so a prefix cache cannot help.

    The compressor is slow (seconds per prompt on a CPU), so results are kept in ``cache_path`` (JSON, keyed by
    budget and query text; delete it to recompute). ``notes["compressor_s"]`` lists each prompt's own cost as
    measured when it was compressed (cached ones keep their first measurement)."""
    import hashlib
    from pathlib import Path

    from prompts.compress import compress

    cache = {}
    if cache_path is not None and Path(cache_path).exists():
        cache = json.loads(Path(cache_path).read_text())
    joined = "\n\n".join(context)
    prompts, seconds = [], []
    for q, target in zip(ps.queries, target_tokens):
        key = hashlib.sha256(f"{target}\0{joined}\0{q.text}".encode()).hexdigest()
        if key not in cache:
            out = compress({"context": context, "question": q.text}, target_tokens=target, model=model,
                           tokenizer=tokenizer, embed=embed)
            cache[key] = {"text": out.text, "seconds": out.latency_s}
            if cache_path is not None:
                Path(cache_path).parent.mkdir(parents=True, exist_ok=True)
                Path(cache_path).write_text(json.dumps(cache))
        prompts.append(cache[key]["text"])
        seconds.append(cache[key]["seconds"])
    return PromptSet(ps.task, "compressed_per_query", prompts, ps.queries,
                     {"shots": len(context), "budget": "the shared-compressed prompt's tokens, per query",
                      "compressor_s": seconds, "shared_prefix": False})


def quality(prompts: list[str], queries: list[Query], model, tokenizer) -> dict:
    """Gold log-prob per token for every query; accuracy where there is more than one choice."""
    gold_lp, correct, multi = [], 0, all(len(q.choices) > 1 for q in queries)
    for prompt, q in zip(prompts, queries):
        scores = score_continuations(model, tokenizer, prompt, q.choices if multi else q.choices[q.gold: q.gold + 1])
        means = [s.mean for s in scores]
        gold_lp.append(means[q.gold] if multi else means[0])
        correct += multi and int(np.argmax(means)) == q.gold
    out = {"gold_logprob_per_token": mean_ci(gold_lp)}
    if multi:  # beside accuracy, the constant answer's: always the most frequent gold choice
        out["accuracy"] = proportion_ci(int(correct), len(queries)) | {
            "majority_baseline": majority_baseline([q.gold for q in queries])["accuracy"]}
    return out
