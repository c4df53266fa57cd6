"""README blocks of the curation sections (demo, dedup, extraction, WARC, reliability, Prefect start-up, embeddings).

Each function renders one block registered in ``benchmarks/readme_tables.py`` from the parsed JSON of
``benchmarks/results/``; standard library only, so the README test stays fast.
"""

from __future__ import annotations

from benchmarks.readme_tables import prose

# reason code -> words in the demo table; a step's reasons are listed by count, at most two, "..." for the rest
REASON_WORDS = {
    "mail_no_text_body": "no text part", "exact_duplicate": "exact copies (spam campaigns)",
    "low_language_score": "low English score", "wrong_language": "other language",
    "gopher_dup_line_frac": "duplicate lines", "gopher_duplicated_5_grams": "duplicated 5-grams",
    "gopher_short_doc": "short", "gopher_below_alpha_threshold": "under 80 % words with a letter",
    "c4_curly_bracket": "curly brackets", "c4_too_few_sentences": "too few sentences",
    "fineweb_line_punct_ratio": "few lines end in punctuation", "fineweb_char_dup_ratio": "repeated lines",
    "near_duplicate": "near duplicates",
}


def _reasons(reasons: dict[str, int]) -> str:
    if len(reasons) == 1:
        return REASON_WORDS.get(next(iter(reasons)), next(iter(reasons)))
    top = sorted(reasons.items(), key=lambda kv: -kv[1])
    words = [f"{REASON_WORDS.get(r, r)} {n:,}" for r, n in top[:2]]
    return ", ".join(words + (["..."] if len(top) > 2 else []))


def demo(counts: dict, startup: dict) -> str:
    """`make demo`'s step table (demo_counts.json) and the server start-up it mentions (prefect_startup.json)."""
    med = startup["median_seconds"]
    if "flow_warm" in med:  # recorded local runs (flows.recorded_run): the server starts beside the run
        how = ("runs the plan's units (read, each shard's consecutive per-shard steps fused into one unit, the "
               "global steps' reduces, export, report) in its own process; a background recorder records the run in "
               "Prefect as a `curate_corpus` flow run with a task run per unit (on the first run it also starts "
               f"the local Prefect server, beside the run: cold {med['cold']:.1f} s vs warm {med['warm']:.1f} s of wall)")
    else:
        how = (f"runs the `curate_corpus` flow (a Prefect task per plan unit); the first run also starts a local "
               f"Prefect server, ~{med['cold'] - med['warm']:.0f} s more than a run that reuses it")
    out = [prose(f"`winnow curate data/demo/spamassassin.jsonl --config configs/demo_mail.yaml --out runs/demo` {how}. "
           f"Measured on this 2-core machine (about {counts['step_seconds']:.0f} s of steps; see "
           f"[Where runs are recorded](#where-winnow-curate-records-its-runs)):"), "",
           "| step | in | kept | removed | main reasons |", "|---|---:|---:|---:|---|"]
    for s in counts["steps"]:
        out.append(f"| {s['name']} | {s['input']:,} | {s['kept']:,} | {s['removed']:,} | {_reasons(s['reasons'])} |")
    out += ["", prose(f"Invariant: input {counts['input']:,} = kept {counts['kept']:,} + removed {counts['removed']:,} + "
                f"quarantined {counts['quarantined']:,}. A rerun reuses every finished step. (Counts: "
                f"`benchmarks/results/demo_counts.json`, pinned by `tests/curation/test_pipeline.py`.)")]
    return "\n".join(out)


def dedup_quality(j: dict) -> str:
    shards = (("dolma_cc", "dolma CC (after normalize)"), ("spamassassin_bodies", "SpamAssassin bodies"))
    out = ["| shard | docs | true pairs | 14x8 (default) candidates P / R | clusters P / R | 8x14 clusters P / R |",
           "|---|---:|---:|---|---|---|"]
    for key, label in shards:
        s = j["shards"][key]
        by = {(r["bands"], r["rows"]): r for r in s["results"]}
        d, t = by[(14, 8)], by[(8, 14)]
        out.append(f"| {label} | {s['documents']:,} | {s['true_pairs']:,} | "
                   f"{d['candidates']['precision']:.3f} / {d['candidates']['recall']:.3f} | "
                   f"{d['clusters']['precision']:.3f} / {d['clusters']['recall']:.3f} | "
                   f"{t['clusters']['precision']:.3f} / {t['clusters']['recall']:.3f} |")
    return "\n".join(out)


