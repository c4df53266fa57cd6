"""Readers turn shards into bounded polars batches; every line they cannot use goes to quarantine.

One registry (``READERS``) maps a file suffix to a reader. Readers never raise on a bad record: they hand
``(file, line, error, raw)`` to the quarantine callback and go on, so a run always accounts for every input
line. They raise ``InputError`` only when the input as a whole is unusable (missing path, no shards,
unknown format), with a message naming the path.
"""

from __future__ import annotations

import gzip
import io
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import orjson
import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from core.documents import DOC_SCHEMA


class InputError(Exception):
    """The input as a whole cannot be read (the message names the path and what to do)."""


class ReaderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text_field: str = Field("text", description="field (or column) holding the document text")
    id_field: str = Field("id", description="field holding the document id; file:line when absent")
    batch_size: int = Field(1000, ge=1, description="documents per batch: bounds memory per step")
    max_doc_chars: int = Field(
        10_000_000, ge=1, description="longer documents are quarantined (one giant record must not take a run down)"
    )


QuarantineFn = Callable[[str, int, str, str], None]

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst")
WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz")  # core.warc: HTML responses / WET text records
JSON_SUFFIXES = (".json", ".json.gz", ".json.zst")
TXT_SUFFIXES = (".txt", ".txt.gz", ".txt.zst")
SUFFIXES = JSONL_SUFFIXES + WARC_SUFFIXES + JSON_SUFFIXES + TXT_SUFFIXES + (".parquet",)
DIRECTORY_SUFFIXES = JSONL_SUFFIXES + WARC_SUFFIXES + (".parquet",)


def _suffix(path: Path) -> str | None:
    """The registered format suffix of a file name (longest match: ``a.jsonl.gz`` is ``.jsonl.gz``)."""
    name = path.name.lower()
    return next((s for s in sorted(SUFFIXES, key=len, reverse=True) if name.endswith(s)), None)


