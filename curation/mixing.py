"""``winnow mix``'s work: read inputs, run the ``mix`` step (map/reduce/apply, as in a curation run), write the mix.

Outputs beside ``out`` (JSONL):

- ``out``: the mix, each kept document written ``mix_repeats`` times (``mix_copy`` 0..repeats-1), metadata fields
  back at the top level with ``id`` and ``text``, plus ``mix_group``;
- ``out.removed.jsonl``: every document not sampled (reason ``not_sampled``), so input = kept + removed;
- ``out.report.json`` / ``out.report.md``: before/after proportions per group and what the budget bought;
- ``out.work/``: the step's stage files (reruns with the same inputs and config reuse them).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl

from curation.pipeline import InvariantError
from curation.steps.mix import MixConfig
from core.storage import atomic_write_json, atomic_write_text


def side_path(out: str | Path, suffix: str) -> Path:
    out = Path(out)
    return out.with_name(out.name.removesuffix(".jsonl") + suffix)


def _rows(frame: pl.DataFrame, expand: bool) -> bytes:
    buf = bytearray()
    for row in frame.iter_rows(named=True):
        meta = orjson.loads(row.pop("metadata") or "{}")
        row.pop("source", None)
        record = {"id": row.pop("id"), "text": row.pop("text"), **meta,
                  **{k: v for k, v in row.items() if k not in ("duplicate_of", "cluster_id")}}
        if not expand:
            buf += orjson.dumps(record) + b"\n"
            continue
        for copy in range(row.get("mix_repeats") or 1):
            buf += orjson.dumps(record | {"mix_copy": copy}) + b"\n"
    return bytes(buf)


def read_pool(inputs: list[str], text_field: str | None = None) -> tuple[pl.DataFrame, int]:
    """(documents, quarantined lines): plain documents, or instruction pairs recognised by their fields as
    ``winnow select`` does (Alpaca/LIMA, GSM8K, ShareGPT, prompt/response). A pair's ``text`` is prompt and
    response together (what a token budget counts); its response is kept as ``response`` beside its fields."""
    from core.pool import load_pool

    pool = load_pool(inputs, text_field)
    if not len(pool):
        raise ValueError(f"{inputs}: no readable documents ({len(pool.quarantined)} lines quarantined)")
    meta = [orjson.dumps(m | ({"response": r} if p else {})).decode()
            for m, p, r in zip(pool.metadata, pool.prompts, pool.responses)]
    frame = pl.DataFrame({"id": pool.ids, "text": pool.texts, "metadata": meta, "source": pool.sources},
                         schema={"id": pl.String, "text": pl.String, "metadata": pl.String, "source": pl.String})
    return frame, len(pool.quarantined)


def mix_files(inputs: list[str], config: MixConfig, out: str | Path, text_field: str | None = None) -> dict:
    """Runs the mix; returns the report (also written as JSON and markdown)."""
    from curation.runner import run_frames

    frame, n_quarantined = read_pool(inputs, text_field)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = side_path(out, ".work")
    kept, removed = run_frames(config, [frame], work, partitions=1)
    if kept.height + removed.height != frame.height:
        raise InvariantError(f"mix: {frame.height} in, {kept.height} kept + {removed.height} removed")
    plan = orjson.loads((work / "run" / "_stages" / "01-mix" / "work" / "plan.json").read_bytes())
    atomic_write_text(out, _rows(kept, expand=True).decode())
    atomic_write_text(side_path(out, ".removed.jsonl"), _rows(removed, expand=False).decode())
    report = build_report(config, plan, frame.height, kept.height, removed.height, n_quarantined, out)
    atomic_write_json(side_path(out, ".report.json"), report)
    atomic_write_text(side_path(out, ".report.md"), render_markdown(report))
    return report


def build_report(config: MixConfig, plan: dict, n_input: int, n_kept: int, n_removed: int, n_quarantined: int,
                 out: Path) -> dict:
    unit = plan["unit"]
    units_in = sum(p["documents"] if unit == "docs" else p["tokens"] for p in plan["plan"]) or 1
    units_out = plan["units_out"] or 1
    rows = []
    for p in plan["plan"]:
        before = (p["documents"] if unit == "docs" else p["tokens"]) / units_in
        rows.append({"group": p["group"], "documents_in": p["documents"], "tokens_in": p["tokens"],
                     "share_before": before, "target_share": p["target_share"],
                     "share_after": p["units_out"] / units_out, "documents_used": p["documents_used"],
                     "copies_out": p["copies"], "tokens_out": p["tokens_out"], "max_repeats": p["max_repeats"],
                     "capped": p["capped"], "present": p["present"]})
    return {
        "config": orjson.loads(config.model_dump_json()), "unit": unit, "budget": plan["budget"],
        "spent": plan["units_out"], "shortfall": max(0, plan["budget"] - plan["units_out"]),
        "shortfall_cause": "the corpus cannot supply more under the upsampling cap" if plan["capacity"] < plan["budget"]
        else "documents are whole: each group stops before its token quota would be exceeded",
        "input": n_input, "kept": n_kept, "removed": n_removed, "quarantined": n_quarantined,
        "removed_reasons": {"not_sampled": n_removed}, "copies_out": plan["copies"],
        "repeated_copies": plan["copies"] - n_kept, "groups": rows,
        "outputs": {"mix": str(out.resolve()), "removed": str(side_path(out, ".removed.jsonl").resolve())},
    }


def render_markdown(report: dict) -> str:
    c, unit = report["config"], "documents" if report["unit"] == "docs" else f"tokens ({report['config']['tokenizer']})"
    target = c["target"] if isinstance(c["target"], str) else "file weights"
    lines = [
        f"# Mix by `{c['by']}`: budget {report['budget']:,} {unit}",
        "",
        f"- target: {target}, temperature {c['temperature']}, max upsample {c['max_upsample']}x, "
        f"rehydrate {c['rehydrate']}, seed {c['seed']}",
        f"- spent {report['spent']:,} of {report['budget']:,} {unit}"
        + (f" (short by {report['shortfall']:,}: {report['shortfall_cause']})" if report["shortfall"] else ""),
        f"- input {report['input']:,} = kept {report['kept']:,} + removed (not_sampled) {report['removed']:,}; "
        f"{report['quarantined']} lines quarantined",
        f"- output {report['copies_out']:,} rows, of which {report['repeated_copies']:,} are repeats",
        "",
        "| group | docs in | share before | target | share after | docs used | rows out | tokens out | max repeats |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for g in report["groups"]:
        flag = " (capped)" if g["capped"] else "" if g["present"] else " (absent)"
        lines.append(f"| {g['group']}{flag} | {g['documents_in']:,} | {g['share_before']:.3f} "
                     f"| {g['target_share']:.3f} "
                     f"| {g['share_after']:.3f} | {g['documents_used']:,} | {g['copies_out']:,} | {g['tokens_out']:,} "
                     f"| {g['max_repeats']} |")
    return "\n".join(lines) + "\n"
