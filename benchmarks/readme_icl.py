"""The few-shot section's reading bullets, from ``demo_icl_variants.json``, ``demo_icl_sweep_paired.json`` and
``demo_icl.json`` (the MMR cells): every number and verdict word below is read from those files.

Standard library only (``benchmarks.readme_tables`` imports renderers in the README test).
"""

from __future__ import annotations

from benchmarks.readme_tables import prose

NAMES = {"agnews": "AG News", "arc_easy": "ARC-Easy", "boolq": "BoolQ", "piqa": "PIQA", "sst2": "SST-2"}
BOOLQ_ANSWERS = ("yes", "no")  # evals.eval_sets.load_task("boolq").choices: a prediction is an index into these


def _pct(x: float) -> str:
    return f"{100 * x:.0f}"


def _span(values, unit: str = "%") -> str:
    lo, hi = round(100 * min(values)), round(100 * max(values))
    return f"{lo}{unit}" if lo == hi else f"{lo}-{hi}{unit}"


def _signed_span(values) -> str:
    lo, hi = round(100 * min(values)), round(100 * max(values))
    return f"{lo:+d}" if lo == hi else f"{lo:+d} to {hi:+d}"


def _pts(x: float) -> str:
    return f"{round(100 * x):+d}".replace("+0", "0") if round(100 * x) == 0 else f"{round(100 * x):+d}"


def _diff(c: dict) -> str:
    ci = c.get("ci_bonferroni") or c.get("ci") or c.get("ci95")
    return f"{_pts(c['delta'])} [{_pts(ci[0])}, {_pts(ci[1])}]"


def _p(x: float) -> str:
    return f"{x:.2g}"


def _names(tasks) -> str:
    tasks = [NAMES.get(t, t) for t in tasks]
    return "none" if not tasks else tasks[0] if len(tasks) == 1 else ", ".join(tasks[:-1]) + " and " + tasks[-1]


def _knn_vs_random(variants: dict, sweep: dict) -> str:
    cells = sweep["cells"]
    acc = [c for c in cells if c["accuracy_knn_minus_random"]["verdict"] == "better"]
    worse = [c for c in cells if c["accuracy_knn_minus_random"]["verdict"] == "worse"]
    lp = [c for c in cells if c["gold_logprob_knn_minus_random"]["verdict"] == "better"]
    comps = {(c["task"], c["a"], c["b"]): c for c in variants["comparisons"]}
    var_better = [t for t in variants["tasks"] if comps[(t, "random", "knn")]["verdict"] == "better"]
    tasks = sorted({c["task"] for c in acc} | set(var_better))
    lp_by_task: dict[str, list[int]] = {}
    for c in lp:
        lp_by_task.setdefault(c["task"], []).append(c["k"])
    ks = {c["task"]: sorted({d["k"] for d in cells if d["task"] == c["task"]}) for c in cells}
    lp_text = "; ".join(f"{NAMES.get(t, t)} at {'every k' if k == ks[t] else 'k = ' + ', '.join(map(str, k))}"
                        for t, k in lp_by_task.items())
    a = [c["accuracy_knn_minus_random"] for c in acc]
    text = (f"**kNN beats random on accuracy only on {_names(tasks)}**: {len(acc)} of {len(cells)} sweep cells"
            + (f" ({_signed_span([x['delta'] for x in a])} points, Holm p {_p(max(x['p_holm'] for x in a))} or less)"
               if a else "")
            + f", worse in {len(worse)}, and {len(var_better)} of {len(variants['tasks'])} variant-run cells"
            + (" (" + "; ".join(f"{NAMES.get(t, t)} {_diff(comps[(t, 'random', 'knn')])}" for t in var_better) + ")"
               if var_better else "")
            + f". On the gold answer's log-probability, {len(lp)} of {len(cells)} ({lp_text or 'none'}).")
    near = [c for c in cells if c not in acc and c["accuracy_knn_minus_random"]["delta"] >= 0.05]
    for task in sorted({c["task"] for c in near}):
        d = [c["accuracy_knn_minus_random"] for c in near if c["task"] == task]
        text += (f" {NAMES.get(task, task)}'s {_signed_span([x['delta'] for x in d])} accuracy points are within noise "
                 f"(Holm p {_p(min(x['p_holm'] for x in d))}).")
    det = [c["accuracy_knn_minus_random"]["detectable"] for c in cells
           if c["task"] != "boolq" and c["accuracy_knn_minus_random"].get("detectable")]
    n = sorted({c["n"] for c in cells})
    return text + (f" With n = {'/'.join(map(str, n))} and {len(cells)} cells the sweep detects differences of "
                   f"{_span(det, ' points')} at 80% power (BoolQ aside, where the arms almost never differ).")


