"""Report sections about the corpus itself: documents and tokens per domain, token totals, PII redactions.

Read from the exported ``kept/`` and ``removed/NN-step/`` files once a run has written them (so the figures
describe exactly what is on disk). Domains come from each document's ``metadata.url`` (the WARC reader's
``WARC-Target-URI``, or a ``url`` field of JSONL/Parquet input, or a nested ``metadata.url`` as Dolma writes);
documents without one count as ``(no url)``, and a corpus with no URL at all gets no domain table.

Tokens: kept documents carry ``n_tokens`` when the run has a ``tokenize`` step; removed documents are counted
with the same tokenizer here, on the text they held when removed (the HTML for pages removed before
``extract``), so "tokens removed" says how much text each rule took away. Without a ``tokenize`` step, token
columns are absent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson

from curation.urls import domain_of

NO_URL = "(no url)"
PII_KINDS = ("email", "ip", "phone")


def _rows(path: Path) -> Iterator[dict]:
    if path.suffix == ".parquet":
        import polars as pl

        for batch in pl.read_parquet(path).iter_slices(2000):
            yield from batch.iter_rows(named=True)
    else:
        with open(path, "rb") as fh:
            for line in fh:
                if line.strip():
                    yield orjson.loads(line)


def _domain(row: dict) -> str:
    meta = row.get("metadata")
    if isinstance(meta, str):
        meta = orjson.loads(meta) if meta else {}
    if not isinstance(meta, dict):
        return NO_URL
    url = meta.get("url")
    if url is None and isinstance(meta.get("metadata"), dict):  # Dolma/FineWeb files nest it: metadata.url
        url = meta["metadata"].get("url")
    return (domain_of(url) if isinstance(url, str) else None) or NO_URL


def _tokenizer_name(run_config: dict) -> str | None:
    steps = run_config.get("steps", [])
    return next((s.get("tokenizer", "smollm2") for s in steps if s.get("step") == "tokenize"), None)


def corpus_stats(run_dir: str | Path, run_config: dict, top: int = 20) -> dict:
    """``{"domains": [...top rows], "domain_count", "tokens": {...} | None, "pii": {...} | None}``.

    run_config: the run's ``CurationConfig`` as dumped in report.json (its tokenize step, if any, counts tokens)."""
    run = Path(run_dir)
    tokenizer_name = _tokenizer_name(run_config)
    tokenizer = None
    if tokenizer_name:
        from curation.tokenize import load_tokenizer

        tokenizer = load_tokenizer(tokenizer_name)
    docs: dict[str, Counter] = {"kept": Counter(), "removed": Counter()}
    tokens: dict[str, Counter] = {"kept": Counter(), "removed": Counter()}
    pii: Counter[str] = Counter()
    pii_seen = False
    kept_files = sorted((run / "kept").glob("part-*"))
    removed_files = sorted((run / "removed").glob("*/part-*"))
    for side, files in (("kept", kept_files), ("removed", removed_files)):
        for f in files:
            pending: list[tuple[str, str]] = []
            for row in _rows(f):
                domain = _domain(row)
                docs[side][domain] += 1
                if "pii_email" in row:
                    pii_seen = True
                    for k in PII_KINDS:
                        pii[k] += int(row.get(f"pii_{k}") or 0)
                if tokenizer is not None:
                    if row.get("n_tokens") is not None:
                        tokens[side][domain] += int(row["n_tokens"])
                    else:
                        pending.append((domain, row.get("text") or ""))
            if pending:
                from curation.tokenize import count_tokens

                for (domain, _), n in zip(pending, count_tokens([t for _, t in pending], tokenizer)):
                    tokens[side][domain] += n
    all_domains = docs["kept"] + docs["removed"]
    order = sorted(all_domains, key=lambda d: (-docs["kept"][d], -all_domains[d], d))
    rows = []
    for d in order[:top] if set(all_domains) - {NO_URL} else []:  # no table for corpora without URLs
        row = {"domain": d, "kept": docs["kept"][d], "removed": docs["removed"][d]}
        if tokenizer is not None:
            row |= {"tokens_kept": tokens["kept"][d], "tokens_removed": tokens["removed"][d]}
        rows.append(row)
    return {
        "domains": rows,
        "domain_count": len(all_domains),
        "tokens": None if tokenizer is None else {
            "tokenizer": tokenizer_name, "kept": sum(tokens["kept"].values()),
            "removed": sum(tokens["removed"].values()),
            "kept_documents": sum(docs["kept"].values())},
        "pii": dict(pii) if pii_seen else None,
    }


def corpus_markdown(report: dict) -> list[str]:
    """Markdown lines for ``report.md`` (empty when the run has no corpus section)."""
    corpus = report.get("corpus")
    if not corpus:
        return []
    lines: list[str] = []
    tok = corpus.get("tokens")
    if tok:
        lines += ["", "## Tokens", "",
                  f"**{tok['kept']:,} tokens kept** in {tok['kept_documents']:,} documents "
                  f"({tok['tokenizer']} tokenizer); "
                  f"{tok['removed']:,} tokens in removed documents."]
    if corpus.get("pii"):
        p = corpus["pii"]
        lines += ["", "## PII redacted", "", "| kind | placeholders inserted |", "|---|---:|"]
        lines += [f"| {k} | {p.get(k, 0):,} |" for k in PII_KINDS]
    if corpus.get("domains"):
        with_tokens = tok is not None
        lines += ["", f"## Top domains ({len(corpus['domains'])} of {corpus['domain_count']:,})", "",
                  "| domain | docs kept | docs removed |" + (" tokens kept | tokens removed |" if with_tokens else ""),
                  "|---|---:|---:|" + ("---:|---:|" if with_tokens else "")]
        for r in corpus["domains"]:
            cells = f"| {r['domain']} | {r['kept']:,} | {r['removed']:,} |"
            if with_tokens:
                cells += f" {r['tokens_kept']:,} | {r['tokens_removed']:,} |"
            lines.append(cells)
    return lines
