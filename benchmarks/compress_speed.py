"""The speed half of ``benchmarks/compress_quality.py`` (run from there: ``--speed-prompts``, ``--speed-rates``):
both compressors on the same per-query 5-shot ARC-Easy prompts and budgets, in alternating order, wall and CPU
seconds per prompt with bootstrap intervals on the medians, and each compressed prompt scored on its query."""

from __future__ import annotations

import time

from benchmarks.compress_quality import COMPRESSORS, free_agreement, per_query


def speed(n_prompts: int, rates, model, tok, embedders: dict) -> dict:
    """Both compressors on the same per-query 5-shot ARC-Easy prompts and budgets, in alternating order.

    embedders: one per method, each with its own empty cache, so both embed each new question (a miss) and
    reuse the demos' vectors (hits), as a deployment compressing query after query would."""
    import numpy as np

    from core.statistics import paired_difference, percentile_ci, verdict
    from evals.prompt_sets import cloze_items
    from prompts.compress import CompressConfig, compress

    context, queries = cloze_items("arc_easy", n_prompts)[:2]
    rows = []
    for i, q in enumerate(queries):
        for rate in rates:
            order = COMPRESSORS if i % 2 == 0 else COMPRESSORS[::-1]
            row = {"prompt": i, "rate": rate}
            for method in order:
                t0, c0 = time.perf_counter(), time.process_time()
                c = compress({"context": context, "question": q.text}, rate=rate, model=model, tokenizer=tok,
                             embed=embedders[method], config=CompressConfig(method=method))
                row[method] = {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                               "ratio": c.ratio, "result": c}
            # the compressed prompt ends with the query (it is the question): score its gold answer there
            for method in COMPRESSORS:
                scores = per_query([row[method]["result"].text], [q], model, tok)
                row[method] |= {"gold": scores["gold"][0], "correct": scores["correct"][0]}
            row["agreement"] = free_agreement(context, row["self_information"]["result"], row["classifier"]["result"])
            for method in COMPRESSORS:
                del row[method]["result"]
            rows.append(row)
            print(f"speed prompt {i} rate {rate}: self-information {row['self_information']['wall_s']:.2f} s, "
                  f"classifier {row['classifier']['wall_s']:.3f} s", flush=True)
    out = {"prompts": n_prompts, "rates": list(rates), "rows": rows, "by_rate": {}}
    for rate in [*rates, "all"]:
        sel = [r for r in rows if rate == "all" or r["rate"] == rate]
        res = {}
        for clock in ("wall_s", "cpu_s"):
            res[clock] = {m: percentile_ci([r[m][clock] for r in sel], 50) for m in COMPRESSORS}
            res[clock]["speedup_median"] = percentile_ci(
                [r["self_information"][clock] / r["classifier"][clock] for r in sel], 50)
        res["gold_logprob"] = {m: float(np.mean([r[m]["gold"] for r in sel])) for m in COMPRESSORS}
        d = paired_difference({k: r["self_information"]["gold"] for k, r in enumerate(sel)},
                              {k: r["classifier"]["gold"] for k, r in enumerate(sel)})
        res["classifier_minus_self_information_gold"] = d | {"verdict": verdict(d["ci"], True, d["delta"])}
        res["accuracy"] = {m: float(np.mean([r[m]["correct"] for r in sel])) for m in COMPRESSORS}
        agree = [r["agreement"] for r in sel if r["agreement"] and r["agreement"]["agreement"] is not None]
        res["label_agreement"] = {"mean": float(np.mean([a["agreement"] for a in agree])) if agree else None,
                                  "prompts": len(agree), "prompts_with_other_coarse_choice": len(sel) - len(agree)}
        out["by_rate"][str(rate)] = res
    return out
