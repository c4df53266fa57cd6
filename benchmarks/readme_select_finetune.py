"""README block and Markdown report of ``benchmarks/select_finetune.py`` (results/select_finetune.json).

Standard library only (``benchmarks.readme_tables`` imports renderers in its fast test). Every verdict word is
computed here from the paired interval stored in the JSON.
"""

from __future__ import annotations

from benchmarks.readme_tables import prose

SETS = (("gsm8k_test", "GSM8K test"), ("alpaca_heldout", "Alpaca held-out"))


def _interval(v: dict | None) -> str:
    if not v or v.get("delta") is None:
        return ""
    if not v.get("ci"):
        return f"{v['delta']:+.3f} (no interval)"
    lo, hi = v["ci"]
    return f"{v['delta']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def combined(cell: dict) -> str | None:
    """better / worse only when the seed interval and (where stored) the test-item interval both say so."""
    seeds, items = cell.get("vs_random"), cell.get("vs_random_items")
    if not seeds:
        return None
    if items is None:
        return seeds["verdict"]
    return seeds["verdict"] if seeds["verdict"] == items["verdict"] else "within noise"


def _delta(cell: dict) -> str:
    text = _interval(cell.get("vs_random"))
    if cell.get("vs_random_items"):
        text += f" / {_interval(cell['vs_random_items'])}"
    mark = {"better": " **better**", "worse": " **worse**"}.get(combined(cell) or "", "")
    return text + mark


def table(result: dict) -> str:
    """One row per (budget, strategy): items, GSM8K share, mean score per set and the paired delta vs random."""
    head = "| budget | strategy | items | answer tokens | GSM8K share | " + " | ".join(
        f"{label} | Δ vs random [95% CI]" for _, label in SETS) + " |"
    lines = [head, "|---|---|---:|---:|---:|" + "---:|---|" * len(SETS),
             "| - | no fine-tuning | 0 | 0 | - | " + " | ".join(f"{result['base'][k]:.3f} | " for k, _ in SETS) + "|"]
    for r in result["summary"]:
        cells = " | ".join(f"{r[k]['mean']:.3f} | {_delta(r[k])}" for k, _ in SETS)
        lines.append(f"| {r['budget']} | {r['strategy']} | {r['items']:.0f} | {r['trained_tokens']:.0f} | "
                     f"{r['gsm8k_share']:.2f} | {cells} |")
    return "\n".join(lines)


def verdicts(result: dict) -> dict[str, list[str]]:
    """{"better": [...], "worse": [...], "within noise": [...]} as "strategy (budget, set)" strings."""
    out: dict[str, list[str]] = {"better": [], "worse": [], "within noise": []}
    for r in result["summary"]:
        for key, label in SETS:
            v = combined(r[key])
            if v:
                out[v].append(f"{r['strategy']} ({r['budget']}, {label})")
    return out