def extraction(j: dict) -> str:
    rows = (("trafilatura", "trafilatura {v}, favor precision (the step's default)"),
            ("trafilatura:balanced", "trafilatura {v}, balanced"),
            ("resiliparse", "resiliparse {v}, `main_content=True`"))
    ex = j["extractors"]
    best = max(ex.values(), key=lambda e: e["f1"])["f1"]
    out = ["| extractor | F1 | precision | recall | pages/s per core |", "|---|---:|---:|---:|---:|"]
    for key, label in rows:
        e = ex[key]
        f1 = f"**{e['f1']:.3f}**" if e["f1"] == best else f"{e['f1']:.3f}"
        out.append(f"| {label.format(v=e['version'])} | {f1} ± {e['f1_std']:.3f} | {e['precision']:.3f} | "
                   f"{e['recall']:.3f} | {e['pages_per_s_per_core']:.0f} |")
    c, pub = j["scorer_check"], ex["trafilatura"]["published"]
    out.append(f"| *benchmark's stored trafilatura {pub['version']} output, same {c['pages']} pages* | "
               f"{c['f1']:.3f} | {c['precision']:.3f} | {c['recall']:.3f} | |")
    ranked = sorted(ex.items(), key=lambda kv: -kv[1]["f1"])
    (n1, e1), (n2, e2) = ranked[0], ranked[1]
    gap = (e1["f1"] - e2["f1"]) / (e1["f1_std"] ** 2 + e2["f1_std"] ** 2) ** 0.5
    lead = (f"`{n1}` leads `{n2}` by {e1['f1'] - e2['f1']:.3f} F1, {gap:.1f} combined standard deviations: "
            + ("within noise" if gap < 2 else "more than the bootstrap spread") + ". ")
    out += ["", prose(lead + f"± is the bootstrap standard deviation, as the benchmark's README gives it. The scorer "
                      f"reproduces `evaluate.py` on the stored trafilatura {pub['version']} predictions ({c['f1']:.3f} "
                      f"here); the published {pub['f1']:.3f} is over all {j['benchmark_pages']} pages of the benchmark, "
                      f"{j['benchmark_pages'] - j['pages']} of which are not in `shared/`. Resiliparse has no published figure there.")]
    return "\n".join(out)


def warc_speed(j: dict, extraction: dict) -> str:
    w, r, d = j["winnow"], j["winnow_resiliparse"], j["datatrove"]
    return "\n".join([
        prose(f"**Speed** (`benchmarks/warc_speed.py`, one run, the {len(j['files'])} WARC files read {j['repeats']} times "
        f"= {j['mb_on_disk']:.1f} MB on disk, CPU time of each side so the other agents on this machine weigh less; "
        "still noisy):"), "",
        "| WARC to kept text | pages with text | MB/s per core |", "|---|---:|---:|",
        f"| winnow: WARC reader + `extract` (trafilatura) | {w['docs_kept']} | {w['mb_per_s_per_core']:.2f} |",
        f"| winnow: WARC reader + `extract` (resiliparse) | {r['docs_kept']} | {r['mb_per_s_per_core']:.1f} |",
        f"| datatrove {d['version']}: `WarcReader` + `Trafilatura` (its defaults, 30 s timeout) | {d['docs_kept']} | "
        f"{d['mb_per_s_per_core']:.2f} |", "",
        prose(f"Most of those bytes are revisits, images and scripts that are never extracted; trafilatura itself runs "
              f"at about {extraction['extractors']['trafilatura']['mb_per_s_per_core']:.0f} MB of HTML per second per "
              f"core (`extraction_quality.json`). datatrove reads {d['docs_read'] // j['repeats']} pages per pass "
              f"instead of {w['docs_read'] // j['repeats']} (libmagic does not call "
              f"{(w['docs_read'] - d['docs_read']) // j['repeats']} of pywb's untyped payloads HTML). The datatrove "
              f"side runs in `.venv-peers` (`make peers`).")])


