"""The pretraining ablation: does curation beat training on the unfiltered extracted text, and on a random subset
of it of the same size? (DataDecide / DCLM style, small; issue 18 item 2.)

Arms (``evals.pretrain_data``): ``extracted`` (mail bodies, extraction only), ``curated`` (the demo pipeline's
kept documents), ``random`` (extracted documents drawn at random to the curated arm's token count, redrawn per
seed). Everything else is shared: the hold-out (whole duplicate clusters), a byte-level BPE trained on the
non-held-out extracted pool, the model, the WSD schedule with decayed checkpoints at each budget
(``evals.wsd``), and the seeds (a seed fixes the initialisation; the data order follows the arm's data).

Held-out sets, scored whole in bits per byte (``evals.bits_per_byte``): ``wikitext`` (wikitext-2 test, clean
text from another domain) and ``heldout`` (every held-out extracted mail body: the arms' own domain), also split
into the held-out documents curation keeps (``heldout_kept``) and removes (``heldout_removed``). Unigram and
bigram bits per byte of each arm's training tokens are reported beside every model number.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.shared_data import shared_data_dir
from core.statistics import mean_ci, paired_difference, verdict
from evals.bits_per_byte import EvalSet, model_doc_nats, ngram_doc_nats
from evals.pretrain_data import encode, load_corpus, random_subset_at_tokens, train_bpe
from evals.wsd import ModelConfig, packed_blocks, train_wsd

ARMS = ("extracted", "curated", "random")
EVAL_SETS = ("wikitext", "heldout", "heldout_kept", "heldout_removed")
PRIMARY = ("wikitext", "heldout")  # the family the simultaneous intervals cover
CONTRASTS = (("curated", "extracted"), ("curated", "random"))


@dataclass
class AblationConfig:
    budgets: list[int] = field(default_factory=lambda: [393_216, 786_432])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    vocab_size: int = 4096
    holdout_percent: float = 5.0
    model: ModelConfig = field(default_factory=ModelConfig)
    curate_config: str = "configs/demo_mail.yaml"
    # the extracted arm's pipeline: extraction and formatting, no filter. ``normalize`` (NFC, collapsed spaces,
    # at most one blank line) is also in the curated pipeline: without it here, held-out extracted text keeps
    # indentation and space runs the curated arm never saw, which penalises curation for formatting, not selection
    extract_steps: list[str] = field(default_factory=lambda: ["mail_body", "normalize"])
    raw: str = "mail/spamassassin.jsonl.gz"  # under the shared data directory
    clean: str = "lm/wikitext-2_test.txt"
    clean_articles: int | None = None  # None: every article of the clean text; k: its first k whole articles

    @classmethod
    def from_dict(cls, d: dict) -> AblationConfig:
        return cls(**(d | {"model": ModelConfig(**d.get("model", {}))}))


def curate(cfg: AblationConfig, work: Path) -> tuple[Path, Path]:
    """Extraction-only and full demo-pipeline curation runs of the raw shard (finished steps are reused)."""
    from curation.config import CurationConfig
    from curation.runner import curate_local

    raw = str(shared_data_dir() / cfg.raw)
    steps = cfg.extract_steps
    extracted, curated = work / ("extracted" if steps == ["mail_body"] else "extracted-" + "-".join(steps)), work / "curated"
    curate_local([raw], extracted, CurationConfig.model_validate({"steps": [{"step": x} for x in steps]}))
    curate_local([raw], curated, CurationConfig.load(cfg.curate_config))
    return extracted, curated


def articles(wikitext: str) -> list[str]:
    """wikitext-2's articles, whole: each starts at a top-level heading line `` = Title = ``."""
    starts = [m.start() for m in re.finditer(r"^ = [^=].* = $", wikitext, flags=re.M)]
    starts = [0] + starts[1:]  # text before the first heading (blank lines) joins the first article
    return [wikitext[a:b] for a, b in zip(starts, starts[1:] + [len(wikitext)]) if wikitext[a:b].strip()]


