"""WARC to kept text, end to end, MB/s per core: winnow's WARC reader + extract step beside datatrove's
``WarcReader`` + ``Trafilatura`` on the same files, in one run.

winnow: ``core.warc`` (warcio, resiliparse charset detection) then the ``extract`` step with its defaults
(trafilatura, favor precision), in this process; also with ``extractor: resiliparse``. datatrove 0.10.1:
``benchmarks/_datatrove_warc_side.py`` in ``.venv-peers`` (``make peers``), its defaults except a 30 s
extraction timeout. Both read the same WARC files ``--repeats`` times; MB is the files' size on disk (compressed
``.warc.gz`` as stored) times repeats; CPU seconds are user + system of the process (and, for datatrove, its
extractor subprocess), so MB/s per core does not depend on how busy the machine's other core is. Wall time is
reported too.

    .venv/bin/python benchmarks/warc_speed.py [--repeats 3] [--out benchmarks/results/warc_speed.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.shared_data import shared_data_dir  # noqa: E402

DATA = shared_data_dir()
FILES = ["web/dolma_sample-0000.warc.gz", "web/dolma_sample-0001.warc.gz", "warc/pywb_iana.warc.gz",
         "warc/resiliparse_warcfile.warc.gz", "warc/warcio_example-iana.org-chunked.warc"]
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def run_winnow(paths: list[Path], repeats: int, extractor: str = "trafilatura") -> dict:
    from core.readers import ReaderConfig, read_shard
    from curation.steps.extract import Extract, ExtractConfig

    step = Extract(ExtractConfig(extractor=extractor))
    step.run(next(read_shard(paths[0], ReaderConfig(), lambda *q: None)).head(1))  # imports outside the timing
    read = kept = chars = 0
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    for _ in range(repeats):
        for path in paths:
            for batch in read_shard(path, ReaderConfig(), lambda *q: None):
                read += batch.height
                out, _ = step.run(batch)
                kept += out.height
                chars += int(out["text"].str.len_chars().sum() or 0)
    return {"docs_read": read, "docs_kept": kept, "chars_kept": chars, "cpu_seconds": round(cpu_seconds() - cpu0, 3),
            "wall_seconds": round(time.perf_counter() - wall0, 3)}


def run_datatrove(repeats: int) -> dict:
    if not PEERS_PYTHON.exists():
        return {"skipped": ".venv-peers not built (make peers)"}
    probe = subprocess.run([str(PEERS_PYTHON), "-c", "import datatrove, warcio, trafilatura, cchardet, magic"],
                           capture_output=True, text=True)
    if probe.returncode:
        return {"skipped": f".venv-peers lacks datatrove's WARC/trafilatura extras: {probe.stderr.strip()[-200:]}"}
    proc = subprocess.run([str(PEERS_PYTHON), str(ROOT / "benchmarks" / "_datatrove_warc_side.py"), "--root", str(DATA),
                           "--paths", *FILES, "--repeats", str(repeats)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "warc_speed.json")
    args = ap.parse_args()
    import importlib.metadata as md

    paths = [DATA / f for f in FILES]
    mb = sum(p.stat().st_size for p in paths) * args.repeats / 1e6
    results = {"files": FILES, "repeats": args.repeats, "mb_on_disk": round(mb, 3),
               "winnow": run_winnow(paths, args.repeats) | {"trafilatura": md.version("trafilatura"),
                                                            "warcio": md.version("warcio")},
               "winnow_resiliparse": run_winnow(paths, args.repeats, "resiliparse") | {
                   "resiliparse": md.version("resiliparse")},
               "datatrove": run_datatrove(args.repeats) | {"version": "0.10.1"}}
    for side in ("winnow", "winnow_resiliparse", "datatrove"):
        r = results[side]
        if "cpu_seconds" in r:
            r["mb_per_s_per_core"] = round(mb / r["cpu_seconds"], 3)
            r["mb_per_s_wall"] = round(mb / r["wall_seconds"], 3)
            print(f"{side:18s} {r['docs_read']:>5} pages read, {r['docs_kept']:>5} with text, "
                  f"{r['mb_per_s_per_core']:.3f} MB/s per core (CPU {r['cpu_seconds']} s), wall {r['wall_seconds']} s")
        else:
            print(f"{side:10s} skipped: {r['skipped']}")
    results["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
