"""``select(pool, budget, strategy, target=None) -> Selection``: one API for every subset-selection strategy.

The budget controller walks a strategy's picks in order and stops at the budget; optional per-group caps
(domain, label, source) skip picks whose group is full. The manifest lists every selected id with its rank,
score, reason, strategy and seed, so a subset can be rebuilt and audited.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from selection.budget import Budget, token_counts
from core.pool import Pool, load_pool
from selection.strategies import NEEDS_TARGET, STRATEGIES, Context, SelectParams

__all__ = ["Budget", "Pool", "SelectParams", "Selection", "load_pool", "select", "STRATEGIES"]


@dataclass
class Selection:
    rows: list[dict]
    summary: dict
    context: Context = field(repr=False)

    @property
    def indices(self) -> list[int]:
        return [r["index"] for r in self.rows]

    @property
    def ids(self) -> list[str]:
        return [r["id"] for r in self.rows]

    def write(self, manifest: str | Path) -> Path:
        """Manifest JSONL (one selected item per line) and ``<manifest>.summary.json`` beside it."""
        from core.storage import atomic_write_json, atomic_write_text

        path = Path(manifest)
        atomic_write_text(path, "".join(orjson.dumps({k: v for k, v in r.items() if k != "index"}).decode() + "\n"
                                        for r in self.rows))
        atomic_write_json(summary_path(path), self.summary)
        return path


def summary_path(manifest: str | Path) -> Path:
    path = Path(manifest)
    return path.with_name(path.name.removesuffix(".jsonl") + ".summary.json")


def select(pool: Pool, budget: str | int | float | Budget, strategy: str, target: Pool | None = None,
           seed: int = 0, params: SelectParams | None = None, embed=None, cache: dict | None = None) -> Selection:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: one of {', '.join(STRATEGIES)}")
    if strategy in NEEDS_TARGET and (target is None or not len(target)):
        raise ValueError(f"strategy {strategy!r} needs a target set (--target TASK.jsonl) to select toward")
    start = time.perf_counter()
    budget = Budget.parse(budget)
    params = params or SelectParams()
    ctx = Context(pool=pool, seed=seed, params=params, target=target, embed=embed, cache=cache if cache is not None else {})
    want = budget.count(len(pool))
    tokens = token_counts(pool.texts) if budget.kind == "tokens" else None
    smallest = min(tokens) if tokens else 0
    cap, groups, used = _caps(pool, params, want, budget)
    rows: list[dict] = []
    spent = capped = 0
    if want != 0 and len(pool):
        for i, score, reason in STRATEGIES[strategy](ctx):
            if want is not None and len(rows) >= want:
                break
            if tokens is not None and spent + tokens[i] > budget.value:
                if budget.value - spent < smallest:
                    break
                continue  # too long for what is left; a shorter item may still fit
            if groups is not None:
                if used.get(groups[i], 0) >= cap:
                    capped += 1
                    continue
                used[groups[i]] = used.get(groups[i], 0) + 1
            spent += tokens[i] if tokens is not None else 0
            rows.append({"id": pool.ids[i], "index": i, "rank": len(rows), "score": _finite(score), "reason": reason,
                         "strategy": strategy, "seed": seed, "source": pool.sources[i]}
                        | ({"tokens": tokens[i]} if tokens is not None else {}))
    summary = {
        "strategy": strategy, "seed": seed, "budget": {"kind": budget.kind, "value": budget.value, "text": str(budget)},
        "pool_size": len(pool), "selected": len(rows), "quarantined": len(pool.quarantined),
        "tokens_selected": spent if tokens is not None else None,
        "tokens_pool": sum(tokens) if tokens is not None else None,
        "target_size": len(target) if target is not None else None,
        "note": None if rows else budget.empty_reason(len(pool), smallest if tokens else None),
        "skipped_by_group_cap": capped, "group_cap": cap, "params": asdict(params),
        "seconds": round(time.perf_counter() - start, 3),
    }
    return Selection(rows, summary, ctx)


def _finite(x: float) -> float | None:
    return x if x == x and abs(x) != float("inf") else None


def _caps(pool: Pool, params: SelectParams, want: int | None, budget: Budget):
    if not params.balance_by or params.max_per_group is None:
        return None, None, {}
    if params.max_per_group >= 1:
        cap = int(params.max_per_group)
    else:
        if want is None:
            raise ValueError("a fractional max_per_group needs a count or fraction budget; give a count for tokens")
        cap = max(1, math.ceil(params.max_per_group * want))  # rounded up: caps must not make the budget unreachable
    return cap, pool.group(params.balance_by), {}
