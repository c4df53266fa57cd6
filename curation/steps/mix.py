"""Sample a corpus (or an instruction pool) to target proportions per group under a document or token budget.

Groups: a metadata field (dotted for nested keys: ``meta.source``), ``url_domain`` (host of the document's URL,
``www.`` dropped), ``label``, ``language``/``lang`` (the langid step's ``lang`` column, else the metadata's
``language``/``lang``), or ``file`` (the input file's name: one source per file). A column of the batch with the ``by`` name wins over metadata. No value -> ``(none)``.

Target proportions p_g, in budget units (documents, or tokens for a token budget):

- ``natural``: p_g ∝ n_g^(1/T), temperature sampling over the group sizes n_g (Conneau et al. 2020, XLM-R;
  Arivazhagan et al. 2019): T = 1 keeps the corpus proportions, T -> inf is uniform, T in between flattens;
- ``uniform``: p_g = 1/G;
- a mapping group -> weight (normalised to sum 1; groups the corpus lacks get nothing, listed in the plan).

Budget B: ``"5000"`` documents or ``"2M tokens"`` (whitespace words unless ``tokenizer`` names one, e.g.
``smollm2``: ``curation.tokenize``'s count, no special tokens). Group g may get at most K x its size
(``max_upsample`` = K; every document repeated at most K times); what a capped group cannot take is given to the
others in proportion to their p (water-filling), so the budget is spent when the corpus can supply it.

Within a group the copies of every document are ordered by ``(j + u_i) / m_i`` (copy j of document i, u_i a
seeded uniform from the document's ``source``, m_i its multiplicity) and a prefix is taken: without
rehydration m_i = K, so a sample below the group size is a seeded random subset, and above it every document
appears floor or ceil of (quota / size) times. A token quota takes the longest prefix that stays within it.
With ``rehydrate``, m_i = min(K, w(cluster_size_i)) (FineWeb-2 rehydration: documents are repeated by the size
of the duplicate cluster they came from, read from a ``cluster_size`` column or metadata field), and the prefix
samples copies in proportion to m_i. FineWeb-2 sets w per language from each cluster size's filtering rate;
the default table here is a placeholder shape (1 for singletons, more for moderate clusters, back to 1 for
the very large, mostly boilerplate clusters): give your own ``rehydrate_weights``.

Kept documents carry ``mix_group`` and ``mix_repeats`` (>= 1: how many times the mix uses them); documents with
zero copies are removed with reason ``not_sampled``, so input = kept + removed as for every step. Reduce holds
one small row per document copy (group, units, seeded key): memory is the corpus' row count times K.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import orjson
import polars as pl
import xxhash
from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from core.config_types import PositiveInt, Seed
from core.documents import mark_removed
from curation.steps.base import GlobalStep, ShardContext, StepConfig, register_step
from core.storage import atomic_write_json, atomic_write_parquet
from curation.tokenize import check_tokenizer

NONE = "(none)"
URL_FIELDS = ("url", "metadata.url", "warc_url", "metadata.warc_url")
_BUDGET_RE = re.compile(r"^\s*(\d[\d_]*(?:\.\d+)?)\s*([km]?)\s*(tokens?|tok|t)?\s*$", re.I)
# cluster-size lower bound -> repeats; FineWeb-2's buckets (1, 2, 3-4, 5-100, 100-1000, 1000+), placeholder weights
DEFAULT_REHYDRATE = {1: 1, 2: 2, 3: 3, 5: 3, 100: 2, 1000: 1}
Temperature = Annotated[float, Field(gt=0, description="p ∝ n^(1/T): 1 = natural, inf = uniform")]


def parse_budget(spec: str | int) -> tuple[str, int]:
    """``("docs", N)`` or ``("tokens", N)`` from ``5000``, ``"5k"``, ``"2M tokens"``; whole, >= 1, else ValueError."""
    m = _BUDGET_RE.match(str(spec))
    if isinstance(spec, bool) or not m:
        raise ValueError(f"budget {spec!r}: write a document count (5000, 5k) or tokens ('2M tokens')")
    value = float(m.group(1).replace("_", "")) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    if value < 1 or value != int(value):
        raise ValueError(f"budget {spec!r}: must be a whole number >= 1, not {value:g}")
    return ("tokens" if m.group(3) else "docs"), int(value)


def _check_unit(name: str) -> str:
    """'words', 'smollm2' or an existing tokenizers JSON file, else ValueError (refused before a run)."""
    return check_tokenizer(name, also=("words",))


class MixConfig(StepConfig, step="mix"):
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="strings")  # T = inf -> "Infinity"

    by: str = Field(..., min_length=1, description="group: metadata field (dotted), url_domain, label, language")
    budget: str = Field(..., description="documents (5000, 5k) or tokens ('2M tokens')")
    target: Literal["natural", "uniform"] | dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = "natural"
    temperature: Temperature = 1.0
    max_upsample: PositiveInt = Field(1, description="most times one document may be used (1 = no repeats)")
    tokenizer: Annotated[str, AfterValidator(_check_unit)] = Field(
        "words", description="token unit: 'words' (whitespace), 'smollm2' or a tokenizer.json")
    rehydrate: bool = Field(False, description="repeat documents by duplicate-cluster size (FineWeb-2 rehydration)")
    cluster_size_field: str = "cluster_size"
    rehydrate_weights: dict[int, PositiveInt] = Field(default_factory=lambda: dict(DEFAULT_REHYDRATE))
    seed: Seed = 0

    @field_validator("budget", mode="before")
    @classmethod
    def _budget(cls, v: object) -> str:
        parse_budget(v)  # refuse now, before any work
        return str(v)

    @model_validator(mode="after")
    def _target(self) -> MixConfig:
        if isinstance(self.target, dict) and not sum(self.target.values()) > 0:
            raise ValueError("target weights must have a positive sum")
        if self.target != "natural" and self.temperature != 1.0:
            raise ValueError("temperature applies to the natural target only (uniform is T = inf)")
        return self


def _lookup(meta: dict, dotted: str):
    value: object = meta
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def group_values(batch: pl.DataFrame, by: str) -> list[str]:
    """The group of every document of ``batch`` (see the module docstring for the keys)."""
    from curation.urls import domain_of

    if by == "file":
        return [Path(s.rsplit(":", 1)[0]).name for s in batch["source"].to_list()]
    names = ("lang", "language") if by in ("lang", "language") else (by,)
    for name in names:
        if name in batch.columns and name not in ("text", "metadata", "id", "source"):
            return [NONE if v is None else str(v) for v in batch[name].to_list()]
    out = []
    for raw in batch["metadata"].to_list():
        meta = orjson.loads(raw) if raw else {}
        if by == "url_domain":
            url = next((u for u in (_lookup(meta, k) for k in URL_FIELDS) if isinstance(u, str) and u.strip()), None)
            value = domain_of(url)
        else:
            value = next((v for v in (_lookup(meta, n) for n in names) if v is not None), None)
        out.append(NONE if value is None or value == "" else str(value))
    return out


def _cluster_sizes(batch: pl.DataFrame, field: str) -> list[int]:
    if field in batch.columns:
        return [int(v or 1) for v in batch[field].to_list()]
    return [int(_lookup(orjson.loads(m) if m else {}, field) or 1) for m in batch["metadata"].to_list()]


def count_units(texts: list[str], tokenizer: str) -> list[int]:
    """Whitespace words, or tokens of the named tokenizer (no special tokens)."""
    if tokenizer == "words":
        return [len(t.split()) for t in texts]
    from curation.tokenize import count_tokens, load_tokenizer

    return count_tokens(texts, load_tokenizer(tokenizer))


def target_shares(sizes: dict[str, float], target, temperature: float = 1.0) -> dict[str, float]:
    """p_g over the corpus' groups (and any target group it lacks), summing to 1. ``sizes`` in budget units."""
    if target == "uniform" or (target == "natural" and math.isinf(temperature)):
        raw = {g: 1.0 for g in sizes}
    elif target == "natural":
        raw = {g: float(n) ** (1.0 / temperature) if n > 0 else 0.0 for g, n in sizes.items()}
    else:
        raw = {g: float(target.get(g, 0.0)) for g in sizes} | {g: float(w) for g, w in target.items()}
    total = sum(raw.values())
    return {g: v / total for g, v in raw.items()} if total > 0 else {g: 0.0 for g in raw}


