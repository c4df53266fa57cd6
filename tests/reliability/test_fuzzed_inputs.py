"""Fuzzed shards through a whole run: every case completes (or stops with one clear error for input that holds no
document at all) and input = kept + removed + quarantined, counted from the files the run wrote."""

from __future__ import annotations

import gzip
import json

import orjson
import polars as pl
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.config import CurationConfig
from core.readers import InputError
from curation.runner import curate_local

LIGHT = CurationConfig.model_validate({"steps": [{"step": "normalize"}, {"step": "exact_dedup"}, {"step": "minhash"}]})

TEXTS = st.sampled_from([
    "The committee met on Tuesday to discuss the budget.", "Le conseil s'est réuni mardi.", "数据整理很重要。",
    "emoji 🙂 and tabs\tand\r\nwindows breaks", "same text", "same text",
]) | st.text(min_size=0, max_size=40)

# each line kind renders to raw bytes; None = blank (no record)
LINE_KINDS = {
    "valid": lambda t, i: orjson.dumps({"id": f"d{i}", "text": t or "x"}),
    "duplicate_id": lambda t, i: orjson.dumps({"id": "dup", "text": t or "y"}),
    "no_id": lambda t, i: orjson.dumps({"text": t or "z", "meta": {"k": [1, 2]}}),
    "broken_json": lambda t, i: b'{"id": "b", "text": "unterminated',
    "invalid_utf8": lambda t, i: b'{"id": "u", "text": "bad \xff\xfe bytes"}',
    "raw_nul": lambda t, i: b'{"id": "n", "text": "a\x00b"}',
    "escaped_nul": lambda t, i: b'{"id": "e", "text": "a\\u0000b text"}',
    "bom": lambda t, i: "\ufeff".encode() + orjson.dumps({"id": "bom", "text": t or "bom text"}),
    "lone_surrogate": lambda t, i: b'{"id": "s", "text": "\\ud800 alone"}',
    "empty_text": lambda t, i: b'{"id": "empty", "text": ""}',
    "whitespace_text": lambda t, i: b'{"id": "ws", "text": " \\t\\n "}',
    "missing_text": lambda t, i: b'{"id": "m", "body": "renamed field"}',
    "null_text": lambda t, i: b'{"id": "null", "text": null}',
    "number_text": lambda t, i: b'{"id": "num", "text": 12}',
    "list_text": lambda t, i: b'{"id": "list", "text": ["a"]}',
    "array_line": lambda t, i: b"[1, 2, 3]",
    "blank": lambda t, i: None,
}
ENDINGS = st.sampled_from([b"\n", b"\r\n"])
CONTAINERS = ["plain", "gz", "zst", "gz_truncated", "zst_truncated"]


def write_shard(path_base, lines: list[bytes | None], endings: list[bytes], container: str):
    body = b"".join((line or b"   ") + end for line, end in zip(lines, endings))
    suffix = {"plain": ".jsonl", "gz": ".jsonl.gz", "zst": ".jsonl.zst", "gz_truncated": ".jsonl.gz",
              "zst_truncated": ".jsonl.zst"}[container]
    data = {"plain": body, "gz": gzip.compress(body), "zst": zstandard.ZstdCompressor().compress(body)}.get(container)
    if data is None:
        full = gzip.compress(body) if container.startswith("gz") else zstandard.ZstdCompressor().compress(body)
        data = full[: max(1, len(full) * 2 // 3)]
    path = path_base.with_name(path_base.name + suffix)
    path.write_bytes(data)
    return path, sum(line is not None for line in lines)


def outputs_count(run_dir) -> int:
    return sum(len(p.read_bytes().splitlines()) for part in ("kept", "removed", "quarantine")
               for p in (run_dir / part).rglob("*.jsonl"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_jsonl_shards_lose_nothing(tmp_path_factory, data):
    kinds = data.draw(st.lists(st.sampled_from(sorted(LINE_KINDS)), min_size=1, max_size=14), label="kinds")
    texts = data.draw(st.lists(TEXTS, min_size=len(kinds), max_size=len(kinds)), label="texts")
    endings = data.draw(st.lists(ENDINGS, min_size=len(kinds), max_size=len(kinds)), label="endings")
    container = data.draw(st.sampled_from(CONTAINERS), label="container")
    tmp = tmp_path_factory.mktemp("fuzz")
    lines = [LINE_KINDS[k](t, i) for i, (k, t) in enumerate(zip(kinds, texts))]
    path, records = write_shard(tmp / "shard", lines, endings, container)
    try:
        report = curate_local([str(path)], tmp / "run", LIGHT)
    except InputError as exc:
        assert "no documents" in str(exc) and str(path) in str(exc)
        assert records == 0 and not container.endswith("truncated")  # a cut stream always leaves a record
        return
    assert report["invariant_ok"]
    assert report["input"] == report["kept"] + report["removed"] + report["quarantined"] == outputs_count(tmp / "run")
    if not container.endswith("truncated"):
        assert report["input"] == records
    quarantined = [json.loads(x) for p in (tmp / "run" / "quarantine").rglob("*.jsonl") for x in p.read_text().splitlines()]
    assert all(q["file"] == str(path) and q["line"] >= 1 and q["error"] for q in quarantined)
    if container.endswith("truncated"):  # never a silent stop: the cut is named, with the line it stops after
        assert any(q["error"].startswith("unreadable stream: stops after line") for q in quarantined)


def test_parquet_with_nulls_empties_and_non_string_columns(tmp_path):
    frame = pl.DataFrame({"id": ["a", "a", None, "d", "e"], "text": ["ok text", None, "", "  ", "more text"],
                          "n": [1, 2, 3, 4, 5]})
    frame.write_parquet(tmp_path / "s.parquet")
    report = curate_local([str(tmp_path / "s.parquet")], tmp_path / "run", LIGHT)
    assert (report["input"], report["kept"], report["quarantined"]) == (5, 2, 3)
    numbers = pl.DataFrame({"text": [1, 2]})
    numbers.write_parquet(tmp_path / "n.parquet")
    report = curate_local([str(tmp_path / "n.parquet")], tmp_path / "run2", LIGHT)
    assert (report["input"], report["quarantined"]) == (2, 2)


def test_gigantic_lines_are_quarantined_whole_or_processed_when_allowed(tmp_path):
    shard = tmp_path / "giant.jsonl"
    with open(shard, "w") as fh:
        fh.write(json.dumps({"id": "small", "text": "a small document"}) + "\n")
        fh.write(json.dumps({"id": "giant", "text": "giant words " * 4_600_000}) + "\n")  # 55 MB
    report = curate_local([str(shard)], tmp_path / "run", LIGHT)
    assert (report["input"], report["kept"], report["quarantined"]) == (2, 1, 1)
    q = json.loads((tmp_path / "run" / "quarantine" / "part-00000.jsonl").read_text())
    assert q["line"] == 2 and q["error"].startswith("document too large") and len(q["raw"]) > 55_000_000
    allowed = LIGHT.model_copy(update={"reader": LIGHT.reader.model_copy(update={"max_doc_chars": 60_000_000})})
    report = curate_local([str(shard)], tmp_path / "run2", allowed)
    assert (report["kept"], report["quarantined"]) == (2, 0)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_files_without_documents_stop_with_one_message(tmp_path, content):
    (tmp_path / "e.jsonl").write_bytes(content)
    with pytest.raises(InputError, match=r"no documents in .*e\.jsonl \(empty input\)"):
        curate_local([str(tmp_path / "e.jsonl")], tmp_path / "run", LIGHT)
