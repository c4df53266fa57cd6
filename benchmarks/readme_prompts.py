"""README blocks of the prompt sections owned here (prompt search). Standard library only.

Owners of the ICL, compression and serving sections add their render functions in modules of their own and register
them in ``benchmarks/readme_tables.py``.
"""

from __future__ import annotations

from benchmarks.readme_tables import prose


def _cand(j: dict, name: str) -> dict:
    return next(c for c in j["candidates"] if c["name"] == name)


def prompt_search(run: dict, draw1: dict) -> str:
    """The two SST-2 prompt-search runs (prompt_search.json, prompt_search_draw1.json) as the README's bullets."""
    seed = _cand(run, run["test"]["seed"]["name"])
    rewrites = [c["dev_accuracy"]["mean"] for c in run["candidates"] if c["origin"].startswith("rewrite")]
    chose_seed = run["chosen"] == run["test"]["seed"]["name"]
    best = "best" if seed["dev_accuracy"]["mean"] >= max(c["dev_accuracy"]["mean"] for c in run["candidates"]) else "a"
    first = (f"With the command above ({run['config']['candidates']} candidates), the seed prompt ({seed['k']} demos, "
             f"{seed['dev_mean_prompt_tokens']:.0f} tokens) had the {best} dev accuracy ({seed['dev_accuracy']['mean']:.2f} of "
             f"{seed['dev_accuracy']['n']})" + (" and was chosen, so the held-out check is trivially 0." if chose_seed
                                               else f"; `{run['chosen']}` was chosen.")
             + f" SmolLM2-135M's rewrites are short but often invert the meaning (\"{run['rewrites'][0]}\") and "
             f"scored {min(rewrites):.2f}-{max(rewrites):.2f} on dev.")
    t = draw1["test"]
    d = t["accuracy_difference"]
    chosen = _cand(draw1, draw1["chosen"])
    p = draw1["prefill_ms"]
    noise = d["verdict"] == "within noise"
    second = (f"An earlier run on the same splits ({draw1['code_commit'].split(' ')[0]}, "
              f"{draw1['config']['candidates']} candidates drawn uniformly, `prompt_search_draw1.json`) drew "
              f"`{draw1['chosen']}`, the zero-shot prompt without an instruction "
              f"({chosen['dev_accuracy']['mean']:.2f} dev), and chose it: on {d['n']} held-out items "
              f"{t['chosen']['accuracy']['mean']:.3f} vs the seed's {t['seed']['accuracy']['mean']:.3f} accuracy "
              f"(majority class {t['majority_baseline']['accuracy']:.3f}) with {t['chosen']['mean_prompt_tokens']:.0f} "
              f"vs {t['seed']['mean_prompt_tokens']:.0f} prompt tokens (x{t['token_ratio']:.2f}). The difference, "
              f"{d['delta']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}] (paired over items), is {d['verdict']}"
              + (f": the interval does not rule out a loss of up to {-100 * d['ci'][0]:.0f} points." if noise else ".")
              + f" Prefill median {p['chosen']['median']['value'] / 1000:.1f} s vs "
              f"{p['seed']['median']['value'] / 1000:.1f} s ({p['items']} prompts each, noisy on a loaded machine).")
    third = (f"So on SST-2 a prompt with {t['token_ratio']:.0%} of the seed's tokens " +
             ("lost no accuracy that 80 items can detect" if noise else f"changed accuracy ({d['verdict']})") +
             ". Whether the search finds that prompt depends on the draw. A small LM's rewrites added nothing here.")
    minutes = max(run["seconds"], draw1["seconds"]) / 60
    return "\n".join([f"Measured on SST-2 (SmolLM2-135M, shared 2-core CPU, ~{minutes:.0f} min per run; "
                      "`benchmarks/results/prompt_search*.json`):", ""]
                     + ["\n  ".join(prose("- " + b, 113).split("\n")) for b in (first, second, third)])


PREFIX_ARMS = (("raw", "raw (fixed demos)"), ("compressed", "demos compressed once"),
               ("compressed_per_query", "compressed per query"))


def _p50(t: dict) -> str:
    lo, hi = t["p50_ci95"]
    return f"{t['p50']:.2f} [{lo:.2f}, {hi:.2f}]"