def _copying(variants: dict, sweep: dict, task: str = "agnews") -> str:
    cells = [c for c in sweep["cells"] if c["task"] == task]
    t = variants["tasks"][task]
    comps = {(c["task"], c["a"], c["b"]): c for c in variants["comparisons"]}
    knn_nn, rand_nn = comps[(task, "nearest_demo_label", "knn")], comps[(task, "nearest_demo_label", "random")]
    cp = t["cells"]["knn"]["copying"]
    follows = "every time" if cp["follows_wrong_nearest"] == 1 else f"in {_pct(cp['follows_wrong_nearest'])}% of cases"
    name = NAMES[task]
    return (f"**On {name}, kNN accuracy is the nearest demo's label.** The no-LM 1-NN label scores "
            f"{_span([c['nearest_demo_label'] for c in cells])} on the sweep's queries; kNN demos score "
            f"{_span([c['accuracy']['knn'] for c in cells])} and the model answers with the nearest demo's label in "
            f"{_span([c['copying_knn']['nearest'] for c in cells])} of queries (independent answers would agree "
            f"{_span([c['copying_knn']['expected_if_independent'] for c in cells])} of the time). In the variant run: "
            f"{_pct(t['cells']['knn']['accuracy_spread']['mean'])}% vs {_pct(t['baselines']['nearest_demo_label'])}% "
            f"for the 1-NN label ({_diff(knn_nn)}, {knn_nn['verdict']}), {_pct(cp['nearest'])}% copying, and the "
            f"model follows the nearest label {follows} it is wrong. Random demos score "
            f"{_span([c['accuracy']['random'] for c in cells])}, beside the majority baseline "
            f"({_span([c['majority_eval'] for c in cells])}) and zero-shot ({_span([c['zero_shot'] for c in cells])}); "
            f"in the variant run random vs the 1-NN label: {_diff(rand_nn)}, {rand_nn['verdict']}.")


def _boolq(variants: dict, sweep: dict) -> str:
    cells = [c for c in sweep["cells"] if c["task"] == "boolq"]
    t = variants["tasks"]["boolq"]
    no = BOOLQ_ANSWERS.index("no")
    shares = [c["knn_most_predicted"]["share"] for c in cells if c["knn_most_predicted"]["choice"] == no]
    shares += [c["most_predicted"]["share"] for c in t["cells"].values() if c["most_predicted"]["choice"] == no]
    acc = [c["accuracy"][s] for c in cells for s in ("knn", "random")]
    acc += [c["accuracy_spread"]["mean"] for c in t["cells"].values()]
    maj = BOOLQ_ANSWERS[t["baselines"]["majority_eval"]["label"]]
    return (f"**BoolQ is a constant answer, not chance**: with demos SmolLM2 answers \"no\" in {_span(shares)} of "
            f"prompts (the most frequent prediction of each demo cell), so its accuracy with demos ({_span(acc)}) tracks "
            f"the share of \"no\" golds ({_span([1 - c['majority_eval'] for c in cells])} of the sweep's queries, "
            f"{_pct(1 - t['baselines']['majority_eval']['accuracy'])}% of the variant run's), below the majority "
            f"baseline (always \"{maj}\") and the 1-NN label "
            f"({_span([cells[0]['nearest_demo_label'], t['baselines']['nearest_demo_label']])}). Zero-shot "
            f"it scores {_span([cells[0]['zero_shot'], t['baselines']['zero_shot']['mean']])}, its most frequent "
            f"answer taking {_pct(t['baselines']['zero_shot_most_predicted_share'])}% of the variant run's prompts.")


def _sst2(variants: dict, sweep: dict) -> str:
    cells = [c for c in sweep["cells"] if c["task"] == "sst2"]
    t = variants["tasks"]["sst2"]
    comps = {(c["task"], c["a"], c["b"]): c for c in variants["comparisons"]}
    zk = comps[("sst2", "zero_shot", "knn")]
    top = max(cells, key=lambda c: c["copying_knn"]["nearest"])
    zs = [c["zero_shot"] for c in cells] + [t["baselines"]["zero_shot"]["mean"]]
    best = "best zero-shot" if min(zs) >= max([c["accuracy"]["knn"] for c in cells] + [
        t["cells"]["knn"]["accuracy_spread"]["mean"]]) else "zero-shot"
    return (f"**SST-2 is {best}** ({_span(zs)}). kNN demos reach "
            f"{_span([c['accuracy']['knn'] for c in cells] + [t['cells']['knn']['accuracy_spread']['mean']])}; "
            f"with {top['k']} kNN demos the model copies the nearest demo's label {_pct(top['copying_knn']['nearest'])}% "
            f"of the time. kNN - zero-shot in the variant run: {_diff(zk)}, {zk['verdict']} after Holm.")


