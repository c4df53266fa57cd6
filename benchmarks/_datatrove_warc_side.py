"""The datatrove half of benchmarks/warc_speed.py; runs in .venv-peers (``make peers``), never in .venv.

datatrove 0.10.1's ``WarcReader`` (warcio) followed by its ``Trafilatura`` extractor with its defaults
(``favour_precision=True``, ``deduplicate=True``, extraction in a sandbox subprocess), except the per-document
timeout, raised from 1 s to ``--timeout`` so a busy shared machine does not turn slow pages into drops.

    .venv-peers/bin/python benchmarks/_datatrove_warc_side.py --root DIR --paths a.warc.gz b.warc --repeats 3

Prints one JSON line: {"docs_read", "docs_kept", "chars_kept", "cpu_seconds", "wall_seconds"}; CPU time is this
process plus its (joined) extractor subprocesses.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--paths", nargs="+", required=True, help="WARC files relative to --root")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()

    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(args.paths * args.repeats) + "\n")
        paths_file = fh.name
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    read = {"n": 0}

    def counted(docs):
        for d in docs:
            read["n"] += 1
            yield d

    reader = WarcReader(data_folder=args.root, paths_file=paths_file)
    extractor = Trafilatura(timeout=args.timeout)
    kept = chars = 0
    for doc in extractor.run(counted(reader.run(None, 0, 1)), 0, 1):
        kept += 1
        chars += len(doc.text)
    print(json.dumps({"docs_read": read["n"], "docs_kept": kept, "chars_kept": chars,
                      "cpu_seconds": round(cpu_seconds() - cpu0, 3),
                      "wall_seconds": round(time.perf_counter() - wall0, 3)}))


if __name__ == "__main__":
    main()
