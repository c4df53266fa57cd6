"""README blocks of the prompt-compression section (compress_quality.json). Standard library only."""

from __future__ import annotations

from benchmarks.readme_tables import prose

METHODS = ("uncompressed", "self_information", "classifier", "truncate_head", "truncate_tail", "whole_demos", "no_demos")
BASELINES = ("truncate_head", "truncate_tail", "whole_demos", "no_demos")


def _ci(c, n: int = 2) -> str:
    return f"[{c[0]:.{n}f}, {c[1]:.{n}f}]" if c else "[-]"


def _d(x: dict, n: int = 2) -> str:
    return f"{x['delta']:+.{n}f} {_ci(x['ci'], n)} {x['verdict']}"


def compress_speed(j: dict) -> str:
    """Both compressors on the same per-query prompts and budgets: medians, per-prompt speed-ups, agreement."""
    out = ["| rate | prompts | self-information s | classifier s | speed-up (wall) | CPU s self-inf. | CPU s classifier "
           "| speed-up (CPU) | label agreement | gold log-p/token, classifier - self-inf. |",
           "|---|---:|---|---|---|---|---|---|---:|---|"]
    for r, v in j["speed"]["by_rate"].items():
        w, c, g = v["wall_s"], v["cpu_s"], v["classifier_minus_self_information_gold"]
        out.append(f"| {r} | {g['n']} | {w['self_information']['value']:.2f} {_ci(w['self_information']['ci95'])} | "
                   f"{w['classifier']['value']:.3f} {_ci(w['classifier']['ci95'], 3)} | "
                   f"**{w['speedup_median']['value']:.1f}x** {_ci(w['speedup_median']['ci95'], 1)} | "
                   f"{c['self_information']['value']:.3f} {_ci(c['self_information']['ci95'], 3)} | "
                   f"{c['classifier']['value']:.3f} {_ci(c['classifier']['ci95'], 3)} | "
                   f"**{c['speedup_median']['value']:.1f}x** {_ci(c['speedup_median']['ci95'], 1)} | "
                   f"{v['label_agreement']['mean']:.2f} | {_d(g, 3)} |")
    rates = [r for r in j["speed"]["by_rate"] if r != "all"]
    lows = {r: (j["speed"]["by_rate"][r]["wall_s"]["speedup_median"]["ci95"][0],
                j["speed"]["by_rate"][r]["cpu_s"]["speedup_median"]["ci95"][0]) for r in rates}
    met = all(min(v) >= 10 for v in lows.values())
    a = j["speed"]["by_rate"]["all"]
    held = j["classifier"]["held_out"]
    text = (f"The classifier is {'**>= 10x faster at every budget**' if met else '**not >= 10x faster at every budget**'}"
            f" (lower bounds of the median per-prompt speed-up, wall / CPU: "
            + "; ".join(f"rate {r}: {w:.1f}x / {c:.1f}x" for r, (w, c) in lows.items())
            + "). Its remaining cost is mostly the coarse step's MiniLM embedding of the question, which both methods "
            f"pay. On these prompts the gold log-probability after the classifier's prompt minus the teacher's is "
            f"{_d(a['classifier_minus_self_information_gold'], 3)} ({a['classifier_minus_self_information_gold']['n']} "
            f"prompt x budget pairs), and it makes the teacher's keep/drop decision on "
            f"{100 * a['label_agreement']['mean']:.0f}% of the free words (fitted on "
            f"{j['classifier']['prompts']['train']:,} teacher-labelled prompts; held-out agreement at training: "
            f"{held['agreement']:.3f}, Cohen's kappa {held['cohen_kappa_mean']:.2f}, "
            f"{j['classifier']['prompts']['held_out']} other prompts).")
    return "\n".join(out) + "\n\n" + prose(text)


MODES = ("per_query", "shared")


def _mode(c: dict) -> str:
    return c.get("mode", "shared")  # runs before the per-query mode had shared contexts only


