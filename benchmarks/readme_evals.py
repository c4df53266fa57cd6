"""README block of the before/after demo run (``benchmarks/results/eval_demo/``): raw vs curated arm, the compare
verdicts and the paragraphs around them. Standard library only. The redesigned pretraining ablation has its own
block (``benchmarks/readme_ablation.py``).
"""

from __future__ import annotations

import math

from benchmarks.readme_tables import prose

ROWS = (("heldout_loss/wikitext", "held-out loss, wikitext-2 test (nats/token)", "{:.3f}"),
        ("heldout_loss/raw_heldout", "held-out loss, raw mail slice", "{:.3f}"),
        ("serving/ttft_p50_s", "vLLM server TTFT p50 (s)", "{:.4f}"))


def _value(m: dict, fmt: str) -> str:
    ci = m.get("ci95")
    return fmt.format(m["mean"]) + (f" [{fmt.format(ci[0])}, {fmt.format(ci[1])}]" if ci else "")


def eval_demo(compare: list, raw: dict, curated: dict) -> str:
    cmp = {c["metric"]: c for c in compare}
    runs = curated["details"]["runs"]
    tokens = runs[0]["final"]["tokens"]
    docs = curated["data"]["documents"]
    avail = cmp["data/tokens_available"]
    mcr = curated["metrics"]["data/mcr_tokens_kept"]["mean"]
    requests = len(curated["details"]["serving_latencies"]["ttft_s"])
    out = [prose(
        f"**Measured on the demo shard** (the command above: {tokens // raw['config']['seq_len'] // raw['config']['batch_size']} "
        f"steps of {raw['config']['seq_len'] * raw['config']['batch_size']:,} = {tokens:,} training tokens per run (the "
        f"budget was {raw['config']['token_budget']:,}), {len(runs)} seeds per arm, one CPU thread for training; served "
        f"by `vllm serve` on 127.0.0.1, {requests} requests per arm, concurrency 2, 16 output tokens; reports and "
        f"comparison in `benchmarks/results/eval_demo/`). Raw = the {docs['raw']:,} SpamAssassin messages as shipped "
        f"(headers included, {raw['metrics']['data/tokens_available']['mean'] / 1e6:.1f}M tokens available); curated = "
        f"the {docs['curated']:,} bodies the demo config kept when this was measured (it keeps more now: see \"What "
        f"`make demo` shows\"; {curated['metrics']['data/tokens_available']['mean'] / 1e6:.2f}M tokens, MCR {mcr:.3f}); "
        f"{docs['held_out']} raw messages held out of both arms."), "",
        "| metric | raw | curated | curated - raw [simultaneous 95%] | verdict |", "|---|---|---|---|---|"]
    for key, label, fmt in ROWS:
        c = cmp[key]
        test = {"bootstrap (requests)": "bootstrap"}.get(c["test"], c["test"].split(" (")[0])
        d = (f"{c['delta']:+.3f} [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}]" if fmt == "{:.3f}"
             else f"{c['delta']:+.4f} [{c['ci'][0]:+.4f}, {c['ci'][1]:+.4f}]")
        out.append(f"| {label} | {_value(raw['metrics'][key], fmt)} | {_value(curated['metrics'][key], fmt)} | "
                   f"{d} {test} | {c['verdict']} |")
    wiki = cmp["heldout_loss/wikitext"]
    n_ci = sum(c["ci"] is not None for c in compare)
    gaps = [r - c for r, c in zip(raw["metrics"]["heldout_loss/wikitext"]["values"],
                                  curated["metrics"]["heldout_loss/wikitext"]["values"])]
    alone = wiki["ci95"]
    alone_word = "excludes 0" if alone[1] < 0 or alone[0] > 0 else "includes 0"
    losses = [v for m in (raw, curated) for v in m["metrics"]["heldout_loss/wikitext"]["values"]]
    e2e = cmp["serving/e2e_mean_s"]
    others = [c["metric"] for c in compare if c["metric"].startswith("serving/") and c["verdict"] not in
              ("within noise", "missing")]
    first = (
        f"Intervals: Student-t over the {len(runs)} seeds, bootstrap over the {requests} requests for the TTFT median; "
        f"the compare column is `benchmarks/results/eval_demo/compare.md`, regenerated with `winnow compare` from the "
        f"committed reports. Its intervals are simultaneous over the {n_ci} metrics that have one (Bonferroni), "
        f"paired on seeds. On clean text the curated arm is lower on every seed (by {min(gaps):.2f}-{max(gaps):.2f} "
        f"nats)" if min(gaps) > 0 else f"On clean text the seeds disagree (raw - curated {min(gaps):.2f} to "
        f"{max(gaps):.2f} nats)")
    out += ["", prose(first +
        f", and the paired 95% interval for that one metric alone, [{alone[0]:+.3f}, {alone[1]:+.3f}], {alone_word}. "
        f"Counted among the {n_ci} metrics compared at once it is {wiki['verdict']}: with {len(runs)} seeds this is "
        f"suggestive, not shown. It is {cmp['heldout_loss/raw_heldout']['verdict']} on the raw slice, and it should "
        f"be: that slice is mostly mail headers, which curation removes. At this budget both models are barely "
        f"trained ({min(losses):.1f}-{max(losses):.1f} nats against ln(49,152) = {math.log(49152):.1f} at the start), "
        f"so this shows the mechanics, not the effect of curation (the pretraining ablation below measures that). The "
        f"two arms are the same architecture, so serving them should cost the same. Serving verdicts other than "
        f"within noise: {', '.join(f'`{m}`' for m in others) or 'none'}"
        + (f" (E2E mean {1000 * curated['metrics']['serving/e2e_mean_s']['mean']:.0f} vs "
           f"{1000 * raw['metrics']['serving/e2e_mean_s']['mean']:.0f} ms, {e2e['test']} over {requests} requests), "
           f"drift between two cells run one after the other on a shared machine, which no interval over requests "
           f"can see. Read it as noise." if others == ["serving/e2e_mean_s"] else "."))]
    return "\n".join(out)