@dataclass
class Prepared:
    vocab_size: int
    eos: int
    arms: dict  # name -> list of per-document token arrays ("random" holds the pool it draws from)
    curated_tokens: int
    eval_sets: dict  # name -> EvalSet
    subsets: dict  # eval name -> (base eval set, document indices or None)
    stats: dict


def prepare(cfg: AblationConfig, work: Path) -> Prepared:
    t0 = time.perf_counter()
    extracted_dir, curated_dir = curate(cfg, work)
    corpus = load_corpus(extracted_dir, curated_dir, cfg.holdout_percent)
    t_curate = time.perf_counter() - t0
    train_idx = [i for i in range(len(corpus.texts)) if not corpus.held_out[i]]
    pool = [corpus.texts[i] for i in train_idx]
    tokenizer = train_bpe(pool, cfg.vocab_size)
    tokenizer.save(str(work / "tokenizer.json"))
    eos = tokenizer.token_to_id("<|endoftext|>")
    extracted_tokens = encode(tokenizer, pool)
    curated_train = [i for i in train_idx if i in corpus.curated_text]
    curated_tokens = encode(tokenizer, [corpus.curated_text[i] for i in curated_train])
    held = [i for i in range(len(corpus.texts)) if corpus.held_out[i]]
    held_texts = [corpus.texts[i] for i in held]
    clean = articles((shared_data_dir() / cfg.clean).read_text(encoding="utf-8"))[: cfg.clean_articles]
    eval_sets = {"wikitext": EvalSet.from_documents(encode(tokenizer, clean), clean, eos),
                 "heldout": EvalSet.from_documents(encode(tokenizer, held_texts), held_texts, eos)}
    kept = np.asarray([i in corpus.curated_text for i in held])
    subsets = {"wikitext": ("wikitext", None), "heldout": ("heldout", None),
               "heldout_kept": ("heldout", np.flatnonzero(kept)), "heldout_removed": ("heldout", np.flatnonzero(~kept))}
    n_cur = int(sum(len(t) + 1 for t in curated_tokens))
    stats = corpus.stats | {
        "tokenizer": {"vocab_size": tokenizer.get_vocab_size(), "trained_on_documents": len(pool),
                      "trained_on_bytes": int(sum(len(t.encode()) for t in pool))},
        "train_tokens": {"extracted": int(sum(len(t) + 1 for t in extracted_tokens)), "curated": n_cur},
        "train_documents": {"extracted": len(pool), "curated": len(curated_train)},
        "eval": {name: {"documents": int(len(e.doc_bytes)), "bytes": int(e.doc_bytes.sum()), "tokens": e.n_targets}
                 for name, e in eval_sets.items()} | {
            name: {"documents": int(len(idx)), "bytes": int(eval_sets["heldout"].doc_bytes[idx].sum())}
            for name, (_, idx) in subsets.items() if idx is not None},
        "prepare_s": round(time.perf_counter() - t0, 1), "curate_s": round(t_curate, 1),
    }
    return Prepared(tokenizer.get_vocab_size(), eos, {"extracted": extracted_tokens, "curated": curated_tokens,
                                                       "random": extracted_tokens}, n_cur, eval_sets, subsets, stats)


def arm_documents(data: Prepared, arm: str, seed: int) -> list[np.ndarray]:
    if arm != "random":
        return data.arms[arm]
    pool = data.arms["random"]
    idx = random_subset_at_tokens(np.asarray([len(t) + 1 for t in pool]), data.curated_tokens, seed)
    return [pool[i] for i in idx]


def scores(data: Prepared, doc_nats: dict[str, np.ndarray]) -> dict[str, float]:
    """Bits per byte on every eval set (subsets from their base set's per-document nats)."""
    return {name: data.eval_sets[base].bpb(doc_nats[base], idx) for name, (base, idx) in data.subsets.items()}


