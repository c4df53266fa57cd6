import gzip
import json

import polars as pl
import pytest
import zstandard

from core.readers import InputError, ReaderConfig, count_records, expand_inputs, read_documents
from tests.conftest import DOLMA_CC, shared


def read_all(paths, **cfg):
    bad = []
    batches = list(read_documents(paths, ReaderConfig(**cfg), lambda *q: bad.append(q)))
    docs = pl.concat(batches) if batches else pl.DataFrame()
    return docs, bad


def test_dolma_shard_reads_with_empty_texts_quarantined():
    docs, bad = read_all([DOLMA_CC])
    assert docs.height == 670 and len(bad) == 27
    assert {b[2] for b in bad} == {"empty text"}
    assert docs["source"].n_unique() == 670
    assert docs["id"][0] == "blj5uzvcoa4iybpd5o6kom5nir6ngmoj"
    assert json.loads(docs["metadata"][0])["metadata"]["url"] == "16thfleet.wikidot.com/chatter:anewhome"
    assert count_records([DOLMA_CC]) == 697


def test_batches_bound_memory_by_batch_size():
    batches = list(read_documents([DOLMA_CC], ReaderConfig(batch_size=100), lambda *q: None))
    assert [b.height for b in batches] == [100] * 6 + [70]


@pytest.mark.parametrize("compress", ["plain", "gz", "zst"])
def test_jsonl_compressions_read_the_same(tmp_path, compress):
    lines = b"".join(json.dumps({"id": i, "body": f"document number {i}"}).encode() + b"\n" for i in range(5))
    path = tmp_path / {"plain": "a.jsonl", "gz": "a.jsonl.gz", "zst": "a.jsonl.zst"}[compress]
    data = {"plain": lines, "gz": gzip.compress(lines), "zst": zstandard.ZstdCompressor().compress(lines)}[compress]
    path.write_bytes(data)
    docs, bad = read_all([path], text_field="body")
    assert docs["id"].to_list() == ["0", "1", "2", "3", "4"] and not bad
    assert docs["text"][3] == "document number 3"


def test_parquet_and_hf_dataset_with_field_mapping(tmp_path):
    import datasets

    frame = pl.DataFrame({"doc": ["x1", "x2", "x3"], "content": ["alpha text", None, "gamma text"], "n": [1, 2, 3]})
    frame.write_parquet(tmp_path / "s.parquet")
    docs, bad = read_all([tmp_path / "s.parquet"], text_field="content", id_field="doc")
    assert docs["id"].to_list() == ["x1", "x3"]
    assert json.loads(docs["metadata"][1]) == {"n": 3}
    assert [(b[1], b[2]) for b in bad] == [(2, "text not a string: field 'content' is null")]
    ds = datasets.Dataset.from_dict({"text": ["one doc here", "two doc here"], "label": [0, 1]})
    ds.save_to_disk(str(tmp_path / "hf"))
    docs, bad = read_all([tmp_path / "hf"])
    assert docs["text"].to_list() == ["one doc here", "two doc here"] and not bad
    assert count_records([tmp_path / "hf", tmp_path / "s.parquet"]) == 5


def test_bad_lines_are_quarantined_with_file_line_and_reason(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b'{"id": "ok1", "text": "fine text"}\n'
        b'{"id": "broken", "text": \n'
        b'{"id": "utf", "text": "bad \xff byte"}\n'
        b'{"id": "empty", "text": "   "}\n'
        b'{"id": "nofield", "body": "x"}\n'
        b'{"id": "num", "text": 42}\n'
        b"[1, 2]\n"
        b"\n"
        b'\xef\xbb\xbf{"id": "bom", "text": "with a byte order mark"}\r\n'
    )
    docs, bad = read_all([path])
    assert docs["id"].to_list() == ["ok1", "bom"]
    assert [(line, err.split(":")[0]) for _, line, err, _ in bad] == [
        (2, "invalid JSON"), (3, "invalid UTF-8"), (4, "empty text"), (5, "missing text field"),
        (6, "text not a string"), (7, "not a JSON object"),
    ]
    assert all(f == str(path) for f, *_ in bad)
    assert "'text' not among fields (body, id)" in bad[3][2]
    assert count_records([path]) == docs.height + len(bad)


def test_giant_document_is_quarantined_not_loaded(tmp_path):
    path = tmp_path / "big.jsonl"
    with open(path, "w") as fh:
        fh.write(json.dumps({"id": "small", "text": "hello there"}) + "\n")
        fh.write(json.dumps({"id": "huge", "text": "word " * 4_000_000}) + "\n")  # 20 MB
    docs, bad = read_all([path])
    assert docs["id"].to_list() == ["small"]
    (file, line, err, raw), = bad
    assert line == 2 and err.startswith("document too large: 20,000,000 chars")
    assert len(raw) > 20_000_000  # the raw line is kept, nothing lost


def test_truncated_gzip_becomes_one_quarantine_record(tmp_path):
    lines = b"".join(json.dumps({"text": f"line {i} " * 50}).encode() + b"\n" for i in range(200))
    full = gzip.compress(lines)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(full[: len(full) // 2])
    docs, bad = read_all([path])
    assert 0 < docs.height < 200
    assert bad[-1][2].startswith("unreadable stream: stops after line")
    assert count_records([path]) == docs.height + len(bad)


def test_truncated_zstd_is_named_not_silently_short(tmp_path):
    lines = b"".join(json.dumps({"text": f"line {i} " * 20}).encode() + b"\n" for i in range(500))
    full = zstandard.ZstdCompressor().compress(lines)
    (tmp_path / "cut.jsonl.zst").write_bytes(full[: len(full) // 2])
    docs, bad = read_all([tmp_path / "cut.jsonl.zst"])
    assert bad[-1][2] == f"unreadable stream: stops after line {docs.height} (EOFError: zstd frame truncated)"
    (tmp_path / "two.jsonl.zst").write_bytes(full + full)  # concatenated frames are one stream
    docs, bad = read_all([tmp_path / "two.jsonl.zst"])
    assert docs.height == 1000 and not bad


def test_unusable_inputs_raise_one_clear_error(tmp_path):
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(InputError, match="empty_dir: directory holds no shards"):
        expand_inputs([tmp_path / "empty_dir"])
    with pytest.raises(InputError, match="nope.jsonl: no such file"):
        expand_inputs([tmp_path / "nope.jsonl"])
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(InputError, match="x.csv: unknown format"):
        expand_inputs([tmp_path / "x.csv"])


def test_json_array_and_txt_readers():
    docs, bad = read_all([shared("instruct", "alpaca_en_demo.json")], text_field="output")
    assert docs.height + len(bad) == 999
    docs, _ = read_all([shared("lm", "llamafactory_wiki_demo.txt")])
    assert docs.height == 30
