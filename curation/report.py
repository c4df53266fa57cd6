"""The curation report: ``report.json`` (stable keys other tools read), ``report.md`` and ``report.png``.

Drop alarm: a step that removes more than ``drop_alarm`` (a run setting, default 0.9) of the documents it was
given gets a ``warnings`` entry naming the step, its share and its top reasons (an English pipeline pointed at a
Chinese shard loses everything at langid, which a user should see before trusting the output). With
``strict`` the run fails once the report is written (``DropAlarmError``).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.storage import atomic_write_json, atomic_write_text
from curation.records import CurationReport

REPORT_KEYS = ("input", "kept", "removed", "quarantined", "steps")
DEFAULT_DROP_ALARM = 0.9
TOP_REASONS = 3


class DropAlarmError(RuntimeError):
    """A strict run where a step removed more than the drop-alarm share of its input."""


def drop_alarms(steps: list[dict], threshold: float = DEFAULT_DROP_ALARM) -> list[dict]:
    """One warning per step (the read stage counts its quarantine) removing more than ``threshold`` of its input.

    ``steps``: report.json's step rows (``StageSummary.report_row``); the warnings are report.json's too."""
    warnings = []
    for position, s in enumerate(steps):
        dropped = s["removed"] + s.get("quarantined", 0)
        if not s["input"] or dropped / s["input"] <= threshold:
            continue
        share = dropped / s["input"]
        top = dict(sorted(s.get("reasons", {}).items(), key=lambda rc: -rc[1])[:TOP_REASONS])
        reasons = ", ".join(f"{r} {c:,}" for r, c in top.items()) or "none recorded"
        warnings.append({
            "kind": "drop_alarm", "step": s["name"], "position": position, "input": s["input"], "removed": dropped,
            "share": round(share, 4), "threshold": threshold, "top_reasons": top,
            "message": (f"drop alarm: {s['name']} removed {100 * share:.1f}% of its input ({dropped:,} of "
                        f"{s['input']:,} documents; alarm above {100 * threshold:g}%); top reasons: {reasons}. "
                        f"Check that the step's settings fit this data before trusting the output."),
        })
    return warnings


def alarm_error(report: CurationReport | dict) -> DropAlarmError | None:
    """The error a strict run ends with when drop alarms fired (raised after the report is on disk), else None.

    ``report``: the written report, or report.json's dict as ``curation.execute`` returns it."""
    if isinstance(report, dict):
        report = CurationReport.from_json(report)
    if not report.warnings:
        return None
    where = report.outputs.get("report_md", "report.md")
    return DropAlarmError("strict run failed: " + " | ".join(w["message"] for w in report.warnings)
                          + f" (report: {where})")


def load_report(run_dir: str | Path) -> CurationReport:
    """``RUN_DIR/report.json`` as a ``CurationReport`` (``.as_json()`` gives the file's dict back, keys in order).

    Raises FileNotFoundError without the file, ValueError when it lacks ``REPORT_KEYS``."""
    path = Path(run_dir) / "report.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no report here (is {run_dir} a `winnow curate` output directory?)")
    report = json.loads(path.read_text())
    missing = [k for k in REPORT_KEYS if k not in report]
    if missing:
        raise ValueError(f"{path}: not a winnow curation report (missing {', '.join(missing)})")
    return CurationReport.from_json(report)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def render_markdown(report: CurationReport) -> str:
    n = report.input
    ok = "holds" if report.invariant_ok else "BROKEN"
    warnings = report.warnings or []
    lines = ["# winnow curation report", ""]
    for w in warnings:
        lines += [f"> **WARNING** {w['message']}", ">"]
    if warnings:
        lines[-1] = ""
    lines += [
        f"**{report.kept:,} of {n:,} documents kept ({_pct(report.kept, n)})**",
        "",
        f"Invariant {ok}: input {n:,} = kept {report.kept:,} + removed {report.removed:,} "
        f"+ quarantined {report.quarantined:,}",
        "",
        "| # | step | in | kept | removed | % removed | seconds | reused |",
        "|---|---|---:|---:|---:|---:|---:|:---:|",
    ]
    alarmed = {w["position"] for w in warnings}
    for i, s in enumerate(report.steps):
        dropped = s.removed + (s.quarantined or 0)
        lines.append(
            f"| {i} | {s.name}{' **(drop alarm)**' if i in alarmed else ''} | {s.input:,} | {s.kept:,} | {dropped:,} | {_pct(dropped, s.input)} "
            f"| {s.seconds:.2f} | {'yes' if s.reused else ''} |"
        )
    lines += ["", "## Why documents left", "", "| step | reason | documents |", "|---|---|---:|"]
    for s in report.steps:
        for reason, count in s.reasons.items():
            lines.append(f"| {s.name} | {reason} | {count:,} |")
    unjudged = [(s.name, s.unjudged) for s in report.steps if s.unjudged]
    if unjudged:
        lines += ["", "## Passed through unjudged", "",
                  "These rules count words split at spaces (and Gopher quality English stop words): they cannot judge "
                  "these documents, so they kept them without a verdict (column `unjudged` on each document).", "",
                  "| step | language or script | documents |", "|---|---|---:|"]
        lines += [f"| {name} | {lang} | {count:,} |" for name, counts in unjudged for lang, count in counts.items()]
    stats = [(s.name, s.stats) for s in report.steps if s.stats]
    if stats:
        lines += ["", "## Global step details", ""]
        lines += [f"- {name}: " + ", ".join(f"{k} {v}" for k, v in st.items()) for name, st in stats]
    from curation.corpus_stats import corpus_markdown

    lines += corpus_markdown({"corpus": report.corpus})  # tokens, PII, top domains (when the run has them)
    outputs = report.outputs
    if outputs:
        lines += ["", "## Files", "", f"- kept: `{outputs.get('kept')}/`", f"- removed: `{outputs.get('removed')}/NN-step/`",
                  f"- quarantine: `{outputs.get('quarantine')}/`", "- plot: `report.png`"]
    return "\n".join(lines) + "\n"


def render_plot(report: CurationReport, path: Path) -> None:
    """Documents left after each step (left) and the drop reasons (right): the two things people look for."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = report.steps
    names = ["input"] + [s.name for s in steps]
    left = [report.input] + [s.kept for s in steps]
    reasons = [(f"{s.name}: {r}", c) for s in steps for r, c in s.reasons.items()]
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
        f"{report.kept:,} kept / {report.removed:,} removed / {report.quarantined:,} quarantined "
        f"of {report.input:,}",
        fontsize=10,
    )
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def write_report(run_dir: str | Path, report: CurationReport) -> CurationReport:
    """Adds ``warnings`` (drop alarms at the run's ``drop_alarm`` share) and the report paths to ``outputs``, then
    writes report.png/.md/.json; returns the same report."""
    run = Path(run_dir)
    threshold = report.config.get("drop_alarm", DEFAULT_DROP_ALARM)
    report.warnings = drop_alarms([s.report_row() for s in report.steps], threshold)
    report.outputs["report_md"] = str(run / "report.md")
    report.outputs["plot"] = str(run / "report.png")
    render_plot(report, run / "report.png")
    atomic_write_text(run / "report.md", render_markdown(report))
    atomic_write_json(run / "report.json", report.as_json())
    return report
