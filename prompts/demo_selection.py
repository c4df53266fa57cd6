"""Demonstrations for a file of queries: embed pool and queries once, pick k per query, render the prompt.

Each output row logs the exact demos (ids, similarity, order) used for its query, so any prompt can be
rebuilt and any result traced back to its demonstrations. Pool items that are the query itself (same id, or the
same normalized input text under another id) are never its demos; each row lists them in ``excluded_self``.
"""

from __future__ import annotations

import numpy as np

from core.pool import Pool
from prompts.demos import SelfMatches, pick_demos
from prompts.templates import Template, render, render_chat


def _fields(pool: Pool, i: int) -> dict:
    # instruction data: prompt -> answer; plain records: the text is the input and there is no answer
    if pool.prompts[i]:
        return {"input": pool.prompts[i], "output": pool.responses[i]}
    return {"input": pool.responses[i], "output": str(pool.metadata[i].get("label", ""))}


def demos_for_queries(pool: Pool, queries: Pool, k: int, strategy: str = "knn", seed: int = 0, lam: float = 0.5,
                      template: Template | None = None, chat: bool = False, embed=None,
                      label_field: str = "label") -> list[dict]:
    """One row per query: ``query_id``, ``strategy``, ``k``, ``seed``, ``demos`` (id, similarity, position),
    ``excluded_self`` (ids of pool items left out because they are the query) and the rendered ``prompt``."""
    if embed is None:
        from core.embed import Embedder

        embed = Embedder().embed
    template = template or Template()
    pool_fields = [_fields(pool, i) for i in range(len(pool))]
    query_fields = [_fields(queries, i) for i in range(len(queries))]
    pool_emb = embed([f"{f['input']} {f['output']}".strip() for f in pool_fields])
    query_emb = embed([f["input"] for f in query_fields]) if len(queries) else np.zeros((0, pool_emb.shape[1]))
    labels = [str(m.get(label_field, f["output"])) for m, f in zip(pool.metadata, pool_fields)]
    tokenizer = None
    if chat:
        from core.models import load_smollm2_tokenizer

        tokenizer = load_smollm2_tokenizer()
    self_matches = SelfMatches(pool.ids, [f["input"] for f in pool_fields])
    rows = []
    for qi in range(len(queries)):
        itself = self_matches.matches(queries.ids[qi], query_fields[qi]["input"])
        picks = pick_demos(query_emb[qi], pool_emb, k, strategy, seed=seed * 100_003 + qi, lam=lam,
                             labels=labels if strategy == "balanced" else None, exclude=itself)
        demos = [pool_fields[p.index] for p in picks]
        query = {"input": query_fields[qi]["input"], "output": ""}
        prompt = render_chat(template, demos, query, tokenizer) if chat else render(template, demos, query)
        rows.append({"query_id": queries.ids[qi], "strategy": strategy, "k": k, "seed": seed,
                     "demos": [{"id": pool.ids[p.index], "similarity": round(p.similarity, 6), "position": n}
                               for n, p in enumerate(picks)],
                     "excluded_self": [pool.ids[i] for i in itself],
                     "prompt": prompt})
    return rows


def demos_summary(rows: list[dict], pool_size: int, quarantined: int = 0) -> dict:
    """What a demos run did: queries, pool size, and how many pool items were left out as the query itself
    (``excluded_self``: (query, pool item) pairs; ``queries_in_pool``: queries with at least one)."""
    return {"queries": len(rows), "pool": pool_size, "quarantined": quarantined,
            "excluded_self": sum(len(r["excluded_self"]) for r in rows),
            "queries_in_pool": sum(bool(r["excluded_self"]) for r in rows),
            "short_of_k": sum(len(r["demos"]) < r["k"] for r in rows)}
