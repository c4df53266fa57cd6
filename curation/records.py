"""Typed records that cross the curation spine: shard refs, unit results, stage summaries, the run report.

A unit's manifest on disk stays the JSON dict it always was (``curation.pipeline.cached`` writes and verifies
it); these records are what the units hand to ``curation.execute`` and to each other, so the spine reads
attributes, not string keys. They are plain dataclasses: picklable for Dask, and Prefect's JSON result
serializer round-trips them (it stores the class name and rebuilds them with a pydantic ``TypeAdapter``).

``CurationReport.as_json`` gives ``report.json`` with the keys and key order other tools read (``winnow report``,
``evals``, the Prefect artifacts); ``StageSummary.report_row`` gives one entry of its ``steps`` list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.storage import fingerprint


@dataclass(frozen=True)
class ShardRef:
    """One shard's documents as the next unit reads them: ``kept_path`` (Parquet, ``rows`` documents) and the
    fingerprint of everything that produced them (input content + every upstream step config)."""

    key: str  # "FFFFF-PPPP": input file index, part within the file
    kept_path: str
    rows: int
    fingerprint: str


@dataclass(frozen=True)
class ReadResult:
    """Reading one input file (``read`` unit): its shards in order, plus the lines it quarantined."""

    file: str
    index: int
    shards: tuple[ShardRef, ...]
    documents: int
    quarantined: int
    quarantine_path: str
    reasons: dict[str, int]
    seconds: float
    reused: bool
    fingerprint: str

    @classmethod
    def from_manifest(cls, m: dict) -> ReadResult:
        base = Path(m["quarantine_path"]).parent
        shards = tuple(ShardRef(s["key"], str(base / s["kept_file"]), s["rows"], _shard_fingerprint(m["fingerprint"], s["key"]))
                       for s in m["shards"])
        return cls(file=m["file"], index=m["index"], shards=shards, documents=m["documents"],
                   quarantined=m["quarantined"], quarantine_path=m["quarantine_path"], reasons=m["reasons"],
                   seconds=m["seconds"], reused=m["reused"], fingerprint=m["fingerprint"])


def _shard_fingerprint(read_fingerprint: str, key: str) -> str:
    return fingerprint(read_fingerprint, key)


@dataclass(frozen=True)
class ShardResult:
    """One step on one shard (a per-document step, or a global step's apply): what it kept and removed."""

    key: str
    input: int
    rows: int  # kept
    removed: int
    reasons: dict[str, int]
    unjudged: dict[str, int]
    kept_path: str
    removed_path: str
    seconds: float
    reused: bool
    fingerprint: str

    @classmethod
    def from_manifest(cls, m: dict, fingerprint: str) -> ShardResult:
        return cls(key=m["key"], input=m["input"], rows=m["rows"], removed=m["removed"], reasons=m["reasons"],
                   unjudged=m.get("unjudged", {}), kept_path=m["kept_path"], removed_path=m["removed_path"],
                   seconds=m["seconds"], reused=m["reused"], fingerprint=fingerprint)

    def next_shard(self) -> ShardRef:
        """The kept documents as the next step's input."""
        return ShardRef(self.key, self.kept_path, self.rows, self.fingerprint)


@dataclass(frozen=True)
class MapResult:
    """Phase 1 of a global step on one shard: compact state in the stage's work directory (``files``)."""

    key: str
    source: str
    stats: dict
    seconds: float
    reused: bool
    fingerprint: str
    files: dict[str, str]  # file name -> content hash

    @classmethod
    def from_manifest(cls, m: dict) -> MapResult:
        return cls(key=m["key"], source=m["source"], stats=m["stats"], seconds=m["seconds"], reused=m["reused"],
                   fingerprint=m["fingerprint"], files=m["files"])


@dataclass(frozen=True)
class ReduceResult:
    """Phase 2 of a global step: the decisions for every shard, from all map outputs."""

    stats: dict
    seconds: float
    reused: bool
    fingerprint: str

    @classmethod
    def from_manifest(cls, m: dict) -> ReduceResult:
        return cls(stats=m["stats"], seconds=m["seconds"], reused=m["reused"], fingerprint=m["fingerprint"])


@dataclass(frozen=True)
class ChainResult:
    """A chain unit (one shard through consecutive per-shard steps): one result per step, in order, and the map
    of the global step that ends the chain, if one does."""

    shards: tuple[ShardResult, ...]
    map: MapResult | None = None

    def out(self, shard: ShardRef) -> ShardRef:
        """The shard the next unit reads: the last step's kept documents, or the input when no step kept any."""
        return self.shards[-1].next_shard() if self.shards else shard


@dataclass(frozen=True)
class ExportResult:
    """One shard's documents copied to ``kept/`` and ``removed/NN-step/`` (rows read back from those files)."""

    key: str
    kept: int
    removed: int


@dataclass(frozen=True)
class StageShard:
    key: str
    removed_path: str


@dataclass(frozen=True)
class StageSummary:
    """One stage's totals (stage 0 is the read). ``seconds`` is the work time of all its units, not wall time."""

    name: str
    index: int
    input: int
    kept: int
    removed: int
    reasons: dict[str, int]
    seconds: float
    reused: bool
    unjudged: dict[str, int] = field(default_factory=dict)
    quarantined: int | None = None  # read stage only
    stats: dict | None = None  # global steps only: the reduce's statistics
    shards: tuple[StageShard, ...] = ()  # steps only: each shard's removed documents
    inputs: tuple[str, ...] = ()  # read stage only
    quarantine_paths: tuple[str, ...] = ()  # read stage only

    def removed_path(self, key: str) -> str:
        return next(s.removed_path for s in self.shards if s.key == key)

    @classmethod
    def from_report_row(cls, row: dict, index: int) -> StageSummary:
        """A stage as ``report.json`` lists it (``report_row``); per-shard paths and inputs are not in the row."""
        return cls(name=row["name"], index=index, input=row["input"], kept=row["kept"], removed=row["removed"],
                   reasons=dict(row.get("reasons", {})), seconds=row["seconds"], reused=row.get("reused", False),
                   unjudged=dict(row.get("unjudged", {})), quarantined=row.get("quarantined"),
                   stats=row.get("stats"))

    def report_row(self) -> dict:
        """This stage's entry in ``report.json``'s ``steps`` (keys and order as before the records existed)."""
        row = {"name": self.name, "input": self.input, "kept": self.kept, "removed": self.removed,
               "seconds": self.seconds, "reasons": self.reasons}
        if self.unjudged:
            row["unjudged"] = self.unjudged
        row["reused"] = self.reused
        if self.quarantined is not None:
            row["quarantined"] = self.quarantined
        if self.stats is not None:
            row["stats"] = self.stats
        return row


@dataclass
class CurationReport:
    """``report.json``: ``curation.report.write_report`` adds ``warnings`` (drop alarms; None until then) and the
    report file paths to ``outputs``; ``from_json`` reads one back (``curation.report.load_report``)."""

    input: int
    kept: int
    removed: int
    quarantined: int
    invariant_ok: bool
    steps: list[StageSummary]
    shards: int
    inputs: list[str]
    outputs: dict[str, str]
    config: dict
    finished_at: str
    corpus: dict | None = None
    warnings: list[dict] | None = None

    @classmethod
    def from_json(cls, data: dict) -> CurationReport:
        """``as_json``'s inverse: ``from_json(r).as_json() == r`` for a report.json ``r`` (same keys, same order)."""
        return cls(input=data["input"], kept=data["kept"], removed=data["removed"], quarantined=data["quarantined"],
                   invariant_ok=data.get("invariant_ok", False),
                   steps=[StageSummary.from_report_row(row, i) for i, row in enumerate(data["steps"])],
                   shards=data.get("shards", 0), inputs=list(data.get("inputs", [])),
                   outputs=dict(data.get("outputs", {})), config=data.get("config", {}),
                   finished_at=data.get("finished_at", ""), corpus=data.get("corpus"), warnings=data.get("warnings"))

    def as_json(self) -> dict:
        """The report as other tools read it (``curation.report.REPORT_KEYS`` and the rest, same order)."""
        out = {"input": self.input, "kept": self.kept, "removed": self.removed, "quarantined": self.quarantined,
               "invariant_ok": self.invariant_ok, "steps": [s.report_row() for s in self.steps],
               "shards": self.shards, "inputs": list(self.inputs), "outputs": dict(self.outputs),
               "config": self.config, "finished_at": self.finished_at}
        if self.corpus is not None:
            out["corpus"] = self.corpus
        if self.warnings is not None:
            out["warnings"] = self.warnings
        return out
