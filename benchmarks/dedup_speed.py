"""Near-dedup speed, memory and accuracy: winnow vs a plain datasketch loop, one core and all cores, one run.

1. Signatures (tokenisation included) on the same texts: winnow's numba engine vs ``MinHash.update_batch`` on
   the same word 5-gram shingles and num_perm, each measured in a fresh process (docs/s, MB/s, peak RSS).
2. Estimate quality: mean (signed) and mean absolute error of estimated vs exact Jaccard, both engines.
3. S-curve: candidate probability by exact-Jaccard bin for 14 x 8 bands, measured vs 1-(1-J^r)^b.
4. End to end on the scaling corpora (benchmarks/scaling_corpus.py): the curate flow with only the minhash
   step on a 2-worker Dask cluster; wall time, peak RSS of the whole process tree, precision/recall against the
   known clusters.

    .venv/bin/python benchmarks/dedup_speed.py [--scale 100000 1000000] [--out benchmarks/results/dedup_speed.json]
    .venv/bin/python benchmarks/dedup_speed.py --languages   # only: both engines per language, CPU time
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.shared_data import shared_data_dir  # noqa: E402

CORES = os.cpu_count() or 1


def web_and_mail() -> dict[str, list[str]]:
    data = shared_data_dir()
    web = []
    for name in ("dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", "dolma_cc_en_head-0091.jsonl.gz",
                 "dolma_cc_en_head-0174.jsonl.gz"):
        with gzip.open(data / "web" / name, "rt") as fh:
            web += [json.loads(line)["text"] for line in fh]
    for name in ("llamafactory_c4_demo.jsonl", "datajuicer_redpajama-cc-2023-06-refined.jsonl"):
        web += [json.loads(line)["text"] for line in (data / "web" / name).open()]
    with gzip.open(data / "mail" / "spamassassin.jsonl.gz", "rt") as fh:
        mail = [json.loads(line)["text"] for line in fh]
    return {"web": [t for t in web if t.strip()], "mail": mail}


# --- engines, each run in a fresh process so peak RSS is its own -------------------------------------------

def _winnow(texts: list[str], threads: int) -> None:
    from curation.dedup.signatures import minhash_signatures

    series = pl.Series(texts)
    chunks = [series[i : i + 2000] for i in range(0, len(series), 2000)]
    with ThreadPoolExecutor(threads) as pool:  # the kernel releases the GIL
        list(pool.map(minhash_signatures, chunks))


def _datasketch_chunk(texts: list[str]) -> int:
    from curation.steps.minhash import datasketch_signatures

    return len(datasketch_signatures(texts, 112, 5, 1))


def _datasketch(texts: list[str], procs: int) -> None:
    chunks = [texts[i : i + 500] for i in range(0, len(texts), 500)]
    if procs == 1:
        for c in chunks:
            _datasketch_chunk(c)
    else:
        with mp.get_context("spawn").Pool(procs) as pool:
            pool.map(_datasketch_chunk, chunks)


def _measure_child(engine: str, path: str, workers: int, queue) -> None:
    texts = pl.read_parquet(path)["text"].to_list()
    _winnow(texts[:50], 1)  # numba compile / import outside the clock
    start = time.perf_counter()
    (_winnow if engine == "winnow" else _datasketch)(texts, workers)
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    queue.put({"seconds": seconds, "peak_rss_mb": round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                                             children) / 1024, 1)})


def measure(engine: str, texts: list[str], workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "texts.parquet")
        pl.DataFrame({"text": texts}).write_parquet(path)
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_measure_child, args=(engine, path, workers, queue))
        proc.start()
        result = queue.get()
        proc.join()
    mb = sum(len(t.encode()) for t in texts) / 1e6
    return {"engine": engine, "workers": workers, "docs": len(texts), "mb": round(mb, 2),
            "seconds": round(result["seconds"], 3), "docs_per_s": round(len(texts) / result["seconds"], 1),
            "mb_per_s": round(mb / result["seconds"], 2), "peak_rss_mb": result["peak_rss_mb"]}


def signature_speed(inputs: dict[str, list[str]]) -> list[dict]:
    rows = []
    for name, texts in inputs.items():
        for workers in sorted({1, CORES}):
            w = measure("winnow", texts, workers)
            d = measure("datasketch", texts, workers)
            rows.append({"input": name, "workers": workers, "winnow": w, "datasketch": d,
                         "speedup": round(w["mb_per_s"] / d["mb_per_s"], 1)})
            print(f"{name:>10} x{workers}: winnow {w['mb_per_s']:7.1f} MB/s  datasketch {d['mb_per_s']:5.2f} MB/s  "
                  f"ratio {rows[-1]['speedup']}x", flush=True)
    return rows


def signatures_by_language() -> list[dict]:
    """Signature speed per script, in this process, as thread CPU time (robust on a shared machine, where wall
    time is not): winnow best of 5 after a warm-up, datasketch once on the first 300 texts. Inputs: the English
    web texts and each file of shared/data/multilingual (Chinese/Japanese/Thai give character shingles, about
    one per 3 UTF-8 bytes against one per ~6 bytes of English)."""
    from curation.dedup.signatures import minhash_signatures
    from curation.steps.minhash import datasketch_signatures

    inputs = {"web (en)": web_and_mail()["web"]}
    for lang in ("zh", "ja", "th", "ko", "ar", "hi", "ru", "de", "fr", "es"):
        path = shared_data_dir() / "multilingual" / f"{lang}.jsonl"
        inputs[lang] = [json.loads(line)["text"] for line in path.read_text().splitlines()]
    minhash_signatures(["warm up the numba kernel and the token tables"])
    rows = []
    for name, texts in inputs.items():
        series, mb = pl.Series(texts), sum(len(t.encode()) for t in texts) / 1e6
        best = np.inf
        for _ in range(5):
            start = time.thread_time()
            minhash_signatures(series)
            best = min(best, time.thread_time() - start)
        start = time.thread_time()
        datasketch_signatures(texts[:300], 112, 5, 1)
        ds = time.thread_time() - start
        ds_mb = sum(len(t.encode()) for t in texts[:300]) / 1e6
        rows.append({"input": name, "docs": len(texts), "mb": round(mb, 2), "winnow_mb_per_cpu_s": round(mb / best, 1),
                     "datasketch_mb_per_cpu_s": round(ds_mb / ds, 2)})
        print(f"{name:>10}: {mb:5.2f} MB  winnow {mb / best:6.1f} MB/CPU-s  datasketch {ds_mb / ds:5.2f} MB/CPU-s",
              flush=True)
    return rows


# --- estimate quality and the S-curve ---------------------------------------------------------------------

def estimate_quality(texts: list[str], pairs: int = 20_000, seed: int = 0) -> dict:
    from curation.dedup.signatures import estimated_jaccard, minhash_signatures
    from curation.steps.minhash import datasketch_signatures
    from curation.text import shingles

    rng = np.random.default_rng(seed)
    base = [t for t in texts if len(t.split()) > 30][:1500]
    edited = [" ".join(w if rng.random() > r else "x" + w for w in t.split()) for t, r in
              zip(base, rng.uniform(0, 0.3, len(base)))]
    docs = base + edited
    sets = [set(shingles(t, 5)) for t in docs]
    a = np.concatenate([np.arange(len(base)), rng.integers(0, len(docs), pairs)])
    b = np.concatenate([np.arange(len(base)) + len(base), rng.integers(0, len(docs), pairs)])
    keep = a != b
    a, b = a[keep], b[keep]
    exact = np.array([len(sets[x] & sets[y]) / max(1, len(sets[x] | sets[y])) for x, y in zip(a, b)])
    out = {"pairs": int(len(a)), "pairs_with_jaccard_over_0.5": int((exact > 0.5).sum())}
    for name, sig in (("winnow", minhash_signatures(docs)), ("datasketch", datasketch_signatures(docs, 112, 5, 1))):
        err = estimated_jaccard(sig[a], sig[b]) - exact
        out[name] = {"mean_error": round(float(err.mean()), 5), "mean_abs_error": round(float(np.abs(err).mean()), 5),
                     "mean_abs_error_jaccard_over_0.5": round(float(np.abs(err[exact > 0.5]).mean()), 5)}
    return out


def s_curve(texts: list[str], bands: int = 14, rows: int = 8, seed: int = 1) -> dict:
    from curation.dedup.signatures import band_hashes, minhash_signatures, shingle_sets

    rng = np.random.default_rng(seed)
    base = [t for t in texts if len(t.split()) > 60][:3000]
    rates = rng.uniform(0, 0.6, len(base))
    edited = [" ".join(w if rng.random() > r else "x" + w for w in t.split()) for t, r in zip(base, rates)]
    sa, sb = minhash_signatures(base), minhash_signatures(edited)
    ha, hb = band_hashes(sa, bands, rows), band_hashes(sb, bands, rows)
    candidate = (ha == hb).any(axis=1)
    exact = np.array([len(np.intersect1d(x, y)) / max(1, len(np.union1d(x, y)))
                      for x, y in zip(shingle_sets(base), shingle_sets(edited))])
    edges = np.linspace(0, 1, 21)
    curve = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (exact >= lo) & (exact < hi if hi < 1 else exact <= hi)
        if sel.sum() >= 5:
            mid = exact[sel].mean()
            curve.append({"jaccard_bin": [round(lo, 2), round(hi, 2)], "pairs": int(sel.sum()),
                          "measured": round(float(candidate[sel].mean()), 4),
                          "theory": round(float((1 - (1 - exact[sel] ** rows) ** bands).mean()), 4),
                          "mean_jaccard": round(float(mid), 4)})
    return {"bands": bands, "rows": rows, "points": curve}


# --- end to end on the scaling corpora ----------------------------------------------------------------------

class TreeRss:
    """Samples the RSS of this process and all its children (Dask workers) and keeps the peak."""

    def __init__(self):
        import psutil

        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.is_set():
            total = 0
            for p in [self.proc, *self.proc.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.25)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def end_to_end(docs: int, workers: int = 2) -> dict:
    from benchmarks.scaling_corpus import build
    from curation.config import CurationConfig
    from curation.dedup.clusters import pair_scores
    from flows.curate import with_dask

    corpus = ROOT / "data" / "bench" / f"scale-{docs // 1000}k"
    meta = build(docs, corpus)
    config = CurationConfig.model_validate({"steps": [{"step": "minhash"}], "output_format": "parquet",
                                            "shard_docs": 100_000, "partitions": 16})
    with tempfile.TemporaryDirectory(dir=ROOT / "data" / "bench") as run, TreeRss() as rss:
        start = time.perf_counter()
        report = with_dask(workers)(inputs=[str(corpus)], out_dir=run, config=config)
        seconds = time.perf_counter() - start
        truth = pl.concat([pl.read_parquet(p, columns=["id", "cluster"]) for p in sorted(corpus.glob("shard-*.parquet"))])
        removed = pl.concat([pl.read_parquet(p, columns=["id", "cluster_id"])
                             for p in sorted(Path(run, "removed").rglob("*.parquet"))])
    predicted = truth.join(removed, on="id", how="left").with_columns(
        pl.coalesce("cluster_id", pl.col("id").str.slice(3).cast(pl.Int64)).alias("predicted"))
    scores = pair_scores(predicted["cluster"].to_numpy(), predicted["predicted"].to_numpy())
    minhash = report["steps"][-1]
    return {"documents": docs, "text_gb": round(meta["text_bytes"] / 1e9, 3), "workers": workers,
            "wall_seconds": round(seconds, 1), "peak_rss_mb_process_tree": round(rss.peak / 2**20, 1),
            "true_duplicates": docs - meta["originals"], "removed": report["removed"], "minhash_stats": minhash.get("stats"),
            "cluster_pair_scores": scores}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, nargs="*", default=[100_000])
    ap.add_argument("--skip-speed", action="store_true", help="only the end-to-end runs")
    ap.add_argument("--languages", action="store_true", help="only signature speed per language (CPU time)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "dedup_speed.json"))
    args = ap.parse_args()
    out_path = Path(args.out)
    result = json.loads(out_path.read_text()) if out_path.exists() else {}
    if args.languages:  # the other keys keep the command that measured them
        result["signatures_by_language"] = {"command": "python benchmarks/dedup_speed.py --languages",
                                            "machine": f"{CORES} cores", "rows": signatures_by_language()}
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out_path}")
        return 0
    result |= {"benchmark": "dedup_speed", "machine": f"{CORES} cores", "num_perm": 112, "ngram": 5,
               "command": "python benchmarks/dedup_speed.py " + " ".join(sys.argv[1:])}
    if not args.skip_speed:
        inputs = web_and_mail()
        from benchmarks.scaling_corpus import build

        corpus = ROOT / "data" / "bench" / "scale-100k"
        build(100_000, corpus)
        inputs["scale_sample_20k"] = pl.read_parquet(corpus / "shard-00000.parquet")["text"].head(20_000).to_list()
        result["signatures"] = signature_speed(inputs)
        from curation.steps.mail_body import message_body

        bodies = [message_body(t)[1] for t in inputs["mail"]]
        result["estimate_quality"] = estimate_quality(bodies + inputs["web"])
        result["s_curve"] = s_curve(inputs["web"] + bodies)
        print(json.dumps(result["estimate_quality"]), flush=True)
    result.setdefault("end_to_end", {})
    for docs in args.scale:
        result["end_to_end"][str(docs)] = end_to_end(docs)
        print(json.dumps(result["end_to_end"][str(docs)]), flush=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