def _cells(j: dict):
    return {(_mode(c), c["task"], c["rate"], c["method"]): c for c in j["cells"]}


def compress_quality(j: dict) -> str:
    """Accuracy / gold log-prob per token (context tokens; per-query mode: mean over the queries' contexts) of every
    method at every task and budget, per-query contexts first."""
    cells = _cells(j)
    out = ["| task (n) | contexts | rate | " + " | ".join(METHODS) + " |", "|---|---|---:|" + "---|" * len(METHODS)]
    for mode in MODES:
        for task in j["tasks"]:
            raw = cells.get((mode, task, 1.0, "uncompressed"))
            if raw is None:
                continue
            for rate in sorted({r for md, t, r, _ in cells if (md, t) == (mode, task) and r != 1.0}, reverse=True):
                row = []
                for m in METHODS:
                    c = raw if m == "uncompressed" else cells[(mode, task, rate, m)]
                    acc = c.get("accuracy")
                    row.append((f"{acc['mean']:.3f} / " if acc else "")
                               + f"{c['gold_logprob_per_token']['mean']:.2f} ({c['compressed_context_tokens']:.0f})")
                out.append(f"| {task} ({raw['queries']}) | {mode.replace('_', '-')} | {rate:g} | "
                           + " | ".join(row) + " |")
    return "\n".join(out)


def compress_baselines(j: dict) -> str:
    """Paired per-query differences of gold log-prob, each compressor minus each baseline (and the teacher)."""
    out = ["| task | contexts | rate | compressor | " + " | ".join("vs " + b for b in BASELINES)
           + " | vs self_information |", "|---|---|---:|---|" + "---|" * 5]
    for c in sorted((c for c in j["cells"] if "vs_baselines" in c), key=lambda c: MODES.index(_mode(c))):
        if "vs_baselines" in c:
            si = c.get("vs_self_information", {}).get("gold")
            out.append(f"| {c['task']} | {_mode(c).replace('_', '-')} | {c['rate']:g} | {c['method']} | "
                       + " | ".join(_d(c["vs_baselines"][b]["gold"]) for b in BASELINES)
                       + f" | {_d(si) if si else ''} |")
    return "\n".join(out)


def compress_reading(j: dict) -> str:
    """The verdicts in words, each computed from the paired intervals in the JSON."""
    lines = []
    for mode in MODES:
        comp = [c for c in j["cells"] if "vs_baselines" in c and _mode(c) == mode]
        if comp:
            lines += _reading(comp, mode)
    comp = [c for c in j["cells"] if "vs_baselines" in c]
    n = sorted({c["queries"] for c in comp})
    lines.append("- Each comparison is a 95% paired t interval over the queries, not corrected for the "
                 f"{sum(len(c['vs_baselines']) + ('vs_self_information' in c) for c in comp) * 2} made here; with "
                 f"{n[0] if len(n) == 1 else f'{n[0]}-{n[-1]}'} queries per cell most accuracy differences are within "
                 "noise.")
    return "\n".join(prose(x).replace("\n", "\n  ") for x in lines)


