"""README block of the pretraining ablation (benchmarks/results/ablation.json). Standard library only.

Registered in ``benchmarks/readme_tables.py`` as ``ablation``; ``benchmarks/pretrain_ablation.py`` writes the same
markdown to ``ablation.md``. Verdicts are computed here from the intervals in the JSON (lower bits per byte is
better): "better" / "worse" only when the simultaneous interval of curated - other excludes 0.
"""

from __future__ import annotations

import textwrap

from benchmarks.readme_tables import prose

SET_NAMES = {"wikitext": "wikitext-2 test", "heldout": "held-out mail, all",
             "heldout_kept": "held-out mail curation keeps", "heldout_removed": "held-out mail curation removes"}


def _ci(c) -> str:
    return f"[{c[0]:+.3f}, {c[1]:+.3f}]" if c else "-"


def _arm(cell: dict) -> str:
    if cell.get("mean") is None:
        return "-"
    ci = cell.get("ci95")
    return f"{cell['mean']:.3f}" + (f" ± {(ci[1] - ci[0]) / 2:.3f}" if ci else "")


def _verdict(ci) -> str:
    if not ci or ci[0] <= 0 <= ci[1]:
        return "within noise"
    return "curated better" if ci[1] < 0 else "curated worse"


def _reading(res: dict) -> list[str]:
    out = []
    for b, cells in res["results"].items():
        parts = []
        for e in ("wikitext", "heldout"):
            v = {name: _verdict(c["ci_simultaneous"]) for name, c in cells[e]["contrasts"].items()}
            parts.append(f"on {SET_NAMES[e]} it is {v['curated-extracted'].replace('curated ', '')} than extracted "
                         f"and {v['curated-random'].replace('curated ', '')} than random".replace("within noise than",
                                                                                                "within noise of"))
        both = all(_verdict(cells[e]["contrasts"][k]["ci_simultaneous"]) == "curated better"
                   for e in ("wikitext", "heldout") for k in ("curated-extracted", "curated-random"))
        out.append(f"- {int(b):,} tokens: curated {'beats' if both else 'does not beat'} both arms on both sets; "
                   + "; ".join(parts) + ".")
    cur = res["results"][max(res["results"], key=int)]
    base = [(e, cur[e]["arms"]["curated"]) for e in ("wikitext", "heldout")]
    out.append("- Baselines at the largest budget (curated arm): " + "; ".join(
        f"{SET_NAMES[e]} model {c['mean']:.3f} vs unigram {c['unigram']:.3f}, bigram {c['bigram']:.3f} bits/byte"
        for e, c in base) + ".")
    return out


