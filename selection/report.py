"""Selection report: Markdown summary plus a PNG with a 2-D projection of pool vs selected and the scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.storage import atomic_write_text


def render_markdown(summary: dict, rows: list[dict], manifest: str) -> str:
    b = summary["budget"]
    lines = [
        f"# Selection: {summary['strategy']} (seed {summary['seed']})", "",
        f"- pool: **{summary['pool_size']:,}** items ({summary['quarantined']} quarantined lines)",
        f"- budget: {b['text']} -> selected **{summary['selected']:,}**"
        + (f" items, {summary['tokens_selected']:,} of {summary['tokens_pool']:,} pool tokens"
           if summary.get("tokens_selected") is not None else " items"),
    ]
    if summary.get("note"):
        lines += ["", f"**Note: {summary['note']}**", ""]
    if summary.get("target_size"):
        lines.append(f"- target examples: {summary['target_size']:,}")
    if summary.get("group_cap"):
        lines.append(f"- cap per {summary['params']['balance_by']}: {summary['group_cap']} "
                     f"({summary['skipped_by_group_cap']} picks skipped at the cap)")
    lines += [f"- manifest: `{manifest}`", f"- took {summary['seconds']:.1f} s", "",
              "| rank | id | score | reason |", "| ---: | --- | ---: | --- |"]
    for r in rows[:20]:
        score = "" if r["score"] is None else f"{r['score']:.4g}"
        lines.append(f"| {r['rank']} | `{r['id']}` | {score} | {r['reason']} |")
    if len(rows) > 20:
        lines.append(f"| ... | {len(rows) - 20:,} more in the manifest | | |")
    return "\n".join(lines) + "\n"


def plot(summary: dict, rows: list[dict], embeddings: np.ndarray | None, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    if embeddings is not None and len(embeddings) > 2:
        centred = embeddings - embeddings.mean(0)
        _, _, vt = np.linalg.svd(centred[:: max(1, len(centred) // 20000)], full_matrices=False)
        xy = centred @ vt[:2].T
        chosen = np.array([r["index"] for r in rows], dtype=int)
        ax.scatter(xy[:, 0], xy[:, 1], s=4, c="lightgrey", label=f"pool ({len(xy):,})")
        ax.scatter(xy[chosen, 0], xy[chosen, 1], s=9, c="tab:red", label=f"selected ({len(chosen):,})")
        ax.legend(fontsize=8, loc="best")
        ax.set_title("embeddings, first two principal components")
    else:
        ax.text(0.5, 0.5, "no embeddings computed\n(strategy does not use them)", ha="center", va="center")
        ax.set_axis_off()
    scores = [r["score"] for r in rows if r["score"] is not None]
    ax = axes[1]
    if scores and summary["strategy"] != "random":
        ax.hist(scores, bins=40, color="tab:red", alpha=0.8)
        ax.set_xlabel("score of selected items")
        ax.set_ylabel("items")
        ax.set_title(f"{summary['strategy']} scores")
    else:
        ax.text(0.5, 0.5, "random order: no score", ha="center", va="center")
        ax.set_axis_off()
    fig.suptitle(f"{summary['strategy']}: {summary['selected']:,} of {summary['pool_size']:,} selected")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(selection, manifest: str | Path) -> dict:
    manifest = Path(manifest)
    stem = manifest.with_name(manifest.name.removesuffix(".jsonl"))
    md = stem.with_name(stem.name + ".report.md")
    png = stem.with_name(stem.name + ".report.png")
    atomic_write_text(md, render_markdown(selection.summary, selection.rows, str(manifest)))
    plot(selection.summary, selection.rows, selection.context.cache.get("embeddings"), png)
    return {"markdown": str(md.resolve()), "plot": str(png.resolve())}