def _reading(comp: list[dict], mode: str) -> list[str]:
    """The bullets of one context mode."""
    label = {"per_query": "Per-query contexts", "shared": "Shared context"}[mode]

    def where(method: str, metric: str, against: str, verdict: str) -> list[str]:
        got = []
        for c in comp:
            if c["method"] != method:
                continue
            x = (c.get("vs_self_information") if against == "self_information" else c["vs_baselines"][against])
            if x and metric in x and x[metric]["verdict"] == verdict:
                got.append(f"{c['task']} {c['rate']:g}")
        return got

    def say(xs: list[str]) -> str:
        return ", ".join(xs) if xs else "none"

    cls = [c for c in comp if c["method"] == "classifier"]
    acc_cells = [c for c in cls if "correct" in c["vs_self_information"]]
    low = min(cls, key=lambda c: c["vs_self_information"]["gold"]["ci"][0], default=None)
    acc_noise = sum(c["vs_self_information"]["correct"]["verdict"] == "within noise" for c in acc_cells)
    lines = [
        f"- **{label}: classifier vs self-information at the same budget** (paired per query): accuracy within "
        f"noise in {acc_noise} of {len(acc_cells)} cells; gold log-probability better in "
        f"{say(where('classifier', 'gold', 'self_information', 'better'))}, worse in "
        f"{say(where('classifier', 'gold', 'self_information', 'worse'))}, within noise in "
        f"{say(where('classifier', 'gold', 'self_information', 'within noise'))}."
        + (f" Within noise is not equal: the lowest lower bound is {low['vs_self_information']['gold']['ci'][0]:+.2f} "
           f"nats/token ({low['task']} {low['rate']:g}), so losses that large are not ruled out." if low else "")]
    for b in BASELINES:
        parts = []
        for m in ("self_information", "classifier"):
            parts.append(f"{m} better in {say(where(m, 'gold', b, 'better'))}, worse in {say(where(m, 'gold', b, 'worse'))}"
                         + (f" (accuracy better in {say(where(m, 'correct', b, 'better'))}, worse in "
                            f"{say(where(m, 'correct', b, 'worse'))})"))
        lines.append(f"- {label}, **vs `{b}`**, gold log-probability: " + "; ".join(parts) + ".")
    return lines


TRUNCATIONS = ("truncate_head", "truncate_tail", "whole_demos")


def compress_verdict(j: dict) -> str:
    """The section's conclusions, each computed from the JSON: whether the classifier keeps the teacher's quality
    per query, whether either compressor beats truncation, shared cells below every baseline, and which rates ran."""
    cells = _cells(j)
    lines = _same_quality(j, cells) + _versus_truncation(j) + _bad_shared_cuts(j, cells) + _rates_run(j, cells)
    return "\n".join(prose(x).replace("\n", "\n  ") for x in lines)


def _same_quality(j: dict, cells: dict) -> list[str]:
    per_q = [c for c in j["cells"] if _mode(c) == "per_query" and "vs_self_information" in c]
    if not per_q:
        return []
    worse = [c for c in per_q if any(c["vs_self_information"][m]["verdict"] == "worse"
                                     for m in ("gold", "correct") if m in c["vs_self_information"])]
    text = (f"- **Same quality, per query: {'holds in every cell' if not worse else 'not in every cell'}** "
            f"({len(per_q) - len(worse)} of {len(per_q)}: the classifier's gold log-probability and accuracy are "
            "within noise of self-information or better).")
    for c in worse:
        g = c["vs_self_information"]["gold"]
        teacher = cells[("per_query", c["task"], c["rate"], "self_information")]["gold_logprob_per_token"]["mean"]
        text += (f" Worse at {c['task']} {c['rate']:g}: {g['delta']:+.3f} nats/token {_ci(g['ci'], 3)}, "
                 f"{abs(g['delta'] / teacher):.1%} of the teacher's gold log-probability.")
    low = min(per_q, key=lambda c: c["vs_self_information"]["gold"]["ci"][0])
    return [text + f" Within noise is a weak claim where the interval is wide: the lowest lower bound is "
            f"{low['vs_self_information']['gold']['ci'][0]:+.2f} nats/token ({low['task']} {low['rate']:g})."]


def _versus_truncation(j: dict) -> list[str]:
    lines, any_beats = [], False
    for m in ("self_information", "classifier"):
        mine = [c for c in j["cells"] if _mode(c) == "per_query" and c["method"] == m and "vs_baselines" in c]
        if not mine:
            continue
        beats = [f"{c['task']} {c['rate']:g}" for c in mine
                 if all(c["vs_baselines"][b]["gold"]["verdict"] == "better" for b in TRUNCATIONS)]
        loses = [f"{c['task']} {c['rate']:g}" for c in mine
                 if any(c["vs_baselines"][b]["gold"]["verdict"] == "worse" for b in TRUNCATIONS)]
        any_beats = any_beats or bool(beats)
        lines.append(f"- Per query, `{m}` beats all three truncations ({', '.join(TRUNCATIONS)}) on gold "
                     f"log-probability in {', '.join(beats) or 'no cell'}, and is worse than at least one of them "
                     f"in {', '.join(loses) or 'no cell'} (of {len(mine)} cells).")
    if lines and not any_beats:
        lines.append("- So the case for these compressors is cost, not quality: what they buy over truncation "
                     "is not shown here.")
    return lines