def prefix_cache(j: dict) -> str:
    """The serving table of vLLM prefix caching off vs on (serving_prefix_cache.json): TTFT p50 with request
    bootstrap intervals, the on - off difference and the cache's token hit rate."""
    s, c = j["summary"], j["comparisons"]["on_minus_off"]
    out = ["| arm | prompt tokens | TTFT p50 cache off (s) | TTFT p50 cache on (s) | on - off (s) | hit rate (on) |",
           "|---|---|---|---|---|---|"]
    for arm, label in PREFIX_ARMS:
        off, on, d = s["cache_off"][arm], s["cache_on"][arm], c[arm]
        out.append(f"| {label} | {j['arms'][arm]['mean_prompt_tokens']:.0f} | {_p50(off['ttft_s'])} | "
                   f"{_p50(on['ttft_s'])} | {d['delta']:+.2f} [{d['ci'][0]:+.2f}, {d['ci'][1]:+.2f}] | "
                   f"{on['prefix_cache']['hit_rate']:.2f} |")
    return "\n".join(out)


def _icl_table(variants: dict, sweep: dict, index: int) -> str:
    from benchmarks.demo_icl import readme_tables  # its owner's renderer (standard library only)

    return readme_tables(variants, sweep).strip("\n").split("\n\n")[index]


def icl_variants(variants: dict, sweep: dict) -> str:
    """The few-shot section's variant-run table (demo_icl_variants.json), as `demo_icl.py --readme` renders it."""
    return _icl_table(variants, sweep, 0)


def icl_variant_detail(variants: dict, sweep: dict) -> str:
    """Per-variant accuracy by template and order (demo_icl_variants.json)."""
    return _icl_table(variants, sweep, 1)


def icl_sweep(variants: dict, sweep: dict) -> str:
    """The older k-sweep re-read with paired tests (demo_icl_sweep_paired.json)."""
    return _icl_table(variants, sweep, 2)


SERVING_SETS = (("gsm8k", "GSM8K"), ("arc_easy", "ARC-Easy"))
SET_NAMES = {"raw": "raw", "selected": "kNN", "compressed": "compressed"}


def serving_prompts(j: dict) -> str:
    """The cache-off serving table (serving_prompts.json): prompt tokens, quality with its interval, MCR, TTFT p50
    per backend with its request bootstrap interval, and the server's output tokens/s."""
    cells = {(c["backend"], c["task"], c["set"]): c for c in j["cells"]}

    def ttft(backend: str, task: str, name: str) -> str:
        t = cells[(backend, task, name)]["ttft_s"]
        return f"{t['p50']:.1f} [{t['p50_ci95'][0]:.1f}, {t['p50_ci95'][1]:.1f}] s"

    out = ["| task / set | prompt tokens | quality (95% interval) | MCR | TTFT p50 transformers | vLLM engine | "
           "vLLM server | out tok/s (server) |", "|---|---|---|---|---|---|---|---|"]
    for task, label in SERVING_SETS:
        for i, (name, s) in enumerate(j["sets"][task].items()):
            q = s["quality"]
            if "accuracy" in q:
                a = q["accuracy"]
                qual = f"acc {a['mean']:.2f} [{a['ci95'][0]:.2f}, {a['ci95'][1]:.2f}]"
            else:
                g = q["gold_logprob_per_token"]
                qual = (f"{'gold lp/tok ' if i == 0 else ''}{g['mean']:.3f} [{g['ci95'][0]:.2f}, "
                        f"{g['ci95'][1]:.2f}]")
            out.append(f"| {label} {SET_NAMES.get(name, name)} | {s['mean_prompt_tokens']:,.0f} | {qual} | "
                       f"{s['mcr']:.2f} | {ttft('transformers', task, name)} | {ttft('vllm', task, name)} | "
                       f"{ttft('vllm-server', task, name)} | "
                       f"{cells[('vllm-server', task, name)]['output_token_throughput']:.1f} |")
    return "\n".join(out)


def _sec(d: dict, digits: int = 2) -> str:
    return f"{d['delta']:+.{digits}f} [{d['ci'][0]:+.{digits}f}, {d['ci'][1]:+.{digits}f}] s"


def _noise(d: dict) -> str:
    return "within noise" if d["ci"][0] <= 0 <= d["ci"][1] else ("faster" if d["ci"][1] < 0 else "slower")