def run_one(data: Prepared, cfg: AblationConfig, arm: str, seed: int) -> dict:
    docs = arm_documents(data, arm, seed)
    blocks = packed_blocks(docs, data.eos, cfg.model.seq_len)
    stream = np.concatenate([np.append(d, data.eos) for d in docs])
    baselines = {kind: scores(data, {n: ngram_doc_nats(stream, e, data.vocab_size)[kind]
                                     for n, e in data.eval_sets.items()}) for kind in ("unigram", "bigram")}

    def evaluate(model) -> dict:
        return scores(data, {n: model_doc_nats(model, e, cfg.model.seq_len) for n, e in data.eval_sets.items()})

    result = train_wsd(blocks, cfg.model, cfg.budgets, data.vocab_size, seed, evaluate)
    return {"arm": arm, "seed": seed, "train_tokens_available": int(stream.size), "documents": len(docs),
            "epochs_at_largest_budget": max(cfg.budgets) / max(1, blocks.size - len(blocks)),
            "baselines_bpb": baselines, **result, "budgets": {str(b): v for b, v in result["budgets"].items()}}


def run(cfg: AblationConfig, work: Path, log=print) -> dict:
    """Prepares, then trains every (seed, arm) not yet in ``work/runs.jsonl`` with this config, seed-major so
    finished seeds are paired, and returns the summary. Several processes may share ``work``: each run is
    claimed with a lock (``core.storage.run_lock``; released if its process dies) and appended when done."""
    from core.storage import RunLocked, run_lock

    work.mkdir(parents=True, exist_ok=True)
    wall0, cpu0 = time.time(), time.process_time()
    with run_lock(work / "prepare", wait=True):  # one process curates at a time; the others reuse its steps
        data = prepare(cfg, work)
        earlier = json.loads((work / "prepared.json").read_text()) if (work / "prepared.json").exists() else {}
        cpu = time.process_time() - cpu0 + earlier.get("prepare_cpu_s", 0.0)  # every process's preparation
        data.stats |= {"started": min(wall0, earlier.get("started", wall0)), "prepare_cpu_s": round(cpu, 1),
                       "processes": earlier.get("processes", 0) + 1}
        (work / "prepared.json").write_text(json.dumps(data.stats, indent=1) + "\n")
    log(f"prepared in {data.stats['prepare_s']} s: {json.dumps(data.stats['train_tokens'])}")
    key = json.dumps(asdict(cfg), sort_keys=True)
    for seed in cfg.seeds:
        for arm in ARMS:
            if (arm, seed) in finished(work, key):
                continue
            try:
                with run_lock(work / "claims" / f"{arm}-seed{seed}"):
                    if (arm, seed) in finished(work, key):
                        continue
                    t0, c0 = time.time(), time.process_time()
                    r = run_one(data, cfg, arm, seed) | {"key": key, "started": t0, "finished": time.time(),
                                                        "cpu_s": time.process_time() - c0}
                    with (work / "runs.jsonl").open("a") as f:
                        f.write(json.dumps(r) + "\n")
            except RunLocked:
                continue
            log(f"{arm} seed {seed}: {json.dumps(r['budgets'])} ({r['train_s']:.0f} s train, {r['eval_s']:.0f} s eval)")
    return summary_of(cfg, work)


LEGACY = {"extract_steps": ["mail_body"]}  # fields added later, with the value runs made before them had


def same_config(a: str | None, b: str) -> bool:
    """Two run keys (JSON of the config) name the same experiment; a key without a later field had its legacy value."""
    if a is None:
        return False
    return LEGACY | json.loads(a) == LEGACY | json.loads(b)


def finished(work: Path, key: str) -> dict:
    """{(arm, seed): run} for the runs in ``work/runs.jsonl`` made with this config (``key``)."""
    path, done = work / "runs.jsonl", {}
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if same_config(r.get("key"), key):
                done[(r["arm"], r["seed"])] = r
    return done