def _bad_shared_cuts(j: dict, cells: dict) -> list[str]:
    lines = []
    for c in j["cells"]:
        if _mode(c) != "shared" or c["method"] not in ("self_information", "classifier"):
            continue
        if all(c["vs_baselines"][b]["gold"]["verdict"] == "worse" for b in BASELINES):  # even below no demos
            base = [cells[("shared", c["task"], c["rate"], b)]["gold_logprob_per_token"]["mean"] for b in BASELINES]
            raw = cells[("shared", c["task"], 1.0, "uncompressed")]["gold_logprob_per_token"]["mean"]
            lines.append(f"- One cut decides a shared cell: `{c['method']}`'s shared {c['task']} {c['rate']:g} "
                         f"context scores {c['gold_logprob_per_token']['mean']:.2f} against {raw:.2f} uncompressed, "
                         f"below every baseline (best {max(base):.2f}), so that cell compares two strings more than "
                         "two methods.")
    return lines


def _rates_run(j: dict, cells: dict) -> list[str]:
    lines = []
    for task in j["tasks"]:
        rates = {md: sorted({r for m2, t, r, _ in cells if (m2, t) == (md, task) and r != 1.0}, reverse=True)
                 for md in MODES}
        missing = [r for r in rates["shared"] if r not in rates["per_query"]]
        raw = cells.get(("per_query", task, 1.0, "uncompressed"))
        if rates["per_query"] and missing and raw:
            lines.append(f"- {task} per-query ran at {', '.join(f'{r:g}' for r in rates['per_query'])} only "
                         f"({', '.join(f'{r:g}' for r in missing)} left out for time: its contexts average "
                         f"{raw['compressed_context_tokens']:,.0f} tokens, which take the teacher seconds each on one "
                         "core); the shared mode ran " + ", ".join(f"{r:g}" for r in rates["shared"]) + ".")
    return lines


def compress_runs(j: dict) -> str:
    """How the JSON was made: each run's command, minutes and load, and the teacher's median seconds per prompt."""
    parts = j.get("parts") or [{"command": j["command"], "run_s": j["run_s"], "machine": j["machine"]}]
    runs = "; ".join(f"`{p['command'].replace('python benchmarks/compress_quality.py ', '')}` "
                     f"({p['run_s'] / 60:.0f} min, load {p['machine']['load_average_at_end'][0]:.1f} at its end)"
                     for p in parts)
    threads = sorted({p["machine"]["torch_threads"] for p in parts})
    teacher = ", ".join(f"{v['wall_s']['self_information']['value']:.2f} s at rate {r}"
                        for r, v in j["speed"]["by_rate"].items() if r != "all") if j.get("speed") else ""
    text = (f"**Measured** (`benchmarks/compress_quality.py`, `benchmarks/results/compress_quality.json`; "
            f"{len(parts)} run{'s' if len(parts) > 1 else ''}"
            + (", merged with `--merge`" if len(parts) > 1 else "") + f": {runs}). SmolLM2-135M as both compressor "
            f"and target, torch on {' or '.join(map(str, threads))} thread{'s' if threads != [1] else ''}, on a "
            f"{parts[0]['machine']['cpus']}-core machine shared by the runs, so wall times are not idle-machine numbers "
            "(CPU seconds are steadier).")
    if teacher:
        text += (f" Today's compressor took a median {teacher} per 5-shot ARC prompt here, not the ~4.5 s the issue "
                 "measured under heavy load.")
    return prose(text)
