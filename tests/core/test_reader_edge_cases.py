"""Reader edge cases from ../shared/cases (issue 15, item 4) and other inputs of the same kinds.

- a UTF-8 byte-order mark is dropped in every line and file format, compressed or not, in every reader path
  (curate, select pools, decontamination eval files), and parse errors name the file and line;
- Parquet / Arrow binary columns holding text are decoded as UTF-8; rows with invalid bytes are quarantined
  with their row number, the rest kept;
- ids repeated across input files: the run-unique document key is ``source`` (``file:line``) and
  ``duplicate_of`` is the keeper's key, so it names exactly one document.
"""

import gzip
from collections import Counter
from pathlib import Path

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curation.config import CurationConfig
from core.readers import InputError, ReaderConfig, count_records, expand_inputs, read_documents
from curation.runner import curate_local, run_frames
from core.pool import load_pool
from curation.steps.exact_dedup import ExactDedupConfig
from curation.steps.minhash import MinHashConfig
from tests.conftest import SHARED

BOM = b"\xef\xbb\xbf"
CASES = SHARED.parent / "cases"


def case(*parts: str) -> Path:
    path = CASES.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} missing: these tests read the user cases in ../shared/cases (see its README)")
    return path


def read_all(paths, **cfg):
    bad = []
    batches = list(read_documents(paths, ReaderConfig(**cfg), lambda *q: bad.append(q)))
    return (pl.concat(batches) if batches else pl.DataFrame()), bad


def read_jsonl(directory: Path) -> list[dict]:
    return [orjson.loads(line) for f in sorted(directory.rglob("*.jsonl")) for line in f.read_bytes().splitlines()]


# --- byte-order marks ---------------------------------------------------------------------------------------------

def test_bom_case_files_read_in_curate_and_select():
    """bom-json: both files start with a BOM; a user expects both documents of each, ids and text untouched."""
    docs, bad = read_all([case("bom-json", "b_bom.json"), case("bom-json", "a_bom.jsonl")])
    assert docs["id"].to_list() == ["ja-1", "ja-2", "jl-1", "jl-2"] and not bad
    assert docs["text"][0].startswith("The library on Elm Street")  # no U+FEFF glued to the first text
    assert count_records([case("bom-json", "b_bom.json"), case("bom-json", "a_bom.jsonl")]) == 4
    pool = load_pool([case("bom-json", "b_bom.json")])  # `winnow select b_bom.json` reads through here
    assert pool.ids == ["ja-1", "ja-2"] and not pool.quarantined


def _compress(data: bytes, name: str) -> bytes:
    if name.endswith(".gz"):
        return gzip.compress(data)
    if name.endswith(".zst"):
        return zstandard.ZstdCompressor().compress(data)
    return data


JSONL = b'{"id": "a", "text": "first document"}\n{"id": "b", "text": "second document"}\n'
JSON_ARRAY = b'[{"id": "a", "text": "first document"},\n {"id": "b", "text": "second document"}]'
TXT = b"first document\nsecond document\n"


@pytest.mark.parametrize("name,body", [
    ("x.jsonl", JSONL), ("x.jsonl.gz", JSONL), ("x.jsonl.zst", JSONL), ("x.ndjson", JSONL),
    ("x.json", JSON_ARRAY), ("x.json.gz", JSON_ARRAY), ("x.json.zst", JSON_ARRAY),
    ("x.txt", TXT), ("x.txt.gz", TXT), ("x.txt.zst", TXT),
])
def test_bom_is_dropped_in_every_format(tmp_path, name, body):
    path = tmp_path / name
    path.write_bytes(_compress(BOM + body, name))  # the BOM is inside the compressed stream, as editors save it
    docs, bad = read_all([path])
    assert docs["text"].to_list() == ["first document", "second document"] and not bad
    assert count_records([path]) == 2
    pool = load_pool([path])
    assert pool.responses == ["first document", "second document"] and not pool.quarantined


def test_bom_only_line_and_cat_joined_files(tmp_path):
    """`cat a b > c` of two BOM files puts a BOM mid-file; a BOM alone on a line is a blank line, not a document."""
    path = tmp_path / "joined.txt"
    path.write_bytes(BOM + b"one line\n" + BOM + b"\n" + BOM + b"another line\n")
    docs, bad = read_all([path])
    assert docs["text"].to_list() == ["one line", "another line"] and not bad
    assert docs["source"].to_list() == [f"{path}:1", f"{path}:3"]
    assert count_records([path]) == 2  # the invariant counts what the reader reads