DEDUP_INPUTS = {"web": "web (dolma CC + C4 + RedPajama, {mb:.1f} MB)", "mail": "SpamAssassin raw ({mb:.1f} MB)",
                "scale_sample_20k": "scaling corpus sample (20k docs, {mb:.0f} MB)"}


def dedup_speed(j: dict) -> str:
    out = ["| input | cores | winnow MB/s | datasketch MB/s | ratio |", "|---|---:|---:|---:|---:|"]
    for s in sorted(j["signatures"], key=lambda s: s["workers"]):
        label = DEDUP_INPUTS.get(s["input"], s["input"] + " ({mb:.1f} MB)").format(mb=s["winnow"]["mb"])
        out.append(f"| {label} | {s['workers']} | {s['winnow']['mb_per_s']:.1f} | {s['datasketch']['mb_per_s']:.2f} | "
                   f"{s['speedup']:.0f}x |")
    return "\n".join(out)


def dedup_languages(j: dict) -> str:
    rows = j["signatures_by_language"]["rows"]
    winnow = ", ".join(f"{r['input'].replace('web (en)', 'English web')} {r['winnow_mb_per_cpu_s']:.0f}" for r in rows)
    ds = [r["datasketch_mb_per_cpu_s"] for r in rows]
    web1 = next(s["winnow"]["mb_per_s"] for s in j["signatures"] if s["input"] == "web" and s["workers"] == 1)
    q = j["estimate_quality"]
    w, d = q["winnow"], q["datasketch"]
    return "\n".join([
        prose(f"Per script (`.venv/bin/python benchmarks/dedup_speed.py --languages`, key `signatures_by_language`): "
        f"measured as thread CPU time in one process, because the machine was shared and wall time was not "
        f"repeatable; on English web the CPU-time figure is {rows[0]['winnow_mb_per_cpu_s'] / web1:.1f}x the "
              f"fresh-process wall-clock one above. winnow MB per CPU-second: {winnow}; datasketch "
              f"{min(ds):.1f}-{max(ds):.1f}."), "",
        prose(f"Estimates are unbiased: over {q['pairs']:,} pairs of real texts and edited copies, mean signed error "
        f"{w['mean_error']:+.5f} (datasketch {d['mean_error']:+.5f}), mean absolute error {w['mean_abs_error']:.4f} "
        f"(datasketch {d['mean_abs_error']:.4f}; {w['mean_abs_error_jaccard_over_0.5']:.3f} vs "
        f"{d['mean_abs_error_jaccard_over_0.5']:.3f} on the {q['pairs_with_jaccard_over_0.5']} pairs with Jaccard "
        f"> 0.5). The measured S-curve for {j['s_curve']['bands']} x {j['s_curve']['rows']} follows "
        f"1-(1-J^{j['s_curve']['rows']})^{j['s_curve']['bands']} (table in the JSON, left panel of the plot).")])


def dedup_scale(j: dict) -> str:
    out = ["| documents | text | wall time | peak RSS (whole process tree) | pair precision | pair recall |",
           "|---:|---:|---:|---:|---:|---:|"]
    for e in sorted(j["end_to_end"].values(), key=lambda e: e["documents"]):
        p = e["cluster_pair_scores"]
        out.append(f"| {e['documents']:,} | {e['text_gb']:.2f} GB | {e['wall_seconds']:.0f} s | "
                   f"{e['peak_rss_mb_process_tree'] / 1000:.1f} GB | {p['precision']:.3f} | {p['recall']:.3f} |")
    return "\n".join(out)


def reliability(j: dict) -> str:
    f, k = j["fuzz"], j["faults"]
    lost = "**0 documents lost**" if f["documents_lost"] == 0 else f"**{f['documents_lost']} documents lost**"
    return prose(f"`benchmarks/reliability.py` (results in `benchmarks/results/reliability.json`): {f['cases']} fuzzed "
            f"shards ({f['records']:,} records: {f['kept']:,} kept, {f['removed']:,} removed, {f['quarantined']:,} "
            f"quarantined) with {lost} and {f['other_errors']} unexpected errors; **{k['survived']} of "
            f"{k['injected']}** injected SIGKILLs survived with identical outputs. Truncated .zst files "
            f"({f['by_container']['zst_truncated']} of the {f['cases']} cases) read as silently empty before the "
            f"zstd fix.")


