"""Compress a JSONL of prompts: each line holds ``prompt`` or ``instruction``/``context``/``question``.

Output lines keep the input fields and add ``compressed``, ``original_tokens``, ``compressed_tokens``,
``ratio``, ``latency_s``, any ``note``, and, where the coarse step dropped context items, ``dropped_items``
(0-based indices into ``context``) with ``spans_of_dropped`` (the protected spans kept from each). Unusable lines go to ``<out>.quarantine.jsonl`` with file and line.
Identical prompts (a shared few-shot context) are compressed once.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from tqdm.auto import tqdm

from core.readers import numbered_lines
from core.storage import atomic_write_text
from prompts.compress import CompressConfig, check_budget, compress, smollm2_tokenizer


def _prompt_of(record) -> object:
    if not isinstance(record, dict):
        raise ValueError(f"not a JSON object: got {type(record).__name__}")
    if isinstance(record.get("prompt"), str):
        return record["prompt"]
    if any(k in record for k in ("instruction", "context", "question")):
        return {k: record.get(k) for k in ("instruction", "context", "question")}
    raise ValueError(f"no prompt: expected 'prompt' or 'instruction'/'context'/'question' among ({', '.join(sorted(record))})")


def compress_file(path: str | Path, out: str | Path, rate: float | None = None, target_tokens: int | None = None,
                  config: CompressConfig | None = None) -> dict:
    from core.embed import Embedder
    from core.models import load_smollm2

    check_budget(rate, target_tokens)  # a bad budget fails the file, it does not quarantine every line
    config = config or CompressConfig()
    if config.method == "classifier" and config.coarse_scorer != "perplexity":
        model, tokenizer = None, smollm2_tokenizer()  # no SmolLM2 weights: the classifier scores the words
    else:
        model, tokenizer = load_smollm2()
    embed = Embedder().embed  # one embedder for the file (it loads its model on first use only)
    rows, bad, memo, dropped, notes = [], [], {}, [], []

    def quarantine(file: str, line: int, error: str, raw: str) -> None:
        bad.append({"file": file, "line": line, "error": error, "raw": raw[:500]})

    for line, raw in tqdm(list(numbered_lines(Path(path), quarantine)), desc="compress", disable=None):
        try:
            record = orjson.loads(raw)
            prompt = _prompt_of(record)
        except (orjson.JSONDecodeError, ValueError) as e:
            quarantine(str(path), line, f"{type(e).__name__ if isinstance(e, orjson.JSONDecodeError) else 'bad record'}: {e}",
                       raw.decode("utf-8", "replace"))
            continue
        key = orjson.dumps(prompt, option=orjson.OPT_SORT_KEYS)
        if key not in memo:
            try:
                memo[key] = compress(prompt, rate=rate, target_tokens=target_tokens, config=config, model=model,
                                     tokenizer=tokenizer, embed=embed)
            except ValueError as e:
                quarantine(str(path), line, f"bad record: {e}", raw.decode("utf-8", "replace"))
                continue
        c = memo[key]
        rows.append(record | {"compressed": c.text, "original_tokens": c.original_tokens,
                              "compressed_tokens": c.compressed_tokens, "ratio": round(c.ratio, 4),
                              "latency_s": round(c.latency_s, 4)} | ({"note": c.note} if c.note else {})
                    | ({"dropped_items": c.dropped_items, "spans_of_dropped": c.spans_of_dropped}
                       if c.dropped_items else {}))
        if c.note and c.original_tokens:
            notes.append({"line": line, "id": record.get("id"), "note": c.note})
        if c.dropped_items:
            dropped.append({"line": line, "id": record.get("id"), "items": c.dropped_items,
                            "spans_kept": sum(len(s) for s in c.spans_of_dropped)})
    out = Path(out)
    atomic_write_text(out, "".join(orjson.dumps(r).decode() + "\n" for r in rows))
    qpath = out.with_name(out.name.removesuffix(".jsonl") + ".quarantine.jsonl")
    if bad:
        atomic_write_text(qpath, "".join(orjson.dumps(b).decode() + "\n" for b in bad))
    original = sum(r["original_tokens"] for r in rows)
    compressed = sum(r["compressed_tokens"] for r in rows)
    return {"out": str(out.resolve()), "prompts": len(rows), "quarantined": len(bad),
            "quarantine": str(qpath.resolve()) if bad else None, "original_tokens": original,
            "compressed_tokens": compressed, "ratio": compressed / original if original else 1.0,
            "compressor_seconds": sum(c.latency_s for c in memo.values()), "unique_prompts": len(memo),
            "dropped": dropped, "notes": notes}