def prefix_cache_reading(j: dict, cache_off_run: dict) -> str:
    """When compression pays with vLLM's prefix cache off and on (serving_prefix_cache.json; the quality sentence
    from the cache-off run, serving_prompts.json)."""
    s, c = j["summary"], j["comparisons"]
    off, on_ = c["vs_raw_cache_off"], c["vs_raw_cache_on"]
    once_cost = j["compression_costs"]["compressed_shared_once_s"]
    saved = -off["compressed"]["delta"]
    raw_on = s["cache_on"]["raw"]
    pq = j["compression_costs"]["per_query_compressor_s"]
    v = j["verdict"]
    requests = sum(x["requests"] for x in j["cells"])
    failed = sum(x["failed"] for x in j["cells"])
    arc = cache_off_run["sets"]["arc_easy"]
    a_c, a_r = arc["compressed"]["quality"]["accuracy"], arc["raw"]["quality"]["accuracy"]
    overlap = a_c["ci95"][0] <= a_r["ci95"][1] and a_r["ci95"][0] <= a_c["ci95"][1]
    reps = raw_on["ttft_s"]["per_rep_p50"]
    deltas = sorted(-off[a]["delta"] for a in ("compressed", "compressed_per_query"))
    bullets = [
        f"**Cache off**: both compressions cut TTFT p50 by {deltas[0]:.2f}-{deltas[1]:.2f} s against raw (compressed "
        f"once {_sec(off['compressed'])}, per query {_sec(off['compressed_per_query'])}). Compressing the shared "
        f"demos once cost {once_cost:.1f} s, which is repaid after about {once_cost / saved:.0f} requests that miss "
        f"the cache.",
        f"**Cache on**: raw prompts hit {100 * raw_on['prefix_cache']['hit_rate']:.0f}% of their tokens and their "
        f"TTFT p50 falls to {raw_on['ttft_s']['p50']:.2f} s. The once-compressed prefix against raw: "
        f"{_sec(on_['compressed'], 3)}, {_noise(on_['compressed'])}. Per-query compression against the cached raw "
        f"prompt: {_sec(on_['compressed_per_query'])}, {_noise(on_['compressed_per_query'])}, as its prompts share "
        f"only some leading blocks (hit rate {s['cache_on']['compressed_per_query']['prefix_cache']['hit_rate']:.2f}). "
        f"That is before its compressor cost of {pq['value']:.1f} s p50 per prompt [{pq['ci95'][0]:.1f}, "
        f"{pq['ci95'][1]:.1f}] ({pq['n']} prompts). So per-query compression "
        + ("never pays once the cache is on" if not v["per_query_compression_pays_with_cache_on"] else
           "pays here even with the cache on") + ". Shared-demo compression pays only on cache misses: a cold "
        f"start, evictions, or a prefix that changes.",
        f"Quality was not scored in this run (`--skip-quality`, to fit the shared CPU). The earlier "
        f"{cache_off_run['queries']}-query run above had ARC accuracy {a_c['mean']:.2f} for the once-compressed demos "
        f"vs {a_r['mean']:.2f} raw (intervals {'overlapping' if overlap else 'apart'}). Per-query compression's "
        f"quality is unmeasured."]
    return "\n".join(
        [prose(f"When compression pays, on this CPU ({requests} requests, "
               f"{'none' if not failed else failed} failed):")]
        + ["\n  ".join(prose("- " + b, 113).split("\n")) for b in bullets]
        + ["", prose(f"Caveats: the cache-off and cache-on servers ran one after the other on a busy shared machine. "
                     f"The per-repetition p50s spread {max(reps) / min(reps):.0f}x (raw with the cache on: "
                     f"{min(reps):.2f}-{max(reps):.2f} s), so these timings are noisy. Only {j['task']} was run (GSM8K's "
                     f"~{cache_off_run['sets']['gsm8k']['raw']['mean_prompt_tokens']:.0f}-token prompts did not fit "
                     f"the time). "
                     f"No GPU was used.")])