def test_parse_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_bytes(BOM + b'[{"id": "a", "text": "fine"},\n {"id": "b", "text": }]')
    with pytest.raises(InputError, match=r"broken\.json: not valid JSON \(.*line 2"):
        read_all([path])
    with pytest.raises(InputError, match=r"broken\.json: not valid JSON"):
        load_pool([path])
    lines = tmp_path / "broken.jsonl"
    lines.write_bytes(BOM + b'{"text": "fine"}\n{"text": \n')
    docs, bad = read_all([lines])
    assert docs.height == 1 and [(f, line, e.split(":")[0]) for f, line, e, _ in bad] == [(str(lines), 2, "invalid JSON")]


def test_decontamination_eval_file_with_bom(tmp_path):
    from curation.steps.decontaminate import DecontaminateConfig, eval_index

    evals = tmp_path / "eval.jsonl.gz"
    evals.write_bytes(gzip.compress(BOM + b'{"id": "q1", "text": "what is the boiling point of water at sea level"}\n\n'))
    index = eval_index(DecontaminateConfig(evals=[{"path": str(evals)}]))  # (hashes, owners, labels, ...)
    assert index[2] == ["eval.jsonl.gz:1"] and len(index[0]) > 0  # the BOM line parsed as line 1
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"text": "ok"}\n{"text": \n')
    with pytest.raises(InputError, match=r"bad\.jsonl:2: eval item is not valid JSON"):
        eval_index(DecontaminateConfig(evals=[{"path": str(bad)}]))


def test_config_files_with_bom(tmp_path):
    (tmp_path / "c.json").write_bytes(BOM + b'{"steps": [{"step": "exact_dedup"}]}')
    (tmp_path / "c.yaml").write_bytes(BOM + b"steps:\n  - step: exact_dedup\n")
    for name in ("c.json", "c.yaml"):
        assert [s.step for s in CurationConfig.load(tmp_path / name).steps] == ["exact_dedup"]


# --- Parquet text stored as binary ----------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", [pa.string(), pa.binary(), pa.large_binary()])
def test_bom_at_the_start_of_a_parquet_cell_is_dropped(tmp_path, layout):
    """A text cell starting with U+FEFF (a BOM file's text loaded into a table) loses it, as a file's BOM does."""
    texts = ["\ufeffA string column cell starting with a BOM.", "Plain cell.", "\ufeff"]
    cells = texts if layout == pa.string() else [t.encode() for t in texts]
    path = tmp_path / "bom.parquet"
    pq.write_table(pa.table({"id": ["p1", "p2", "p3"], "text": pa.array(cells, type=layout)}), path)
    docs, bad = read_all([path])
    assert docs["text"].to_list() == ["A string column cell starting with a BOM.", "Plain cell."]
    assert [(line, err) for _, line, err, _ in bad] == [(3, "empty text")]  # a BOM alone is no document
    assert load_pool([path]).responses == ["A string column cell starting with a BOM.", "Plain cell."]


def test_parquet_binary_text_case_keeps_all_six(tmp_path):
    """parquet-binary-text: `text` is a Parquet BYTE_ARRAY without the String annotation; all 6 rows are valid UTF-8."""
    path = case("parquet-binary-text", "binary_text.parquet")
    docs, bad = read_all([path])
    assert docs["id"].to_list() == [f"r{i}" for i in range(6)] and not bad
    assert docs["text"][5].startswith("Row 5: the allotment society")
    config = CurationConfig.load(case("parquet-binary-text", "config.yaml"))
    report = curate_local([str(path)], tmp_path / "run", config)
    assert (report["kept"], report["removed"], report["quarantined"]) == (6, 0, 0)


@pytest.mark.parametrize("layout", [pa.binary(), pa.large_binary()])
def test_invalid_bytes_in_binary_text_are_quarantined_with_their_row(tmp_path, layout):
    """Other layouts: large_binary, binary ids and metadata, several row groups (rows numbered across them)."""
    texts = [f"document number {i}".encode() for i in range(10)]
    texts[2] = b"caf\xe9 latin-1, not UTF-8"  # row 3
    texts[7] = "na\u00efve UTF-8 text".encode() + b"\xff"  # row 8, in the second row group
    table = pa.table({
        "text": pa.array(texts, type=layout),
        "doc": pa.array([f"id-{i}".encode() for i in range(10)], type=pa.binary()),
        "tag": pa.array([b"ok"] * 9 + [b"\xfe"], type=layout),
    })
    path = tmp_path / "bin.parquet"
    pq.write_table(table, path, row_group_size=5)
    docs, bad = read_all([path], id_field="doc", batch_size=4)
    assert docs.height == 8 and docs["id"].to_list() == [f"id-{i}" for i in (0, 1, 3, 4, 5, 6, 8, 9)]
    assert docs["text"][0] == "document number 0"
    assert orjson.loads(docs["metadata"][0]) == {"tag": "ok"}
    assert orjson.loads(docs["metadata"][7]) == {"tag": "\\xfe"}  # bad bytes in metadata keep the row, escaped
    assert [(f, line) for f, line, _, _ in bad] == [(str(path), 3), (str(path), 8)]
    assert bad[0][2] == "invalid UTF-8: field 'text' is binary with a bad byte at offset 3"
    assert "caf\\\\xe9" in bad[0][3] and orjson.loads(bad[0][3])["doc"] == "id-2"  # raw row, bytes escaped
    assert count_records([path]) == docs.height + len(bad)


def test_hf_dataset_binary_text(tmp_path):
    import datasets

    ds = datasets.Dataset.from_dict({"text": [b"plain bytes text", b"\xff\xfe"]},
                                    features=datasets.Features({"text": datasets.Value("binary")}))
    ds.save_to_disk(str(tmp_path / "hf"))
    docs, bad = read_all([tmp_path / "hf"])
    assert docs["text"].to_list() == ["plain bytes text"]
    assert [(line, err.split(":")[0]) for _, line, err, _ in bad] == [(2, "invalid UTF-8")]


# --- ids repeated across files ------------------------------------------------------------------------------------

def test_ids_across_files_case_pipeline(tmp_path):
    """ids-across-files: a.jsonl and b.jsonl both use ids 1..3; b's line 2 repeats a's line 1.

    The right copy (b.jsonl line 2, the later one in input order) is removed, and duplicate_of is a.jsonl:1,
    which names one kept document (the bare id "1" would name a.jsonl:1 and b.jsonl:1).
    """
    a, b = str(case("ids-across-files", "a.jsonl")), str(case("ids-across-files", "b.jsonl"))
    config = CurationConfig.load(case("ids-across-files", "config.yaml"))
    report = curate_local([a, b], tmp_path / "run", config)
    assert (report["kept"], report["removed"], report["quarantined"]) == (5, 1, 0)
    kept, removed = read_jsonl(tmp_path / "run" / "kept"), read_jsonl(tmp_path / "run" / "removed")
    (dup,) = removed
    assert (dup["id"], dup["source"], dup["reason"], dup["duplicate_of"]) == ("2", f"{b}:2", "exact_duplicate", f"{a}:1")
    assert [d for d in kept if d["source"] == dup["duplicate_of"]] == [
        {"id": "1", "text": dup["text"], "metadata": {}, "source": f"{a}:1"}]
    assert sorted(d["id"] for d in kept) == ["1", "1", "2", "3", "3"]  # the user's ids are unchanged
    assert len(Counter(d["source"] for d in kept + removed)) == 6


def test_file_named_twice_is_read_once(tmp_path, caplog):
    path = tmp_path / "x.jsonl"
    path.write_bytes(JSONL)
    assert expand_inputs([path, tmp_path, str(path)]) == [path]
    assert "named more than once" in caplog.text
    assert count_records([path, path]) == 2


def test_minhash_duplicate_of_is_unambiguous_with_repeated_ids(tmp_path):
    """Two shards (files) that reuse ids: the near copy in the second points at the first file's document."""
    text = ("the harbour master said the new pontoon will be finished before the sailing season starts in "
            "april and that visiting boats can book a berth online from next week onwards")
    frames = [pl.DataFrame({"id": ["1", "2"], "text": [text, "an unrelated note about the village fete and its cakes"],
                            "metadata": ["{}"] * 2, "source": ["a.jsonl:1", "a.jsonl:2"]}),
              pl.DataFrame({"id": ["1", "2"], "text": ["volunteers counted swans on the lake", text + " today"],
                            "metadata": ["{}"] * 2, "source": ["b.jsonl:1", "b.jsonl:2"]})]
    kept, removed = run_frames(MinHashConfig(), frames, tmp_path / "minhash", partitions=2)
    assert removed.select("id", "source", "duplicate_of").rows() == [("2", "b.jsonl:2", "a.jsonl:1")]
    kept, removed = run_frames(ExactDedupConfig(), [frames[0], frames[0].with_columns(
        pl.Series("source", ["c.jsonl:1", "c.jsonl:2"]))], tmp_path / "exact", partitions=2)
    assert removed.select("source", "duplicate_of").rows() == [("c.jsonl:1", "a.jsonl:1"), ("c.jsonl:2", "a.jsonl:2")]