def reading(result: dict) -> str:
    """The claims the intervals support, in words."""
    spec, v = result["spec"], verdicts(result)
    n = len(result["seeds"])
    parts = [
        f"LoRA rank {spec['rank']} on q/k/v/o of {result['model']}, {spec['epochs']} epoch, lr {spec['lr']:g}, "
        f"batch {spec['batch_size']}, sequences <= {spec['max_tokens']} tokens; {n} seeds shared by every arm "
        f"(paired). Pool: {result['pool']['size']} pairs ({result['pool']['gsm8k']} GSM8K train, the rest Alpaca); "
        f"budgets: {result['budgets']['examples']['value']:.0f} examples"
        + (f" or {result['budgets']['tokens']['value']:.0f} rendered tokens" if "tokens" in result["budgets"] else "")
        + f"; held out: {result['eval_sizes']['gsm8k_test']} GSM8K test and "
        f"{result['eval_sizes']['alpaca_heldout']} Alpaca items. Score: mean gold-answer log-probability per token "
        "(nats, higher is better).",
        ("Supported by both paired 95% intervals (over the shared seeds, and over the test items) excluding 0: "
         if _has_items(result) else "Supported by a paired 95% interval that excludes 0: ")
        + (("better than random: " + ", ".join(v["better"]) + "; ") if v["better"] else "no strategy beats random; ")
        + (("worse than random: " + ", ".join(v["worse"]) + ".") if v["worse"] else "none is worse than random.")
        + f" The other {len(v['within noise'])} comparisons are within noise"
        + (f" (median paired interval half-width {_median_half_width(result):.3f} nats/token: smaller effects go "
           "undetected)." if _median_half_width(result) is not None else "."),
        _pooled(result),
        "GSM8K share of the subsets (first budget, mean over seeds): "
        + ", ".join(f"{r['strategy']} {r['gsm8k_share']:.2f}" for r in result["summary"]
                    if r["budget"] == result["summary"][0]["budget"])
        + f"; of the pool: {result['pool']['gsm8k'] / result['pool']['size']:.2f}. A gain on GSM8K test can come "
        "from a subset's mix of sources, not only from its items' quality.",
        ("Two intervals per comparison: the first is paired over the seeds and covers training randomness "
         "(adapter initialisation, data order, and the subset for seeded strategies) with the test items fixed; the "
         f"second is paired over the {result['eval_sizes']['gsm8k_test'] + result['eval_sizes']['alpaca_heldout']} "
         "test items, each averaged over the seeds, and covers the sampling of the test items. A verdict needs both. "
         if _has_items(result) else
         "The evaluation items are the same for every arm, so these intervals cover the variation between training "
         "seeds (adapter initialisation, data order, and the subset for seeded strategies), not the sampling of the "
         f"{result['eval_sizes']['gsm8k_test'] + result['eval_sizes']['alpaca_heldout']} test items. ")
        + "Longest-k, IFD and DEITA pick the same subset for every seed. No correction for the number of comparisons.",
    ]
    return "\n\n".join(prose(p) for p in parts)


def _pooled(result: dict) -> str:
    """The verdicts on both held-out sets pooled (the 'all' score: every item of both sets, equally weighted)."""
    by: dict[str, list[str]] = {"better": [], "worse": [], "within noise": []}
    for r in result["summary"]:
        v = combined(r["all"]) if "all" in r else None
        if v:
            by[v].append(f"{r['strategy']} ({r['budget']})")
    n = result["eval_sizes"]["gsm8k_test"] + result["eval_sizes"]["alpaca_heldout"]
    return (f"Pooled over both held-out sets ({n} items, the mix the kNN/DSIR target was drawn from): "
            + "; ".join(f"{k} than random: {', '.join(v)}" if k != "within noise" else f"within noise: {', '.join(v)}"
                        for k, v in by.items() if v) + ".")


def _has_items(result: dict) -> bool:
    return any(r[k].get("vs_random_items") for r in result["summary"] for k, _ in SETS)


def _median_half_width(result: dict) -> float | None:
    widths = sorted((r[k]["vs_random"]["ci"][1] - r[k]["vs_random"]["ci"][0]) / 2 for r in result["summary"]
                    for k, _ in SETS if r[k].get("vs_random") and r[k]["vs_random"].get("ci"))
    return widths[len(widths) // 2] if widths else None


def markdown(result: dict) -> str:
    return f"# Selection on an LLM: LoRA fine-tunes of {result['model']}\n\n{block(result)}\n"


def block(result: dict) -> str:
    """The README block: the reading, then the table."""
    return (f"{reading(result)}\n\n{table(result)}\n\n" + prose(
            "Scores: mean gold-answer log-probability per token (nats); Δ: strategy minus random, 95% paired t "
            "intervals over the seeds" + (" / over the test items" if _has_items(result) else "")
            + f". Run: `{result['command']}` ({len(result['runs'])} fine-tunes, "
            f"{sum(r['seconds'] for r in result['runs']) / 60:.0f} min of fine-tuning and scoring in all on a shared "
            f"2-core CPU, median {_median_seconds(result):.0f} s each; timings are noisy, other jobs shared the "
            "cores; the command resumes finished runs from its partial file)."))


def _median_seconds(result: dict) -> float:
    seconds = sorted(r["seconds"] for r in result["runs"])
    return seconds[len(seconds) // 2]