def _is_hf_dataset_dir(path: Path) -> bool:
    return (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()


def format_of(path: Path) -> str:
    """``jsonl``, ``json``, ``txt``, ``parquet``, ``warc`` or ``hf`` (a ``save_to_disk`` directory), compressed or not."""
    if path.is_dir():
        return "hf"
    suffix = _suffix(path) or ""
    return next((f for f, group in (("jsonl", JSONL_SUFFIXES), ("json", JSON_SUFFIXES), ("txt", TXT_SUFFIXES),
                                    ("warc", WARC_SUFFIXES)) if suffix in group), suffix.lstrip("."))


def expand_inputs(paths: list[str | Path]) -> list[Path]:
    """Files and directories to an ordered list of shards (sorted, so runs are reproducible).

    A file named twice (directly, or also inside a named directory) is read once, with a warning: reading it
    twice would make every document its own duplicate, and its ``source`` (``file:line``, the run-unique
    document key) would no longer be unique.
    """
    shards: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        if path.is_dir() and _is_hf_dataset_dir(path):
            shards.append(path)
        elif path.is_dir():
            # in directories only shard formats count: a README.txt or metadata .json beside shards is not data
            found = sorted(p for p in path.rglob("*") if p.is_file() and _suffix(p) in DIRECTORY_SUFFIXES)
            found += sorted(p for p in path.iterdir() if p.is_dir() and _is_hf_dataset_dir(p))
            if not found:
                raise InputError(
                    f"{path}: directory holds no shards (looked for {', '.join(DIRECTORY_SUFFIXES)} "
                    "or a Hugging Face dataset saved with save_to_disk)"
                )
            shards.extend(found)
        elif _suffix(path) is None:
            raise InputError(f"{path}: unknown format; expected one of {', '.join(SUFFIXES)}")
        else:
            shards.append(path)
    unique: dict[Path, Path] = {}
    for shard in shards:
        if shard.resolve() in unique:
            logging.getLogger(__name__).warning("%s: named more than once in the inputs; read once", shard)
        else:
            unique[shard.resolve()] = shard
    return list(unique.values())


def _text_value(value: object) -> object:
    """Binary ids and metadata as text (invalid bytes as ``\\xNN`` escapes: the row is kept, nothing is guessed)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    return value


def _raw_record(record: dict) -> str:
    """A columnar row as a JSON line for quarantine; binary values rendered as UTF-8 with ``\\xNN`` escapes."""
    return orjson.dumps({k: _text_value(v) for k, v in record.items()}, default=str).decode()


class _Rows:
    """Accumulates validated rows and flushes them as batches of the fixed schema."""

    def __init__(self, cfg: ReaderConfig, file: str, quarantine: QuarantineFn):
        self.cfg, self.file, self.quarantine = cfg, file, quarantine
        self.rows: dict[str, list] = {k: [] for k in DOC_SCHEMA}

    def add(self, line: int, record: object, raw: str | Callable[[], str]) -> None:
        """Validates one record; ``raw`` (or a callable making it) is only rendered for quarantine."""
        cfg = self.cfg

        def bad(error: str) -> None:
            self.quarantine(self.file, line, error, raw() if callable(raw) else raw)

        if not isinstance(record, dict):
            return bad(f"not a JSON object: got {type(record).__name__}")
        if cfg.text_field not in record:
            fields = ", ".join(sorted(record)) or "none"
            return bad(f"missing text field: '{cfg.text_field}' not among fields ({fields})")
        text = record[cfg.text_field]
        if isinstance(text, (bytes, bytearray, memoryview)):  # Parquet/Arrow binary columns holding text
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError as exc:
                return bad(f"invalid UTF-8: field '{cfg.text_field}' is binary with a bad byte at offset {exc.start}")
        if not isinstance(text, str):
            kind = "null" if text is None else type(text).__name__
            return bad(f"text not a string: field '{cfg.text_field}' is {kind}")
        text = text.lstrip("\ufeff")  # a BOM leading a cell (Parquet/Arrow text from BOM files) as at a file's start
        if not text.strip():
            return bad("empty text")
        if len(text) > cfg.max_doc_chars:
            return bad(f"document too large: {len(text):,} chars > max_doc_chars={cfg.max_doc_chars:,}")
        doc_id = _text_value(record.get(cfg.id_field))
        meta = {k: _text_value(v) for k, v in record.items() if k not in (cfg.text_field, cfg.id_field)}
        self.rows["id"].append(f"{Path(self.file).name}:{line}" if doc_id is None else str(doc_id))
        self.rows["text"].append(text)
        self.rows["metadata"].append(orjson.dumps(meta, option=orjson.OPT_SORT_KEYS, default=str).decode())
        self.rows["source"].append(f"{self.file}:{line}")

    def full(self) -> bool:
        return len(self.rows["id"]) >= self.cfg.batch_size

    def flush(self) -> pl.DataFrame | None:
        if not self.rows["id"]:
            return None
        batch = pl.DataFrame(self.rows, schema=DOC_SCHEMA)
        self.rows = {k: [] for k in DOC_SCHEMA}
        return batch


class _ZstdReader(io.RawIOBase):
    """zstd stream that raises on a truncated frame (zstandard's stream_reader just stops: silent loss)."""

    def __init__(self, path: Path):
        import zstandard

        self._new = zstandard.ZstdDecompressor().decompressobj
        self.fh, self.dobj, self.buf, self.seen = open(path, "rb"), None, b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self.buf:
            chunk = self.fh.read(1 << 20)
            if not chunk:
                if self.dobj is not None and not self.dobj.eof:
                    raise EOFError("zstd frame truncated")
                return 0
            self.seen = True
            while chunk:
                if self.dobj is None or self.dobj.eof:
                    self.dobj = self._new()
                self.buf += self.dobj.decompress(chunk)
                chunk = self.dobj.unused_data if self.dobj.eof else b""  # next concatenated frame
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n

    def close(self) -> None:
        self.fh.close()
        super().close()


def _open_binary(path: Path) -> io.BufferedIOBase:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zst"):
        return io.BufferedReader(_ZstdReader(path))
    return open(path, "rb")


UTF8_BOM = b"\xef\xbb\xbf"


def _strip_bom(raw: bytes) -> bytes:
    """Without leading UTF-8 byte order marks (editors on Windows write one; ``cat``-joined files hold several)."""
    while raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM):]
    return raw


