"""README blocks of the proxy selection benchmark (``select_efficiency{,_balanced}.json``), augmentation, mixture.

Verdict words come from the paired intervals stored in the JSON (``vs_random``, ``vs_unbalanced``: paired t over
the shared seeds, ``evals.data_efficiency.versus``), never from overlapping marginal intervals. Standard library only.
"""

from __future__ import annotations

from benchmarks.readme_tables import prose

MARK = {"better": " **+**", "worse": " -", "within noise": ""}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _cell(s: dict) -> str:
    a = s["accuracy"]
    half = (a["ci95"][1] - a["ci95"][0]) / 2 if a["ci95"] else 0.0
    base = s["strategy"] in ("random", "random+balanced")
    return f"{_pct(a['mean'])} ±{_pct(half)}" + ("" if base else MARK[s["vs_random"]["verdict"]])


def _ci(d: dict) -> str:
    lo, hi = d["ci95"]
    return f"{100 * d['delta']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"


def _rows(plain: dict, balanced: dict) -> list[dict]:
    return plain["summary"] + [s for s in balanced["summary"] if s["strategy"] != "random"]


def select_table(plain: dict, balanced: dict) -> str:
    budgets = plain["budgets"]
    rows = _rows(plain, balanced)
    out = ["| task | strategy | " + " | ".join(map(str, budgets)) + " |", "|---|---|" + "---:|" * len(budgets)]
    seen = []
    for s in rows:
        if (s["task"], s["strategy"]) not in seen:
            seen.append((s["task"], s["strategy"]))
    tasks = list(dict.fromkeys(t for t, _ in seen))
    for task in tasks:
        for t, strategy in (k for k in seen if k[0] == task):
            by = {s["budget"]: s for s in rows if (s["task"], s["strategy"]) == (t, strategy)}
            out.append(f"| {t} | {strategy} | " + " | ".join(_cell(by[b]) for b in budgets) + " |")
    n = len(plain["seeds"])
    out += ["", prose(
        f"Accuracy in %, ± half the Student-t 95% interval over {n} seeds (the seed draws the pool order and the "
        f"random subsets; the test split is fixed; kNN, DEITA, IFD and quality pick the same subset for every seed, "
        f"hence ±0.0). **+** / - = better / worse than the baseline at that budget by a "
        f"paired t interval over the {n} shared seeds that excludes 0 (no mark: within noise); the baseline is random "
        f"for plain strategies and stratified random (`random+balanced`) for `+balanced` ones. `+balanced` rows "
        f"(`benchmarks/results/select_efficiency_balanced.json`) cap every label at budget / classes. Uncorrected for "
        f"the {sum(s['strategy'] not in ('random', 'random+balanced') for s in rows)} comparisons in the table.")]
    return "\n".join(out)


def select_reading(plain: dict, balanced: dict) -> str:
    rows = [s for s in plain["summary"] if s["strategy"] != "random"]
    better = [s for s in rows if s["vs_random"]["verdict"] == "better"]
    worse = [s for s in rows if s["vs_random"]["verdict"] == "worse"]
    never_worse = [st for st in dict.fromkeys(s["strategy"] for s in rows)
                   if not any(s["strategy"] == st for s in worse)]
    ifd = [c for c in plain["cells"] if (c["task"], c["strategy"], c["budget"]) == ("trec", "ifd", 200)]
    bal = {(s["task"], s["strategy"], s["budget"]): s for s in balanced["summary"]}
    pl = {(s["task"], s["strategy"], s["budget"]): s for s in plain["summary"]}

    def lift(task: str, strategy: str) -> str:
        b, p = bal[(task, strategy + "+balanced", 50)], pl[(task, strategy, 50)]
        return f"{_pct(p['accuracy']['mean'])}% -> {_pct(b['accuracy']['mean'])}%, {_ci(b['vs_unbalanced'])}"

    capped = [s for s in balanced["summary"] if s["budget"] == 50 and s["task"] in ("agnews", "trec")
              and s["strategy"] not in ("random", "random+balanced")]
    lifted = sum(s["vs_unbalanced"]["verdict"] == "better" for s in capped)
    bal_better = [s for s in balanced["summary"] if s["strategy"] not in ("random", "random+balanced")
                  and s["vs_random"]["verdict"] == "better"]
    verdict = "**no strategy beats random**" if not better else f"{len(better)} cells beat random"
    return prose(
        f"Honest reading: on these small, balanced classification pools {verdict} at any budget: of the "
        f"{len(rows)} (task, strategy, budget) comparisons, {len(better)} are better, {len(worse)} worse and the "
        f"rest within noise by the paired interval. {' and '.join(never_worse) or 'No strategy'} never lose"
        f"{'s' if len(never_worse) == 1 else ''}. Relevance and score rankers (kNN, DSIR, IFD, DEITA, quality) "
        f"concentrate on a few labels or on atypical items: on TREC, IFD fills 200 items with "
        f"{max(c['classes_in_subset'] for c in ifd)} of 6 classes. This is the \"many selectors fail to beat "
        f"random\" counterpoint, measured. Per-label caps (`+balanced`) lift {lifted} of the {len(capped)} "
        f"selectors at 50 items on AG News and TREC over the same selector uncapped (paired, e.g. TREC k-center "
        f"{lift('trec', 'kcenter')}; DSIR {lift('trec', 'dsir')}), but so does stratified random sampling itself "
        f"(TREC {lift('trec', 'random')}; AG News {lift('agnews', 'random')}), and {len(bal_better) or 'no'} capped "
        f"selector{'' if len(bal_better) == 1 else 's'} beat{'s' if len(bal_better) == 1 else ''} stratified "
        f"random: the gain is label balance, not the selector. kNN and quality pick the same subset for every "
        f"seed, so their capped-vs-uncapped intervals have zero width: they hold the test set fixed and do not "
        f"measure its sampling noise. At these pool sizes, use `random` with `--balance-by label` as the baseline "
        f"to beat; IFD/DEITA need larger, noisier instruction pools than a clean classification set to earn their "
        f"cost.")