def _orders(variants: dict) -> str:
    cells = [(task, s, c) for task, t in variants["tasks"].items() for s, c in t["cells"].items()]

    def gap(c):
        return c["accuracy_spread"]["max"] - c["accuracy_spread"]["min"]
    widest = sorted(cells, key=lambda x: -gap(x[2]))[:3]
    parts = []
    for task, s, c in widest:
        bv = c["accuracy_spread"]["by_variant"]
        lo, hi = min(bv, key=bv.get), max(bv, key=bv.get)
        parts.append(f"{NAMES.get(task, task)} {'kNN' if s == 'knn' else s} {_pct(bv[lo])}% {lo}, "
                     f"{_pct(bv[hi])}% {hi}")
    best: dict[str, list[str]] = {}
    for task, s, c in cells:
        bo = c["accuracy_by_order"]
        if max(bo.values()) > min(bo.values()):
            for o in (o for o, v in bo.items() if v == max(bo.values())):
                best.setdefault(o, []).append(f"{NAMES.get(task, task)} {'kNN' if s == 'knn' else s}")
    spread = ", ".join(f"{o} in {len(v)}" for o, v in sorted(best.items()))
    return (f"**Orders and templates move a cell by up to {_pct(gap(widest[0][2]))} points** "
            f"({'; '.join(parts)}); the t interval over the 6 variants is in the per-variant table. "
            + ("No order is best everywhere: " if len(best) > 1 else "One order is best wherever orders differ: ")
            + f"of the {sum(1 for *_, c in cells if max(c['accuracy_by_order'].values()) > min(c['accuracy_by_order'].values()))}"
            f" cells where orders differ, the best order (ties to each) is {spread}.")


def _mmr(icl: dict) -> str:
    cell = {(c["task"], c["k"], c["strategy"]): c["accuracy"]["mean"] for c in icl["combined"]}
    k_mmr = sorted({k for (_, k, s) in cell if s == "mmr"})
    pairs = [f"{NAMES.get(t, t)} {_pct(cell[(t, 4, 'mmr')])} vs kNN {_pct(cell[(t, 4, 'knn')])}"
             for t in sorted({t for (t, k, s) in cell if s == "mmr" and k == 4}) if (t, 4, "knn") in cell]
    same = all(cell[(t, 1, "mmr")] == cell[(t, 1, "knn")] for (t, k, s) in cell if s == "mmr" and k == 1
               if (t, 1, "knn") in cell)
    return (f"MMR is not in the variant run. The sweep ran it at k = {' and '.join(map(str, k_mmr))}"
            + (", where at k = 1 it scores as kNN (it picks kNN's demo)" if same else "")
            + f"; at k = 4: {', '.join(pairs)} (accuracy %, {icl['queries_per_task']} queries; `demo_icl.json`), "
            "untested.")


def run_note(variants: dict, sweep: dict) -> str:
    """How far the time-boxed variant run got, and the differences its tests can detect."""
    q = variants["queries_per_task"].values()
    t = variants.get("lm_seconds")
    det = sorted(((c["detectable"], c["task"]) for c in variants["comparisons"]
                  if (c["a"], c["b"]) == ("random", "knn") and c.get("detectable")), reverse=True)
    time = (f" ({t['total_s'] / 60:.0f} min of LM time for {t['records']} (task, query) records, median "
            f"{t['median_per_query_s']:.0f} s each, on a CPU shared with other jobs)" if t else "")
    count = f"{min(q)}" if min(q) == max(q) else f"{min(q)}-{max(q)}"
    return prose(f"The run covers {count} queries per task{time}, so these tests detect only effects of this "
                 "size or larger: with 80% power, a kNN-random difference of "
                 + ", ".join(f"{_pct(d)} points on {NAMES.get(k, k)}" for d, k in det)
                 + " (BoolQ's arms almost never differ, so its paired spread is small). Accuracy % (mean over the 6 "
                 "variants [worst - best variant]); differences in points with the Bonferroni-widened interval:")


def reading(variants: dict, sweep: dict, icl: dict) -> str:
    """The bullets under the few-shot tables."""
    bullets = [_knn_vs_random(variants, sweep), _copying(variants, sweep), _boolq(variants, sweep),
               _sst2(variants, sweep), _orders(variants), _mmr(icl)]
    return "\n".join("- " + prose(b, 113).replace("\n", "\n  ") for b in bullets)
