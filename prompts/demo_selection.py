"""Demonstrations for a file of queries: embed pool and queries once, pick k per query, render the prompt.

Each output row logs the exact demos (ids, similarity, order) used for its query, so any prompt can be
rebuilt and any result traced back to its demonstrations.
"""

from __future__ import annotations

import numpy as np

from curation.select.pool import Pool
from prompts.demos import select_demos
from prompts.templates import Template, render, render_chat


def _fields(pool: Pool, i: int) -> dict:
    # instruction data: prompt -> answer; plain records: the text is the input and there is no answer
    if pool.prompts[i]:
        return {"input": pool.prompts[i], "output": pool.responses[i]}
    return {"input": pool.responses[i], "output": str(pool.metadata[i].get("label", ""))}


def demos_for_queries(pool: Pool, queries: Pool, k: int, strategy: str = "knn", seed: int = 0, lam: float = 0.5,
                      template: Template | None = None, chat: bool = False, embed=None,
                      label_field: str = "label") -> list[dict]:
    if embed is None:
        from curation.embed import Embedder

        embed = Embedder().embed
    template = template or Template()
    pool_fields = [_fields(pool, i) for i in range(len(pool))]
    query_fields = [_fields(queries, i) for i in range(len(queries))]
    pool_emb = embed([f"{f['input']} {f['output']}".strip() for f in pool_fields])
    query_emb = embed([f["input"] for f in query_fields]) if len(queries) else np.zeros((0, pool_emb.shape[1]))
    labels = [str(m.get(label_field, f["output"])) for m, f in zip(pool.metadata, pool_fields)]
    tokenizer = None
    if chat:
        from curation.models import load_smollm2_tokenizer

        tokenizer = load_smollm2_tokenizer()
    rows = []
    for qi in range(len(queries)):
        picks = select_demos(query_emb[qi], pool_emb, k, strategy, seed=seed * 100_003 + qi, lam=lam,
                             labels=labels if strategy == "balanced" else None)
        demos = [pool_fields[p.index] for p in picks]
        query = {"input": query_fields[qi]["input"], "output": ""}
        prompt = render_chat(template, demos, query, tokenizer) if chat else render(template, demos, query)
        rows.append({"query_id": queries.ids[qi], "strategy": strategy, "k": k, "seed": seed,
                     "demos": [{"id": pool.ids[p.index], "similarity": round(p.similarity, 6), "position": n}
                               for n, p in enumerate(picks)],
                     "prompt": prompt})
    return rows
