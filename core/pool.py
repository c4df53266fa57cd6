"""A selection pool: instruction pairs or plain documents, read through the curation readers.

Record shapes are recognised by their fields (Alpaca/LIMA ``instruction``/``input``/``output``, GSM8K
``question``/``answer``, ShareGPT ``conversations``, ``prompt``/``response``, plain ``text``), so the same
``select`` call works on fine-tuning data and on pretraining shards. Unusable lines are quarantined with file
and line, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from core.readers import ReaderConfig, numbered_lines, expand_inputs, format_of, load_json_array, read_documents

# response field -> how to build the prompt from the remaining fields
SHAPES = [
    ("output", lambda m: "\n\n".join(p for p in (m.get("instruction", ""), m.get("input", "")) if p)),
    ("answer", lambda m: m.get("question", "")),
    ("response", lambda m: m.get("prompt", "")),
    ("text", lambda m: ""),
]


URL_FIELDS = ("url", "metadata.url", "metadata.warc_url", "warc_url")


def _lookup(meta: dict, dotted: str):
    value = meta
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _domain(url: str) -> str:
    from urllib.parse import urlsplit

    url = str(url)
    return urlsplit(url if "://" in url else "//" + url).hostname or "(none)"


@dataclass
class Pool:
    ids: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    metadata: list[dict] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def texts(self) -> list[str]:
        """What gets embedded and counted: prompt and response together."""
        return [f"{p}\n\n{r}" if p else r for p, r in zip(self.prompts, self.responses)]

    def group(self, key: str) -> list[str]:
        """Group label per item for balancing caps: a metadata field (dotted for nested), or ``url_domain``."""
        if key == "url_domain":
            return [_domain(next((u for u in map(lambda k: _lookup(m, k), URL_FIELDS) if u), "")) for m in self.metadata]
        return [str(_lookup(m, key) if _lookup(m, key) is not None else "(none)") for m in self.metadata]

    @classmethod
    def from_texts(cls, texts: list[str], ids: list[str] | None = None, metadata: list[dict] | None = None) -> "Pool":
        ids = ids or [str(i) for i in range(len(texts))]
        return cls(ids=list(ids), prompts=[""] * len(texts), responses=list(texts),
                   metadata=metadata or [{} for _ in texts], sources=list(ids))


def _first_record(path: Path) -> dict:
    if format_of(path) == "json":
        data = load_json_array(path)
        return data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    for _, raw in numbered_lines(path, lambda *q: None):
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            return record
    return {}


def _conversation(meta: dict) -> tuple[str, str]:
    turns = meta.get("conversations") or []
    prompt = next((t.get("value", "") for t in turns if t.get("from") in ("human", "user")), "")
    answer = meta.get("chosen", {}).get("value") if isinstance(meta.get("chosen"), dict) else None
    answer = answer or next((t.get("value", "") for t in turns if t.get("from") in ("gpt", "assistant")), "")
    return prompt, answer


def load_pool(paths: list[str | Path], text_field: str | None = None) -> Pool:
    """Reads every record; ``text_field`` overrides shape detection (plain documents in that field)."""
    pool = Pool()
    for path in expand_inputs(paths):
        plain_text = format_of(path) == "txt"
        sample = _first_record(path) if text_field is None and not plain_text else {}
        if text_field is None and not plain_text and "conversations" in sample:
            shape = ("conversations", None)
        elif text_field is not None or plain_text:
            shape = (text_field or "text", lambda m: "")
        else:
            shape = next((s for s in SHAPES if s[0] in sample), ("text", lambda m: ""))

        def quarantine(file: str, line: int, error: str, raw: str) -> None:
            pool.quarantined.append({"file": file, "line": line, "error": error, "raw": raw[:500]})

        if shape[0] == "conversations":
            # the conversation list is not a string: read the records with a field every line has
            for record_path, line, meta in _json_records(path, quarantine):
                prompt, answer = _conversation(meta)
                if not answer.strip():
                    quarantine(str(path), line, "empty text: no assistant turn", orjson.dumps(meta).decode())
                    continue
                pool.ids.append(str(meta.get("id", f"{path.name}:{line}")))
                pool.prompts.append(prompt)
                pool.responses.append(answer)
                pool.metadata.append({k: v for k, v in meta.items() if k not in ("conversations", "chosen", "rejected")})
                pool.sources.append(f"{record_path}:{line}")
            continue
        for batch in read_documents([path], ReaderConfig(text_field=shape[0]), quarantine):
            for doc_id, text, meta, source in batch.select("id", "text", "metadata", "source").iter_rows():
                meta = orjson.loads(meta)
                pool.ids.append(doc_id)
                pool.prompts.append(shape[1](meta))
                pool.responses.append(text)
                pool.metadata.append(meta)
                pool.sources.append(source)
    return pool


def _json_records(path: Path, quarantine):
    if format_of(path) == "json":
        for i, record in enumerate(load_json_array(path), start=1):
            if isinstance(record, dict):
                yield str(path), i, record
            else:
                quarantine(str(path), i, f"not a JSON object: got {type(record).__name__}", str(record)[:500])
        return
    for line, raw in numbered_lines(path, quarantine):
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            quarantine(str(path), line, f"invalid JSON: {e}", raw.decode("utf-8", "replace"))
            continue
        if isinstance(record, dict):
            yield str(path), line, record
        else:
            quarantine(str(path), line, f"not a JSON object: got {type(record).__name__}", raw.decode("utf-8", "replace"))