def water_fill(shares: dict[str, float], capacity: dict[str, float], budget: float) -> dict[str, float]:
    """Quota per group: ``budget * p_g``, capped at the group's capacity, the excess spread over the others ∝ p."""
    quota = {g: 0.0 for g in shares}
    active = {g for g, p in shares.items() if p > 0 and capacity.get(g, 0) > 0}
    remaining = float(budget)
    while active and remaining > 1e-9:
        total_p = sum(shares[g] for g in active)
        full = {g for g in active if remaining * shares[g] / total_p >= capacity[g] - quota[g]}
        if not full:
            for g in active:
                quota[g] += remaining * shares[g] / total_p
            break
        for g in full:
            remaining -= capacity[g] - quota[g]
            quota[g] = float(capacity[g])
        active -= full
    return quota


def integer_quotas(quota: dict[str, float], capacity: dict[str, int], budget: int) -> dict[str, int]:
    """Whole document counts: floors, then the largest remainders (Hamilton) within capacity, summing to the budget
    (or to the total capacity when that is smaller)."""
    out = {g: int(math.floor(q + 1e-9)) for g, q in quota.items()}
    left = min(budget, sum(capacity.values())) - sum(out.values())
    for g in sorted(quota, key=lambda g: (-(quota[g] - out[g]), g)):
        if left <= 0:
            break
        if out[g] < capacity.get(g, 0):
            out[g] += 1
            left -= 1
    return out


