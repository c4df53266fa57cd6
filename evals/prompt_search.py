"""Cost-aware prompt search: score prompt candidates on a dev split, keep the accuracy/tokens Pareto front,
choose one, and measure it against the seed prompt on a held-out split of the same task.

Splits: dev and test are disjoint samples of the task's evaluation split (seeded); demonstrations come from its
pool (train split), a fixed seeded list (label round-robin when the task has labels) of which a candidate uses
the first k. Accuracy is cloze accuracy (``core.lm_scoring.score_continuations``, length-normalized, as
``evals.icl``); prompt tokens are counted with the scoring model's tokenizer over the whole rendered prompt
(instruction + demos + query), averaged over items. Held-out comparison: the paired difference over items
(``core.statistics.paired_difference`` with item ids as keys: a paired t interval on per-item correctness
differences), "within noise" unless its interval excludes 0. Prefill time (the transformers backend's
time to first token) is measured on CPU for the seed and the chosen prompt only; on a shared machine it is noisy.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from core.config_types import Fraction, PositiveInt, Seed, WordCount

from core.statistics import majority_baseline, paired_difference, percentile_ci, proportion_ci, verdict
from evals.eval_sets import TASKS, Task, load_task
from prompts.prompt_search import PromptCandidate, choose, pareto_front, propose_candidates
from prompts.templates import render

SEED_PROMPTS = {
    "sst2": "Read the movie review and decide whether the sentiment it expresses is positive or negative. "
            "Answer with a single word.",
    "trec": "Read the question and say what type of answer it asks for: an abbreviation, a description, an entity, "
            "a person, a location or a number.",
    "agnews": "Read the news article and decide which topic it belongs to: World, Sports, Business or Technology.",
    "boolq": "Read the passage and answer the question about it with yes or no.",
    "arc_easy": "Answer the following grade-school science question with the correct answer.",
    "piqa": "Choose the most sensible way to achieve the goal described.",
}
CHOICE_RULE = ("highest dev accuracy within {tolerance:g} (absolute) of the best candidate's, then fewest mean "
               "prompt tokens, then higher dev accuracy")


class Scorer(Protocol):
    def choice_scores(self, prompt: str, choices: list[str]) -> list[float]: ...
    def count_tokens(self, prompt: str) -> int: ...
    def prefill_seconds(self, prompt: str) -> float | None: ...
    def rewrite(self, instruction: str, n: int, seed: int) -> list[str]: ...


class SmolLM2Scorer:
    """The local SmolLM2-135M: cloze scores, token counts, prefill time and instruction rewrites."""

    def __init__(self, device: str = "cpu"):
        from core.models import load_smollm2

        self.model, self.tokenizer = load_smollm2(device)

    def choice_scores(self, prompt: str, choices: list[str]) -> list[float]:
        from core.lm_scoring import score_continuations

        return [s.mean for s in score_continuations(self.model, self.tokenizer, prompt, [" " + c for c in choices])]

    def count_tokens(self, prompt: str) -> int:
        return len(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])

    def prefill_seconds(self, prompt: str) -> float:
        import torch

        ids = torch.tensor([self.tokenizer(prompt, add_special_tokens=False)["input_ids"]])
        with torch.inference_mode():
            start = time.perf_counter()
            self.model(input_ids=ids.to(next(self.model.parameters()).device), use_cache=True)
            return time.perf_counter() - start

    def rewrite(self, instruction: str, n: int, seed: int) -> list[str]:
        from prompts.prompt_search import rewrite_instruction

        return rewrite_instruction(self.model, self.tokenizer, instruction, n, seed=seed)


class SearchConfig(BaseModel):
    """Ranges are checked on construction (CLI flags and the Prefect form alike)."""
    model_config = ConfigDict(extra="forbid")

    task: Literal[TASKS] = "sst2"
    seed_prompt: str | None = None   # None: SEED_PROMPTS[task]
    seed_k: WordCount = 4            # demos in the seed prompt
    max_k: WordCount = 4             # recombination tries k = 0..max_k
    candidates: PositiveInt = 8      # including the seed prompt
    rewrites: WordCount = 3          # LM rewrites asked for (fewer when duplicates or too long)
    dev: PositiveInt = 40
    test: PositiveInt = 80
    tolerance: Fraction = 0.01       # absolute accuracy share: 0.01 = 1 point
    timing_items: WordCount = 20     # test prompts timed for prefill, per arm (0: not measured)
    seed: Seed = 0


def split_queries(task: Task, dev: int, test: int, seed: int) -> tuple[list[int], list[int]]:
    """Disjoint dev and test rows of ``task.test``, a seeded permutation's first ``dev`` then next ``test``."""
    if dev + test > len(task.test):
        raise ValueError(f"dev {dev} + test {test} exceed the {len(task.test)} evaluation items of {task.name}")
    order = np.random.default_rng(seed).permutation(len(task.test))
    return sorted(int(i) for i in order[:dev]), sorted(int(i) for i in order[dev: dev + test])