def embed_speed(j: dict) -> str:
    ratios = [r["bare_s"] / r["cold_s"] for r in j["repeats"]]
    return prose(f"**Embedding speed** (`benchmarks/embed_speed.py`, `benchmarks/results/embed_speed.json`, "
            f"{j['texts']:,} Alpaca/GSM8K texts of ~{j['mean_chars']:.0f} characters, same loaded model, "
            f"{len(j['repeats'])} paired repeats): winnow's `Embedder` on a cold cache runs at "
            f"{j['cold_vs_bare_median_of_pairs']:.2f}x a bare `SentenceTransformer.encode` (median of the paired "
            f"ratios; {min(ratios):.2f}-{max(ratios):.2f} per pair, because other jobs shared the 2 cores), so "
            f"hashing and lookups cost next to nothing; a fully cached re-embed is ~{round(j['cache_hit_speedup'], -3):,.0f}x "
            f"faster ({j['winnow_cache_hit_docs_per_s'] / 1e6:.2f}M vs {j['winnow_cold_docs_per_s']:.0f} docs/s) and "
            f"never loads the model.")


def prefect_startup(j: dict) -> str:
    arms = (("runner", "`python -m curation.runner` (no Prefect)"),
            ("warm", "`winnow curate` (recorded local run), server kept from an earlier run"),
            ("cold", "`winnow curate` (recorded local run), fresh PREFECT_HOME (its recorder starts the server)"),
            ("flow_warm", "`winnow curate --executor prefect` (the flow in the CLI), server kept"),
            ("ephemeral", "`WINNOW_PREFECT_SERVER=ephemeral winnow curate` (the flow, Prefect's per-run server)"))
    if "flow_warm" not in j["median_seconds"]:  # measured before recorded runs: warm and cold ran the flow
        arms = ((k, label.replace("(recorded local run)", "(the flow in the CLI, before recorded runs)")
                 .replace("its recorder starts", "it starts")) for k, label in arms)
    w, c = j["median_seconds"], j["median_cpu_seconds"]
    out = ["| arm | wall s | x runner | CPU s | x runner |", "|---|---:|---:|---:|---:|"]
    for key, label in arms:
        if key not in w:
            continue
        rw = 1 if key == "runner" else f"{j['ratio_to_runner'][key]:.2f}"
        rc = 1 if key == "runner" else f"{j['cpu_ratio_to_runner'][key]:.2f}"
        out.append(f"| {label} | {w[key]:.2f} | {rw} | {c[key]:.2f} | {rc} |")
    met = "met" if j["warm_meets_target"] else "**not met**"
    reps = [a / b for a, b in zip(j["seconds"]["warm"], j["seconds"]["runner"])]
    load = j["machine"]["load_before"][0]
    out += ["", prose(f"The target of <= {j['target_ratio']}x the runner's wall time is {met} by the "
                      + ("default (warm)" if "flow_warm" in w else "warm (the flow, the default when measured)")
                      + f" `winnow curate`: {j['ratio_to_runner']['warm']:.2f}x ({len(j['seconds']['runner'])} runs per "
                      f"arm, medians; warm / runner in the interleaved reps: {min(reps):.2f}-{max(reps):.2f}; "
                      f"1-minute load average {load:.1f} at the start, on 2 cores shared with other agents' jobs: wall "
                      f"times are noisier than CPU seconds).")]
    if rec := j.get("recording"):
        r, cold = rec["warm"], rec["cold"]
        out += ["", prose(f"CPU for the recorded arms is the CLI process alone. Beside it, the detached recorder used "
                          f"{r['recorder_cpu_seconds']:.1f} s of CPU (warm; {cold['recorder_cpu_seconds']:.1f} s cold, "
                          f"where it also starts the server) and the kept server {r['server_cpu_seconds']:.1f} s; "
                          f"the run showed as Completed with all its task runs in the API "
                          f"{r['recorded_after_exit_s']:.1f} s after the CLI exited (warm; cold "
                          f"{cold['recorded_after_exit_s']:.1f} s, including the server's start-up). Medians.")]
    return "\n".join(out)


WARC_NOTES = {  # why a step removed what it did in this demo (the counts come from the JSON)
    "url_filter": "the example block lists", "url_dedup": "allenai.org fetched three times; www.iana.org in two crawls",
}