def numbered_lines(path: Path, quarantine: QuarantineFn) -> Iterator[tuple[int, bytes]]:
    """Numbered raw lines, decompressed and without a leading BOM; a truncated or corrupt compressed stream
    becomes one quarantine record. Every line reader (JSONL, .txt, selection pools, compress) goes through here.
    """
    n = 0
    try:
        with _open_binary(path) as fh:
            for n, raw in enumerate(fh, start=1):
                yield n, _strip_bom(raw)
    except (EOFError, OSError, ValueError) as exc:
        quarantine(str(path), n + 1, f"unreadable stream: stops after line {n} ({type(exc).__name__}: {exc})", "")


def _decode(raw: bytes) -> tuple[str | None, str]:
    raw = raw.rstrip(b"\r\n")
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8: bad byte at offset {exc.start}"


def _text_lines(path: Path, quarantine: QuarantineFn) -> Iterator[tuple[int, str]]:
    """Numbered, decoded, non-blank lines; undecodable ones go to quarantine (blank ones hold no document)."""
    for line, raw in numbered_lines(path, quarantine):
        text, err = _decode(raw)
        if text is None:
            quarantine(str(path), line, err, raw.decode("utf-8", errors="backslashreplace"))
        elif text.strip():
            yield line, text


def _batched(rows: _Rows, records: Iterable[tuple[int, object, str]]) -> Iterator[pl.DataFrame]:
    for line, record, raw in records:
        rows.add(line, record, raw)
        if rows.full():
            yield rows.flush()
    if (batch := rows.flush()) is not None:
        yield batch


def read_jsonl(path: Path, cfg: ReaderConfig, quarantine: QuarantineFn) -> Iterator[pl.DataFrame]:
    def records() -> Iterator[tuple[int, object, str]]:
        for line, text in _text_lines(path, quarantine):
            try:
                yield line, orjson.loads(text), text
            except orjson.JSONDecodeError as exc:
                quarantine(str(path), line, f"invalid JSON: {exc}", text)

    return _batched(_Rows(cfg, str(path), quarantine), records())


def load_json_array(path: Path) -> list:
    """A whole ``.json`` file (plain, .gz or .zst; a leading BOM is dropped) that must hold a JSON array.

    Raises ``InputError`` naming the file, and the line and column where parsing failed.
    """
    try:
        with _open_binary(path) as fh:
            data = _strip_bom(fh.read())
    except (EOFError, OSError) as exc:
        raise InputError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from exc
    try:
        records = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc}); for one record per line use .jsonl") from exc
    if not isinstance(records, list):
        raise InputError(f"{path}: expected a JSON array of records, got {type(records).__name__}")
    return records


def read_json_array(path: Path, cfg: ReaderConfig, quarantine: QuarantineFn) -> Iterator[pl.DataFrame]:
    """A JSON array of records (as LIMA/Alpaca ship); ``line`` is the 1-based element number."""
    records = load_json_array(path)
    numbered = ((i, r, lambda r=r: orjson.dumps(r, default=str).decode()) for i, r in enumerate(records, start=1))
    return _batched(_Rows(cfg, str(path), quarantine), numbered)


def read_txt(path: Path, cfg: ReaderConfig, quarantine: QuarantineFn) -> Iterator[pl.DataFrame]:
    """Plain text: each non-blank line is one document (wikitext paragraphs, one article per line)."""
    lines = ((line, {cfg.text_field: text}, text) for line, text in _text_lines(path, quarantine))
    return _batched(_Rows(cfg, str(path), quarantine), lines)