def demo_list(task: Task, k: int, seed: int) -> list[int]:
    """``k`` pool rows in a seeded order; with a label set, round-robin over labels so any prefix is balanced."""
    order = [int(i) for i in np.random.default_rng(seed).permutation(len(task.pool))]
    if not task.labels:
        return order[:k]
    queues = {lab: [i for i in order if task.label_of(task.pool[i]) == lab] for lab in task.labels}
    out: list[int] = []
    while len(out) < k and any(queues.values()):
        for lab in task.labels:
            if queues[lab] and len(out) < k:
                out.append(queues[lab].pop(0))
    return out


def render_candidate(task: Task, cand: PromptCandidate, demos: list[int], query: int) -> str:
    template = replace(task.template, instruction=cand.instruction, separator=cand.separator)
    return render(template, [task.pool[i].fields for i in demos[: cand.k]], task.test[query].fields)


def evaluate(task: Task, cand: PromptCandidate, demos: list[int], queries: list[int], scorer: Scorer) -> dict:
    """Per-item correctness and prompt tokens of one candidate on ``queries``."""
    correct, tokens = {}, []
    for q in queries:
        ex = task.test[q]
        prompt = render_candidate(task, cand, demos, q)
        scores = scorer.choice_scores(prompt, ex.choices)
        correct[ex.id] = int(int(np.argmax(scores)) == ex.gold)
        tokens.append(scorer.count_tokens(prompt))
    return {"accuracy": proportion_ci(sum(correct.values()), len(correct)),
            "mean_prompt_tokens": float(np.mean(tokens)), "correct": correct}


def _timing(task: Task, arms: dict[str, PromptCandidate], demos: list[int], queries: list[int],
            scorer: Scorer) -> dict:
    seconds: dict[str, list[float]] = {name: [] for name in arms}
    for q in queries:  # interleaved, so drift in machine load hits both arms alike
        for name, cand in arms.items():
            s = scorer.prefill_seconds(render_candidate(task, cand, demos, q))
            if s is not None:
                seconds[name].append(s * 1000)
    if not queries or not all(seconds.values()):
        return {"measured": False, "note": "not measured (timing_items 0, or a scorer that does not time prefill)"}
    return {"measured": True, "unit": "ms", "items": len(queries),
            "note": "prefill (TTFT of the transformers backend) on CPU, shared machine: noisy",
            **{name: {"median": percentile_ci(v, 50)} for name, v in seconds.items()}}


def search(config: SearchConfig, scorer: Scorer, command: str | None = None) -> dict:
    """The whole search as a JSON-ready report (see the module docstring for what is measured)."""
    task = load_task(config.task)
    seed_prompt = SEED_PROMPTS[config.task] if config.seed_prompt is None else config.seed_prompt
    dev_q, test_q = split_queries(task, config.dev, config.test, config.seed)
    demos = demo_list(task, max(config.seed_k, config.max_k), config.seed)
    rewrites = scorer.rewrite(seed_prompt, config.rewrites, config.seed) if config.rewrites and seed_prompt else []
    cands = propose_candidates(seed_prompt, config.seed_k, config.candidates, rewrites, config.max_k, config.seed)
    start = time.perf_counter()
    rows = []
    for c in cands:
        r = evaluate(task, c, demos, dev_q, scorer)
        rows.append({"name": c.name, **asdict(c), "dev_accuracy": r["accuracy"],
                     "dev_mean_prompt_tokens": r["mean_prompt_tokens"]})
    points = [(r["dev_accuracy"]["mean"], r["dev_mean_prompt_tokens"]) for r in rows]
    front = pareto_front(points)
    chosen = choose(points, config.tolerance)
    for i, r in enumerate(rows):
        r["on_front"] = i in front
    seed_c, chosen_c = cands[0], cands[chosen]
    held = {"seed": evaluate(task, seed_c, demos, test_q, scorer), "chosen": evaluate(task, chosen_c, demos, test_q,
                                                                                      scorer)}
    diff = paired_difference(held["seed"]["correct"], held["chosen"]["correct"])
    diff["method"] = f"paired t over {diff['n']} held-out items (per-item correctness, chosen - seed)"
    diff["verdict"] = verdict(diff["ci"], higher_is_better=True)
    timing = _timing(task, {"seed": seed_c, "chosen": chosen_c}, demos, test_q[: config.timing_items], scorer)
    gold = [task.test[q].gold for q in test_q]
    tokens_seed, tokens_chosen = held["seed"]["mean_prompt_tokens"], held["chosen"]["mean_prompt_tokens"]
    return {
        "task": config.task, "command": command, "config": config.model_dump() | {"seed_prompt": seed_prompt},
        "splits": {"dev": len(dev_q), "test": len(test_q), "source": f"{config.task} evaluation split, disjoint "
                   f"seeded samples; demos from its pool"},
        "demo_ids": [task.pool[i].id for i in demos], "rewrites": rewrites,
        "choice_rule": CHOICE_RULE.format(tolerance=config.tolerance),
        "candidates": rows, "front": [rows[i]["name"] for i in front], "chosen": rows[chosen]["name"],
        "dev_majority_baseline": majority_baseline([task.test[q].gold for q in dev_q]),
        "test": {
            "majority_baseline": majority_baseline(gold),
            "seed": {"name": seed_c.name, "accuracy": held["seed"]["accuracy"], "mean_prompt_tokens": tokens_seed},
            "chosen": {"name": chosen_c.name, "accuracy": held["chosen"]["accuracy"],
                       "mean_prompt_tokens": tokens_chosen},
            "accuracy_difference": diff,
            "token_ratio": tokens_chosen / tokens_seed if tokens_seed else None,
            "per_item": {"seed": held["seed"]["correct"], "chosen": held["chosen"]["correct"]},
        },
        "prefill_ms": timing, "seconds": round(time.perf_counter() - start, 1),
    }