def rehydrate_weight(size: int, table: dict[int, int]) -> int:
    keys = [k for k in sorted(table) if k <= max(1, size)]
    return table[keys[-1]] if keys else 1


def take_prefix(units: np.ndarray, mult: np.ndarray, u: np.ndarray, quota: float) -> np.ndarray:
    """Copies per document: the copies ordered by (j + u_i)/m_i, the longest prefix whose units fit ``quota``."""
    doc = np.repeat(np.arange(len(units)), mult)
    j = np.arange(len(doc)) - np.repeat(np.cumsum(mult) - mult, mult)
    order = np.lexsort((doc, (j + u[doc]) / mult[doc]))
    cum = np.cumsum(units[doc[order]])
    taken = int(np.searchsorted(cum, quota + 1e-9, side="right"))
    return np.bincount(doc[order[:taken]], minlength=len(units))


def seeded_uniform(sources: list[str], seed: int) -> np.ndarray:
    """One U[0, 1) per document from its ``source`` and the seed: the same wherever the shard boundaries fall."""
    return np.array([xxhash.xxh64_intdigest(s.encode(), seed=seed) / 2**64 for s in sources], dtype=np.float64)


@register_step(MixConfig)
class Mix(GlobalStep):
    config: MixConfig

    def map_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> dict:
        unit, _ = parse_budget(self.config.budget)
        frames = []
        for batch in batches:
            tokens = count_units(batch["text"].to_list(), self.config.tokenizer)
            frames.append(pl.DataFrame({
                "group": group_values(batch, self.config.by),
                "units": [1] * batch.height if unit == "docs" else tokens,
                "tokens": tokens,
                "cluster_size": _cluster_sizes(batch, self.config.cluster_size_field) if self.config.rehydrate
                else [1] * batch.height,
                "u": seeded_uniform(batch["source"].to_list(), self.config.seed),
            }, schema={"group": pl.String, "units": pl.Int64, "tokens": pl.Int64, "cluster_size": pl.Int64,
                       "u": pl.Float64}))
        frame = pl.concat(frames) if frames else pl.DataFrame(schema={"group": pl.String, "units": pl.Int64,
                                                                       "tokens": pl.Int64, "cluster_size": pl.Int64,
                                                                       "u": pl.Float64})
        atomic_write_parquet(ctx.work_dir / f"map-{ctx.key}.parquet", frame.with_row_index("row"))
        return {"documents": frame.height}

    def reduce(self, keys: list[str], work_dir: Path, partitions: int, sources: dict[str, str]) -> dict:
        cfg = self.config
        unit, budget = parse_budget(cfg.budget)
        frame = pl.concat([pl.read_parquet(work_dir / f"map-{k}.parquet").with_columns(pl.lit(k).alias("shard"))
                           for k in keys])
        groups = sorted(set(frame["group"].to_list()))
        sizes = {g: float(s) for g, s in frame.group_by("group").agg(pl.col("units").sum()).iter_rows()}
        shares = target_shares(sizes, cfg.target, cfg.temperature)
        k = cfg.max_upsample
        mult_all = (np.minimum(k, [rehydrate_weight(int(c), cfg.rehydrate_weights) for c in frame["cluster_size"]])
                    if cfg.rehydrate else np.full(frame.height, k)).astype(np.int64)
        frame = frame.with_columns(pl.Series("mult", mult_all))
        capacity = {g: int((part["units"] * part["mult"]).sum()) for (g,), part in frame.group_by("group")}
        quota = water_fill(shares, capacity, budget)
        if unit == "docs":
            quota = integer_quotas(quota, capacity, budget)
        repeats = np.zeros(frame.height, dtype=np.int64)
        idx = frame.with_row_index("i")
        plan = []
        for g in sorted(shares):
            part = idx.filter(pl.col("group") == g)
            if part.height:
                copies = take_prefix(part["units"].to_numpy(), part["mult"].to_numpy(), part["u"].to_numpy(),
                                     quota.get(g, 0.0))
                repeats[part["i"].to_numpy()] = copies
            else:
                copies = np.zeros(0, dtype=np.int64)
            units = part["units"].to_numpy() if part.height else np.zeros(0, dtype=np.int64)
            tokens = part["tokens"].to_numpy() if part.height else np.zeros(0, dtype=np.int64)
            plan.append({
                "group": g, "present": bool(part.height), "documents": int(part.height), "tokens": int(tokens.sum()),
                "target_share": shares[g], "capacity": capacity.get(g, 0), "quota": float(quota.get(g, 0.0)),
                "documents_used": int((copies > 0).sum()), "copies": int(copies.sum()),
                "units_out": int((units * copies).sum()), "tokens_out": int((tokens * copies).sum()),
                "max_repeats": int(copies.max()) if len(copies) else 0,
                "capped": budget * shares[g] > capacity.get(g, 0) + 1e-9,  # wanted more than K x its size
            })
        decisions = frame.select("shard", "row", "group").with_columns(pl.Series("repeats", repeats))
        atomic_write_parquet(work_dir / "decisions.parquet", decisions.sort("shard", "row"))
        stats = {"unit": unit, "budget": budget, "groups": groups, "plan": plan,
                 "units_out": int(sum(p["units_out"] for p in plan)), "copies": int(repeats.sum()),
                 "documents_used": int((repeats > 0).sum()), "documents": int(frame.height),
                 "capacity": int(sum(capacity.values()))}
        atomic_write_json(work_dir / "plan.json", stats)
        return stats

    def apply_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        decisions = pl.read_parquet(ctx.work_dir / "decisions.parquet").filter(pl.col("shard") == ctx.key).sort("row")
        offset = 0
        for batch in batches:
            d = decisions.slice(offset, batch.height)
            offset += batch.height
            batch = batch.with_columns(pl.Series("mix_group", d["group"], dtype=pl.String),
                                       pl.Series("mix_repeats", d["repeats"], dtype=pl.Int64))
            used = batch["mix_repeats"] > 0
            yield batch.filter(used), mark_removed(batch.filter(~used), self.name, "not_sampled")


def load_target(spec: str) -> str | dict[str, float]:
    """``natural``/``uniform``, or a JSON/YAML file mapping group -> weight."""
    if spec in ("natural", "uniform"):
        return spec
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"target {spec!r}: not natural, uniform, or a JSON/YAML file of group -> weight")
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{spec}: expected a mapping group -> weight")
    return {str(g): float(w) for g, w in data.items()}