def ablation(res: dict) -> str:
    """The ablation's setup, the bits-per-byte table, the paired contrasts and the reading, from ablation.json."""
    cfg, data, m = res["config"], res["data"], res["config"]["model"]
    sched = res.get("schedule") or {}
    steps = cfg.get("extract_steps", ["mail_body"])
    n_seeds = min(len([r for r in res["runs"] if r["arm"] == a]) for a in ("extracted", "curated", "random"))
    clean = (f"the first {cfg['clean_articles']} of its 62 articles, whole" if cfg.get("clean_articles")
             else "all 62 articles")
    lines = [
        f"Preset `{res.get('preset', '?')}`. Arms: **extracted** = the {data['train_documents']['extracted']:,} "
        f"non-held-out mail bodies after {' + '.join(f'`{x}`' for x in steps)} alone "
        f"({data['train_tokens']['extracted']:,} tokens); "
        f"**curated** = the {data['train_documents']['curated']:,} of them `{cfg['curate_config']}` keeps "
        f"({data['train_tokens']['curated']:,} tokens); **random** = extracted bodies drawn at random, per seed, up "
        f"to the curated token count. Hold-out: {data['held_out']:,} bodies in {data['held_out_clusters']:,} whole "
        f"MinHash duplicate clusters ({cfg['holdout_percent']:g}% of clusters; {data['documents_in_multi_member_clusters']:,}"
        f" of the {data['extracted']:,} bodies have a near or exact duplicate), none of whose near duplicates is in "
        f"any arm. Clean text: wikitext-2 test, {clean}. Byte-level BPE of {data['tokenizer']['vocab_size']:,} "
        f"tokens trained on the non-held-out extracted bodies. Model: Llama, {m['layers']} layers x "
        f"{m['hidden_size']}, {res['parameters']:,} parameters, sequence {m['seq_len']}, batch {m['batch_size']}, "
        f"AdamW lr {m['lr']:g}; WSD with {sched.get('warmup', '?')} warmup steps and a 1-sqrt decay over the last "
        f"{m['decay_fraction']:.0%} of each budget, each budget's decay branched from one stable run. "
        f"{n_seeds} seeds per arm ({res['runs_finished']} of {res['runs_planned']} planned runs finished).",
        "",
        "Bits per byte on the whole held-out sets (seed mean ± 95% t half-width); unigram / bigram: Witten-Bell "
        "models of the curated arm's training tokens:",
        "",
        "| budget (tokens) | held-out set | extracted | curated | random | unigram / bigram |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for b, cells in res["results"].items():
        for e, cell in cells.items():
            a = cell["arms"]
            lines.append(f"| {int(b):,} | {SET_NAMES.get(e, e)} | {_arm(a['extracted'])} | {_arm(a['curated'])} | "
                         f"{_arm(a['random'])} | {a['curated']['unigram']:.3f} / {a['curated']['bigram']:.3f} |")
    lines += ["", f"Curated minus the other arm in bits per byte, paired over seeds (negative: curated better). The "
              f"verdict reads the interval simultaneous over the {res['family_size']} primary comparisons (Bonferroni: "
              "2 contrasts x wikitext and all held-out mail x budgets); the kept/removed splits are for reading "
              "only.", "",
              "| budget | held-out set | vs | curated - other | paired 95% | simultaneous | seeds curated lower | verdict |",
              "|---:|---|---|---:|---:|---:|---:|---|"]
    for b, cells in res["results"].items():
        for e, cell in cells.items():
            for name, c in cell["contrasts"].items():
                if c["delta_bpb"] is None:
                    continue
                primary = c.get("verdict") is not None
                lines.append(f"| {int(b):,} | {SET_NAMES.get(e, e)} | {name.split('-')[1]} | {c['delta_bpb']:+.3f} | "
                             f"{_ci(c['ci95'])} | {_ci(c['ci_simultaneous']) if primary else '-'} | "
                             f"{c['seeds_curated_lower']}/{c['n']} | "
                             f"{_verdict(c['ci_simultaneous']) if primary else '(' + _verdict(c['ci95']) + ', 95%)'} |")
    lines += ["", *_reading(res), ""]
    if "normalize" not in steps:
        lines += [f"Caveat: the extracted arm and every held-out mail set are {' + '.join(steps)} output, not normalized, "
                  "while the curated pipeline also normalizes (NFC, collapsed spaces and indentation, at most one "
                  "blank line): the curated arm never saw the space runs and indentation of the held-out mail, so "
                  "its held-out mail numbers mix formatting with selection. wikitext-2 is the clean comparison of "
                  "this run; the harness now normalizes the extracted arm (`extract_steps`).", ""]
    t = res["timing"]
    lines.append("Time: " + "; ".join(
        f"{a} {v['tokens_per_s']:,.0f} training tokens/s ({v['tokens_per_cpu_s']:,.0f} per CPU second; evaluation "
        f"excluded), {v['train_s']:.0f} s training + {v['eval_s']:.0f} s evaluation per run" for a, v in t.items())
        + f". Whole ablation: {res['total_wall_s']:,.0f} s wall (one preparation, {res['data']['prepare_s']:.0f} s, "
        f"then the runs from the first start to the last finish), {res['total_cpu_s']:,.0f} CPU seconds in the runs "
        "(training, evaluation, baselines)"
        + (f"; {res['note']}" if res.get("note") else "") + ".")
    return "\n".join(_wrap(line) for line in lines)


def _wrap(line: str) -> str:
    """Paragraphs and bullets wrapped like the README's prose; table rows and blank lines as they are."""
    if not line or line.startswith("|"):
        return line
    if line.startswith("- "):
        return textwrap.fill(line, 115, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False)
    return prose(line)
