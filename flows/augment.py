"""Augmentation flow: EDA edits of a small labelled pool, each kept only when its kNN label agrees with its parent's."""

from __future__ import annotations

from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE

from selection.augment import AugmentParams, augment_file
from selection.augment.eda import OPERATIONS
from core.config_types import Fraction, PositiveInt, Seed


@task(name="augment-file", cache_policy=NO_CACHE)
def augment_task(pool: list[str], out: str, params: AugmentParams, text_field: str, label_field: str) -> dict:
    return augment_file(pool, out, params, text_field=text_field, label_field=label_field)


def render_markdown(summary: dict) -> str:
    p = summary["params"]
    rows = "".join(f"| {op} | {c['made']} | {c['kept']} | {c['dropped_label_check']} | {c['unchanged']} |\n"
                   for op, c in summary["operations"].items())
    rule = {"label": "must equal the parent's label",
            "flip": "must equal the parent's label where the parent's own kNN vote does"}[p["check_rule"]]
    check = f"kNN label of the edit (k = {p['k']} originals, parent left out) {rule}" if p["check"] \
        else "off (--no-check)"
    return (f"# Augmentation (EDA)\n\n- pool: {summary['pool_size']} labelled items ({summary['unlabelled']} without "
            f"a label, {summary['quarantined']} quarantined lines)\n- alpha {p['alpha']}, {p['per_item']} edit(s) per "
            f"item and operation, seed {p['seed']}\n- label check: {check}\n\n"
            f"| operation | made | kept | dropped by label check | unchanged |\n|---|---|---|---|---|\n{rows}\n"
            f"- kept {summary['kept']} of {summary['made']} edits; output `{summary['out']}` ({summary['written']} "
            f"lines), dropped edits `{summary['dropped_file']}`\n")


@flow(name="augment_pool", log_prints=True)
def augment_pool(pool: list[str], out: str = "runs/augment/augmented.jsonl", ops: list[str] = list(OPERATIONS),
                 per_item: PositiveInt = 1, alpha: Fraction = 0.1, seed: Seed = 0, k: PositiveInt = 5,
                 check: bool = True, check_rule: Literal["label", "flip"] = "flip", text_field: str = "text",
                 label_field: str = "label") -> dict:
    """EDA edits (synonym, insert, swap, delete) of every labelled item with parent_id and operation; edits that
    move the text to another label's neighbourhood are dropped (written to OUT.dropped.jsonl)."""
    params = AugmentParams(ops=ops, per_item=per_item, alpha=alpha, seed=seed, k=k, check=check,
                           check_rule=check_rule)
    summary = augment_task(pool, out, params, text_field, label_field)
    create_markdown_artifact(render_markdown(summary), key="augmentation-report",
                             description="EDA operations: edits made, kept, dropped by the label check")
    get_run_logger().info("augmented %s items: kept %s of %s edits", summary["pool_size"], summary["kept"],
                          summary["made"])
    return summary