def _table_batches(
    tables: Iterator[pa.Table | pa.RecordBatch], file: str, cfg: ReaderConfig, quarantine: QuarantineFn
) -> Iterator[pl.DataFrame]:
    """Columnar input, row by row through the same checks as JSON records; ``line`` is the 1-based row."""

    def records() -> Iterator[tuple[int, object, Callable[[], str]]]:
        offset = 0
        for table in tables:
            frame = pl.from_arrow(table)
            if isinstance(frame, pl.Series):
                frame = frame.to_frame()
            if cfg.text_field not in frame.columns:
                raise InputError(
                    f"{file}: no column '{cfg.text_field}' (columns: {', '.join(frame.columns)}); pass --text-field"
                )
            for i, record in enumerate(frame.iter_rows(named=True), start=offset + 1):
                yield i, record, lambda r=record: _raw_record(r)
            offset += frame.height

    return _batched(_Rows(cfg, file, quarantine), records())


def read_parquet(path: Path, cfg: ReaderConfig, quarantine: QuarantineFn) -> Iterator[pl.DataFrame]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    yield from _table_batches(pf.iter_batches(batch_size=cfg.batch_size), str(path), cfg, quarantine)


def read_hf_dataset(path: Path, cfg: ReaderConfig, quarantine: QuarantineFn) -> Iterator[pl.DataFrame]:
    """A `datasets` Dataset or DatasetDict saved with ``save_to_disk``; splits are read in name order."""
    import datasets

    loaded = datasets.load_from_disk(str(path))
    splits = [(name, loaded[name]) for name in sorted(loaded)] if isinstance(loaded, datasets.DatasetDict) else [("", loaded)]
    for name, ds in splits:
        file = f"{path}/{name}" if name else str(path)
        tables = (ds.data.slice(i, cfg.batch_size).table for i in range(0, len(ds), cfg.batch_size))
        yield from _table_batches(tables, file, cfg, quarantine)


def read_warc(path: Path, cfg: ReaderConfig, quarantine: QuarantineFn) -> Iterator[pl.DataFrame]:
    from core.warc import read_warc as read  # imported late: core.warc builds on this module

    return read(path, cfg, quarantine)


READERS: dict[str, Callable[[Path, ReaderConfig, QuarantineFn], Iterator[pl.DataFrame]]] = {
    **{s: read_jsonl for s in JSONL_SUFFIXES},
    **{s: read_json_array for s in JSON_SUFFIXES},
    ".parquet": read_parquet,
    **{s: read_txt for s in TXT_SUFFIXES},
    **{s: read_warc for s in WARC_SUFFIXES},
}


def read_shard(path: Path, cfg: ReaderConfig, quarantine: QuarantineFn) -> Iterator[pl.DataFrame]:
    if path.is_dir():
        return read_hf_dataset(path, cfg, quarantine)
    return READERS[_suffix(path)](path, cfg, quarantine)


def read_documents(paths: list[str | Path], cfg: ReaderConfig, quarantine: QuarantineFn) -> Iterator[pl.DataFrame]:
    for shard in expand_inputs(paths):
        yield from read_shard(shard, cfg, quarantine)


def count_records(paths: list[str | Path]) -> int:
    """Input records counted independently of the readers (non-blank lines, array items, Parquet rows).

    The run's invariant compares this against kept + removed + quarantined read back from the output files.
    """
    total = 0
    for shard in expand_inputs(paths):
        suffix = None if shard.is_dir() else _suffix(shard)
        if shard.is_dir():
            import datasets

            loaded = datasets.load_from_disk(str(shard))
            total += sum(len(d) for d in loaded.values()) if isinstance(loaded, datasets.DatasetDict) else len(loaded)
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(shard).metadata.num_rows
        elif suffix in WARC_SUFFIXES:
            from core.warc import count_warc_records

            total += count_warc_records(shard)
        elif suffix in JSON_SUFFIXES:
            total += len(load_json_array(shard))
        else:
            stream_errors: list = []
            for _, raw in numbered_lines(shard, lambda *q: stream_errors.append(q)):
                total += bool(raw.decode("utf-8", errors="replace").strip())
            total += len(stream_errors)
    return total