def summary_of(cfg: AblationConfig, work: Path) -> dict:
    """The summary of the finished runs in ``work`` (no training): total wall is one preparation plus the runs from
    the first start to the last finish; total CPU is every run's (training, evaluation, baselines)."""
    stats = json.loads((work / "prepared.json").read_text())
    done = finished(work, json.dumps(asdict(cfg), sort_keys=True))
    runs = [done[(a, s)] for s in cfg.seeds for a in ARMS if (a, s) in done]
    # one preparation plus the runs from the first start to the last finish (prepared.json is shared by configs)
    wall = stats["prepare_s"] + (max(r["finished"] for r in runs) - min(r["started"] for r in runs) if runs else 0.0)
    cpu = sum(r["cpu_s"] for r in runs)
    return summarize(cfg, stats, runs, wall, cpu)


def summarize(cfg: AblationConfig, stats: dict, runs: list[dict], wall_s: float, cpu_s: float) -> dict:
    """Per budget and eval set: each arm's seed mean (t interval) and the paired curated - other differences in
    bits per byte (negative: curated better), with a 95% interval for each and a Bonferroni-simultaneous one over
    the primary family (2 contrasts x ``PRIMARY`` sets x budgets); the verdict reads the simultaneous one."""
    family = len(CONTRASTS) * len(PRIMARY) * len(cfg.budgets)
    by_arm = {a: {r["seed"]: r for r in runs if r["arm"] == a} for a in ARMS}
    table = {}
    for b in map(str, cfg.budgets):
        table[b] = {}
        for e in EVAL_SETS:
            cell = {"arms": {}, "contrasts": {}}
            for a in ARMS:
                vals = {s: r["budgets"][b][e] for s, r in by_arm[a].items()}
                cell["arms"][a] = mean_ci(list(vals.values())) | {
                    "per_seed": vals, **{k: float(np.mean([r["baselines_bpb"][k][e] for r in by_arm[a].values()]))
                                         for k in ("unigram", "bigram") if by_arm[a]}}
            for x, y in CONTRASTS:
                a_vals = {s: r["budgets"][b][e] for s, r in by_arm[y].items()}
                x_vals = {s: r["budgets"][b][e] for s, r in by_arm[x].items()}
                d = paired_difference(a_vals, x_vals)
                keys = [k for k in a_vals if k in x_vals]
                sim = mean_ci([x_vals[k] - a_vals[k] for k in keys], 1 - 0.05 / family)["ci95"]
                cell["contrasts"][f"{x}-{y}"] = {
                    "delta_bpb": d["delta"], "ci95": d["ci"], "ci_simultaneous": sim, "n": d["n"],
                    "method": d["method"], "verdict_95": verdict(d["ci"], higher_is_better=False),
                    "verdict": verdict(sim, higher_is_better=False) if e in PRIMARY else None,
                    "seeds_curated_lower": int(sum(x_vals[k] < a_vals[k] for k in keys))}
            table[b][e] = cell
    timing = {a: {k: mean_ci([r[k] for r in by_arm[a].values()])["mean"]
                  for k in ("train_s", "train_cpu_s", "eval_s", "eval_cpu_s", "tokens_per_s", "tokens_per_cpu_s")}
              for a in ARMS if by_arm[a]}
    first = runs[0] if runs else {}
    return {"config": asdict(cfg), "data": stats, "runs_finished": len(runs), "runs_planned": len(ARMS) * len(cfg.seeds),
            "parameters": first.get("parameters"), "schedule": first.get("schedule"),
            "epochs_at_largest_budget": {a: float(np.mean([r["epochs_at_largest_budget"] for r in by_arm[a].values()]))
                                         for a in ARMS if by_arm[a]},
            "results": table, "family_size": family, "timing": timing,
            "total_wall_s": round(wall_s, 1), "total_cpu_s": round(cpu_s, 1),
            "runs": [{k: r[k] for k in ("arm", "seed", "budgets", "baselines_bpb", "train_s", "train_cpu_s", "eval_s",
                                        "eval_cpu_s", "branch_s", "tokens_trained", "tokens_per_s", "final_train_loss",
                                        "documents", "train_tokens_available")} for r in runs]}