def _pct(p: dict) -> str:
    lo, hi = p["ci95"] or (None, None)
    return f"{p['mean']:.3f} [{lo:.3f}, {hi:.3f}]" if lo is not None else f"{p['mean']:.3f}"


def render_markdown(report: dict) -> str:
    t = report["test"]
    d = t["accuracy_difference"]
    lines = [f"# Prompt search: {report['task']}", "",
             f"Dev {report['splits']['dev']} / test {report['splits']['test']} items; choice rule: "
             f"{report['choice_rule']}.", "",
             "| candidate | k | instruction | dev accuracy [95% CI] | mean prompt tokens | front |",
             "|---|---|---|---|---|---|"]
    for r in sorted(report["candidates"], key=lambda r: r["dev_mean_prompt_tokens"]):
        mark = "chosen" if r["name"] == report["chosen"] else ("yes" if r["on_front"] else "")
        instr = (r["instruction"] or "(none)").replace("|", "/")
        lines.append(f"| {r['name']} | {r['k']} | {instr} | {_pct(r['dev_accuracy'])} | "
                     f"{r['dev_mean_prompt_tokens']:.1f} | {mark} |")
    lines += ["", f"Dev majority-class baseline: {report['dev_majority_baseline']['accuracy']:.3f}", "",
              "## Held-out test: chosen vs seed", "",
              f"- seed `{t['seed']['name']}`: accuracy {_pct(t['seed']['accuracy'])}, "
              f"{t['seed']['mean_prompt_tokens']:.1f} prompt tokens",
              f"- chosen `{t['chosen']['name']}`: accuracy {_pct(t['chosen']['accuracy'])}, "
              f"{t['chosen']['mean_prompt_tokens']:.1f} prompt tokens (x{t['token_ratio']:.2f})",
              f"- majority-class baseline: {t['majority_baseline']['accuracy']:.3f}",
              f"- accuracy difference (chosen - seed): {d['delta']:+.3f}, 95% CI "
              f"{[round(x, 3) for x in d['ci']] if d['ci'] else 'none'} ({d['method']}): **{d['verdict']}**"]
    p = report["prefill_ms"]
    if p.get("measured"):
        lines.append(f"- prefill median ms, seed {p['seed']['median']['value']:.1f} vs chosen "
                     f"{p['chosen']['median']['value']:.1f} ({p['note']})")
    else:
        lines.append("- prefill time: not measured")
    return "\n".join(lines) + "\n"


def plot_front(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["candidates"]
    fig, ax = plt.subplots(figsize=(6, 4))
    x = [r["dev_mean_prompt_tokens"] for r in rows]
    y = [r["dev_accuracy"]["mean"] for r in rows]
    ax.scatter(x, y, c=["tab:blue" if r["on_front"] else "tab:gray" for r in rows])
    front = sorted((r for r in rows if r["on_front"]), key=lambda r: r["dev_mean_prompt_tokens"])
    ax.step([r["dev_mean_prompt_tokens"] for r in front], [r["dev_accuracy"]["mean"] for r in front], where="post",
            color="tab:blue", alpha=0.5)
    for r in rows:
        ax.annotate(r["name"] + (" *" if r["name"] == report["chosen"] else ""),
                    (r["dev_mean_prompt_tokens"], r["dev_accuracy"]["mean"]), fontsize=6)
    ax.axhline(report["dev_majority_baseline"]["accuracy"], color="tab:red", ls=":", label="majority class")
    ax.set_xlabel("mean prompt tokens (SmolLM2 tokenizer)")
    ax.set_ylabel(f"dev accuracy (n={report['splits']['dev']})")
    ax.set_title(f"prompt search on {report['task']}: front in blue, * chosen")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(report: dict, out: str | Path) -> dict:
    """report.json, report.md and front.png under ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md", "plot": out / "front.png"}
    paths["json"].write_text(json.dumps(report, indent=2) + "\n")
    paths["markdown"].write_text(render_markdown(report))
    plot_front(report, paths["plot"])
    return {k: str(v) for k, v in paths.items()}
