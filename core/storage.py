"""Durable files: atomic writes (temp + rename), batch-streaming Parquet, content hashes for manifests."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash


def file_hash(path: str | Path, chunk: int = 1 << 22) -> str:
    h = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def fingerprint(*parts: object) -> str:
    """Stable hash of JSON-able parts: the identity of a stage's inputs and config."""
    return xxhash.xxh3_128_hexdigest(json.dumps(parts, sort_keys=True, default=str).encode())


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def atomic_write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: str | Path, data: object) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


class ParquetBatchWriter:
    """Appends polars batches to one Parquet file; visible under its name only after ``close``."""

    def __init__(self, path: str | Path, empty_schema: dict[str, pl.DataType]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = _tmp(self.path)
        self.empty_schema = empty_schema
        self.writer: pq.ParquetWriter | None = None
        self.schema: pa.Schema | None = None
        self.rows = 0

    def write(self, batch: pl.DataFrame) -> None:
        if batch.height == 0:
            return
        table = batch.to_arrow()
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
        else:
            table = table.select(self.schema.names).cast(self.schema)
        self.writer.write_table(table)
        self.rows += batch.height

    def close(self) -> int:
        if self.writer is None:
            pq.write_table(pl.DataFrame(schema=self.empty_schema).to_arrow(), self.tmp, compression="zstd")
        else:
            self.writer.close()
        os.replace(self.tmp, self.path)
        return self.rows

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)


def iter_parquet(path: str | Path, batch_size: int = 1000) -> Iterator[pl.DataFrame]:
    pf = pq.ParquetFile(path)
    for record_batch in pf.iter_batches(batch_size=batch_size):
        yield pl.from_arrow(record_batch)


def parquet_rows(path: str | Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def atomic_write_parquet(path: str | Path, frame: pl.DataFrame) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    frame.write_parquet(tmp, compression="zstd", row_group_size=100_000)
    os.replace(tmp, path)


def atomic_save_npy(path: str | Path, array) -> None:
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path).with_suffix(".npy")
    np.save(tmp, array, allow_pickle=False)
    os.replace(tmp, path)


class RunLocked(RuntimeError):
    """Another run holds the output directory."""


class run_lock:
    """An exclusive lock on a run directory for a run's whole duration (``fcntl.flock``: released by the OS if
    the process dies, so a killed run never leaves a stale lock). Refuses at once, or waits with ``wait=True``."""

    def __init__(self, run_dir: str | Path, wait: bool = False):
        self.path = Path(run_dir) / ".winnow.lock"
        self.wait = wait
        self.fh = None

    def __enter__(self) -> "run_lock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "another process"
            self.fh.close()
            raise RunLocked(f"{self.path.parent}: another winnow run is writing here ({holder}); "
                            "wait for it to finish or choose another --out") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
        self.fh.flush()
        return self

    def __exit__(self, *exc) -> None:
        import fcntl

        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def fault_point(name: str) -> None:
    """Test hook: ``WINNOW_FAULT=name`` kills this process here with SIGKILL (crash-and-resume tests)."""
    if os.environ.get("WINNOW_FAULT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
