"""The curation report: ``report.json`` (stable keys other tools read), ``report.md`` and ``report.png``."""

from __future__ import annotations

import json
from pathlib import Path

from curation.storage import atomic_write_json, atomic_write_text

REPORT_KEYS = ("input", "kept", "removed", "quarantined", "steps")


def load_report(run_dir: str | Path) -> dict:
    path = Path(run_dir) / "report.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no report here (is {run_dir} a `winnow curate` output directory?)")
    report = json.loads(path.read_text())
    missing = [k for k in REPORT_KEYS if k not in report]
    if missing:
        raise ValueError(f"{path}: not a winnow curation report (missing {', '.join(missing)})")
    return report


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def render_markdown(report: dict) -> str:
    n = report["input"]
    ok = "holds" if report.get("invariant_ok") else "BROKEN"
    lines = [
        "# winnow curation report",
        "",
        f"**{report['kept']:,} of {n:,} documents kept ({_pct(report['kept'], n)})**",
        "",
        f"Invariant {ok}: input {n:,} = kept {report['kept']:,} + removed {report['removed']:,} "
        f"+ quarantined {report['quarantined']:,}",
        "",
        "| # | step | in | kept | removed | % removed | seconds | reused |",
        "|---|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for i, s in enumerate(report["steps"]):
        dropped = s["removed"] + s.get("quarantined", 0)
        lines.append(
            f"| {i} | {s['name']} | {s['input']:,} | {s['kept']:,} | {dropped:,} | {_pct(dropped, s['input'])} "
            f"| {s['seconds']:.2f} | {'yes' if s.get('reused') else ''} |"
        )
    lines += ["", "## Why documents left", "", "| step | reason | documents |", "|---|---|---:|"]
    for s in report["steps"]:
        for reason, count in s.get("reasons", {}).items():
            lines.append(f"| {s['name']} | {reason} | {count:,} |")
    stats = [(s["name"], s["stats"]) for s in report["steps"] if s.get("stats")]
    if stats:
        lines += ["", "## Global step details", ""]
        lines += [f"- {name}: " + ", ".join(f"{k} {v}" for k, v in st.items()) for name, st in stats]
    from curation.corpus_stats import corpus_markdown

    lines += corpus_markdown(report)  # tokens, PII, top domains (when the run has them)
    outputs = report.get("outputs", {})
    if outputs:
        lines += ["", "## Files", "", f"- kept: `{outputs.get('kept')}/`", f"- removed: `{outputs.get('removed')}/NN-step/`",
                  f"- quarantine: `{outputs.get('quarantine')}/`", "- plot: `report.png`"]
    return "\n".join(lines) + "\n"


def render_plot(report: dict, path: Path) -> None:
    """Documents left after each step (left) and the drop reasons (right): the two things people look for."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = report["steps"]
    names = ["input"] + [s["name"] for s in steps]
    left = [report["input"]] + [s["kept"] for s in steps]
    reasons = [(f"{s['name']}: {r}", c) for s in steps for r, c in s.get("reasons", {}).items()]
    reasons = sorted(reasons, key=lambda rc: rc[1])[-20:]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 1.2]})
    ax1.plot(range(len(names)), left, marker="o", color="#2b6cb0")
    for x, y in enumerate(left):
        ax1.annotate(f"{y:,}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax1.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
    ax1.set_ylabel("documents left")
    ax1.set_ylim(0, max(left) * 1.15 if max(left) else 1)
    ax1.set_title("Documents left after each step")
    ax1.grid(axis="y", alpha=0.3)
    if reasons:
        ax2.barh([r for r, _ in reasons], [c for _, c in reasons], color="#c05621")
        ax2.tick_params(axis="y", labelsize=7)
    ax2.set_xlabel("documents removed")
    ax2.set_title("Why documents left (top 20)")
    fig.suptitle(
        f"{report['kept']:,} kept / {report['removed']:,} removed / {report['quarantined']:,} quarantined "
        f"of {report['input']:,}",
        fontsize=10,
    )
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def write_report(run_dir: str | Path, report: dict) -> dict:
    run = Path(run_dir)
    report.setdefault("outputs", {})["report_md"] = str(run / "report.md")
    report["outputs"]["plot"] = str(run / "report.png")
    render_plot(report, run / "report.png")
    atomic_write_text(run / "report.md", render_markdown(report))
    atomic_write_json(run / "report.json", report)
    return report