def serving_reading(j: dict) -> str:
    """The cache-off serving bullets (serving_prompts.json)."""
    cells = {(c["backend"], c["task"], c["set"]): c for c in j["cells"]}
    sets = j["sets"]

    def p50(b, t, s):
        return cells[(b, t, s)]["ttft_s"]["p50"]

    def tput(b, t, s):
        return cells[(b, t, s)]["output_token_throughput"]

    vllm = ("vllm", "vllm-server")
    falls = [p50(b, t, "raw") / p50(b, t, "compressed") for b in vllm for t in ("gsm8k", "arc_easy")]
    rises = [tput(b, t, "compressed") / tput(b, t, "raw") for b in vllm for t in ("gsm8k", "arc_easy")]
    g, a = sets["gsm8k"], sets["arc_easy"]
    glp = {k: g[k]["quality"]["gold_logprob_per_token"] for k in g}
    acc = {k: a[k]["quality"]["accuracy"] for k in a}

    def overlap(x, y):
        return x["ci95"][0] <= y["ci95"][1] and y["ci95"][0] <= x["ci95"][1]

    starts = sorted({round(c["engine_start_s"]) for c in j["cells"] if c["backend"] in vllm})
    rss = {b: max(c["resources"]["peak_rss_mb"] for c in j["cells"] if c["backend"] == b) / 1000
           for b in ("vllm", "transformers")}
    arc_tp = {b: [tput(b, "arc_easy", s) for s in a] for b in ("vllm-server", "transformers")}
    bullets = [
        f"**Compression pays at serve time with the cache off.** At {j['compression_rate']} of the context, TTFT "
        f"falls {min(falls):.1f}-{max(falls):.1f}x on vLLM (GSM8K {p50('vllm-server', 'gsm8k', 'raw'):.1f} -> "
        f"{p50('vllm-server', 'gsm8k', 'compressed'):.1f} s, ARC {p50('vllm-server', 'arc_easy', 'raw'):.1f} -> "
        f"{p50('vllm-server', 'arc_easy', 'compressed'):.1f} s on the server) and output throughput rises "
        f"{min(rises):.1f}-{max(rises):.1f}x. It keeps {g['compressed']['quality_kept']['gold_logprob_ratio']:.2f} of "
        f"the gold log-probability on GSM8K ({glp['compressed']['mean']:.2f} vs {glp['raw']['mean']:.2f}). ARC-Easy "
        f"accuracy: {acc['compressed']['mean']:.2f} vs {acc['raw']['mean']:.2f}, intervals "
        f"{'overlapping' if overlap(acc['compressed'], acc['raw']) else 'apart'}. Compressing the shared context cost "
        f"{g['compressed']['notes']['compressor_s']:.1f} s once for GSM8K.",
        f"**kNN selection is a quality choice, not a cost one.** On ARC-Easy its demos are shorter and it scores "
        f"{acc['selected']['mean']:.2f} vs {acc['raw']['mean']:.2f} accuracy (MCR {a['selected']['mcr']:.2f}), "
        f"intervals {'overlapping' if overlap(acc['selected'], acc['raw']) else 'apart'} at n = {j['queries']}: "
        f"{'within noise' if overlap(acc['selected'], acc['raw']) else 'apart'}. On GSM8K the kNN demos come from the "
        f"train set, whose solutions are longer than OLMES's: the prompts grow "
        f"{g['selected']['mean_prompt_tokens'] / g['raw']['mean_prompt_tokens']:.1f}x and TTFT grows with them; the "
        f"gold log-probability gains {glp['selected']['mean'] - glp['raw']['mean']:.2f} nats (intervals "
        f"{'overlapping' if overlap(glp['selected'], glp['raw']) else 'apart'}; MCR {g['selected']['mcr']:.2f}).",
        f"**vLLM vs transformers here.** vLLM's CPU build keeps one of the 2 cores for its scheduler, so its model "
        f"runs on one OpenMP thread against transformers' two. That makes it slower on the long GSM8K prefills "
        f"({p50('vllm', 'gsm8k', 'raw'):.0f} vs {p50('transformers', 'gsm8k', 'raw'):.0f} s TTFT). It is faster once "
        f"requests batch: ARC-Easy output throughput is {min(arc_tp['vllm-server']):.0f}-{max(arc_tp['vllm-server']):.0f} "
        f"vs {min(arc_tp['transformers']):.0f}-{max(arc_tp['transformers']):.0f} tokens/s. Engine start took "
        f"{starts[0]}-{starts[-1]} s; peak RSS was {rss['vllm']:.1f} GB for vLLM's process tree vs "
        f"{rss['transformers']:.1f} GB for transformers."]
    return "\n".join([prose(f"What it shows, on this 2-core CPU ({j['queries']} queries per set, so the quality "
                            f"intervals are wide; prefix caching off):")]
                     + ["\n  ".join(prose("- " + b, 113).split("\n")) for b in bullets])