def warc_demo(j: dict) -> str:
    """The WARC demo's step-by-step counts (warc_demo.json)."""
    q = j["quarantine_errors"]
    read = next(s for s in j["steps"] if s["name"] == "read")
    parts = [f"read {read['kept']} HTML pages ({j['quarantined']} quarantined: {q.get('revisit record', 0)} revisits, "
             f"{q.get('non-HTML response', 0)} non-HTML responses, {q.get('empty text', 0)} empty)"]
    for s in j["steps"][1:]:
        part = f"`{s['name']}`" + (f" -{s['removed']}" if s["removed"] else "")
        if s["name"] == "langid" and s["removed"]:
            r = s["reasons"]
            part += (f" ({r.get('wrong_language', 0)} pages in other languages, {r.get('low_language_score', 0)} with "
                     f"a low English score)")
        elif s["name"] == "pii":
            part += f" ({j['pii']['email']} e-mail addresses, {j['pii']['ip']} IPs, {j['pii']['phone']} phone numbers replaced)"
        elif s["name"] in WARC_NOTES and s["removed"]:
            part += f" ({WARC_NOTES[s['name']]})"
        parts.append(part)
    return prose(f"The demo reads {j['input']} records ({j['files']} files) and keeps {j['kept']} pages, "
                 f"{j['tokens_kept']:,} SmolLM2 tokens (`benchmarks/results/warc_demo.json`): " + ", ".join(parts) + ".")


def quality_classifier(j: dict) -> str:
    h, ci = j["holdout"], j.get("holdout_roc_auc_ci95")
    interval = f"95% bootstrap interval [{ci[0]:.3f}, {ci[1]:.3f}], documents resampled per class; " if ci else ""
    return prose(f"Measured (`benchmarks/results/quality_classifier.json`): held-out ROC AUC **{j['holdout_roc_auc']:.3f}**"
                 f" ({interval}accuracy {j['holdout_accuracy']:.3f}) on {h['positive']} clean + {h['negative']} raw documents "
                 f"(the raw CC shard is small: {j['train']['negative'] + h['negative']} usable documents).")


# found by the previous scheme, winnow-minhash-1 (ASCII words), before the script-aware tokenizer: quoted from
# tests/curation/steps/test_dedup_scripts.py, which records them; the scheme no longer exists to rerun
MINHASH_1_FOUND = {"constructed/label=1": 21, "real/label=1": 1, "constructed/label=0": 0}


def dedup_scripts(j: dict) -> str:
    rows = (("constructed/label=1", "{n} constructed near copies (zh + ja: sentence deleted/swapped, boilerplate, "
             "3 %/10 % characters replaced, ASCII punctuation, spaces, truncated to 70 %, sentence appended)"),
            ("real/label=1", "{n} real Traditional/Simplified sentence pairs (UD Chinese GSD / GSDSimp)"),
            ("constructed/label=0", "{n} hard negatives (two paragraphs of one article): false positives"))
    w, d = j["engines"]["winnow"]["found_per_group"], j["engines"]["datasketch"]["found_per_group"]
    out = ["| pairs | winnow-minhash-1 (ASCII words) | now, winnow engine | now, datasketch engine |",
           "|---|---:|---:|---:|"]
    for key, label in rows:
        n = j["groups"][key]
        now = f"{w[key]:,}" if key.endswith("=0") else f"{w[key]:,} ({w[key] / n:.3f})"
        out.append(f"| {label.format(n=f'{n:,}')} | {MINHASH_1_FOUND[key]:,} | {now} | {d[key]:,} |")
    return "\n".join(out)


def prefect_ephemeral(j: dict) -> str:
    """Why winnow keeps a server: the per-run server's cost, from prefect_startup.json (ephemeral - warm)."""
    m = j["median_seconds"]
    kept = m.get("flow_warm", m["warm"])  # the flow in the CLI process, with a kept server
    return prose(f"Prefect with no server configured starts a temporary (\"ephemeral\") API server inside every run and "
                 f"stops it at exit: ~{m['ephemeral'] - kept:.0f} s of each flow run on this machine "
                 f"({m['ephemeral']:.1f} s vs {kept:.1f} s with a kept server, medians in "
                 f"`benchmarks/results/prefect_startup.json`). `winnow curate` keeps one server instead, and picks it "
                 f"so:")
