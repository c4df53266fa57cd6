"""One eval-report schema (JSON): metrics with intervals, the config, data hashes, versions and hardware.

Every metric says which direction is better, so ``compare`` can give a verdict without knowing the metric.
Rendered to Markdown and a PNG (loss curves per arm, latency distribution) next to the JSON.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import time
from pathlib import Path

from pydantic import BaseModel, Field

from core.storage import atomic_write_text


class Metric(BaseModel):
    """One reported number. ``mean`` is the estimate (a seed mean, or the percentile named by ``statistic``);
    ``values`` are the observations behind it (per seed, or per request; a request's inter-token gaps are one
    inner list) so ``compare`` can difference two reports properly; ``keys`` name the seeds of ``values`` so
    arms that ran the same seeds are compared paired. ``baseline`` is the trivial score to beat (unigram loss,
    majority-class accuracy), printed beside the value."""

    mean: float | None
    ci95: list[float] | None = None
    stderr: float | None = None
    n: int | None = None
    higher_is_better: bool = True
    unit: str = ""
    statistic: str = "mean"  # mean | p50 | p90 | p99 | value (one measurement: no interval)
    values: list[float] | list[list[float]] | None = None
    keys: list[str] | None = None
    baseline: float | None = None
    baseline_name: str | None = None


class EvalReport(BaseModel):
    name: str
    created: str = Field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    metrics: dict[str, Metric] = Field(default_factory=dict)
    config: dict = Field(default_factory=dict)
    data: dict = Field(default_factory=dict)          # manifest / file hashes of what was trained and evaluated on
    versions: dict = Field(default_factory=dict)
    hardware: dict = Field(default_factory=dict)
    curves: dict = Field(default_factory=dict)        # name -> list of {x, y} points (loss curves)
    details: dict = Field(default_factory=dict)

    def save(self, directory: str | Path) -> dict:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        atomic_write_text(d / "eval_report.json", self.model_dump_json(indent=2) + "\n")
        atomic_write_text(d / "eval_report.md", render_markdown(self))
        paths = {"json": str((d / "eval_report.json").resolve()), "markdown": str((d / "eval_report.md").resolve())}
        if self.curves:
            paths["plot"] = str(plot_curves(self, d / "eval_report.png").resolve())
        return paths

    @classmethod
    def load(cls, path: str | Path) -> "EvalReport":
        p = Path(path)
        return cls.model_validate_json((p / "eval_report.json" if p.is_dir() else p).read_text())


def environment() -> tuple[dict, dict]:
    versions = {}
    for pkg in ("winnow", "torch", "transformers", "sentence-transformers", "prefect"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    from evals.backends import vllm_version

    if (vllm := vllm_version()) is not None:
        versions["vllm"] = vllm
    hardware = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                "cpus": os.cpu_count()}
    try:
        import torch

        if torch.cuda.is_available():
            hardware["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return versions, hardware


def fmt(m: Metric) -> str:
    """``value [95% interval] unit``, and the trivial baseline beside it when the metric has one."""
    if m.mean is None:
        return "n/a"
    ci = f" [{m.ci95[0]:.4g}, {m.ci95[1]:.4g}]" if m.ci95 else ""
    base = f" ({m.baseline_name or 'baseline'} {m.baseline:.4g})" if m.baseline is not None else ""
    return f"{m.mean:.4g}{ci}{(' ' + m.unit) if m.unit else ''}{base}"


def render_markdown(r: EvalReport) -> str:
    lines = [f"# Eval report: {r.name}", "", f"- created: {r.created}",
             f"- versions: {', '.join(f'{k} {v}' for k, v in r.versions.items())}",
             f"- hardware: {r.hardware.get('gpu') or r.hardware.get('processor')} ({r.hardware.get('cpus')} CPUs)", "",
             "| metric | value [95% interval] (trivial baseline) | better |", "| --- | --- | --- |"]
    for key, m in sorted(r.metrics.items()):
        lines.append(f"| {key} | {fmt(m)} | {'higher' if m.higher_is_better else 'lower'} |")
    if r.data:
        lines += ["", "## Data", ""] + [f"- {k}: `{v}`" for k, v in r.data.items()]
    return "\n".join(lines) + "\n"


def plot_curves(r: EvalReport, path: Path) -> Path:
    """Loss curves; beside them, when the report has serving latencies, their distributions (ECDF)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    latencies = r.details.get("serving_latencies") or {}
    fig, axes = plt.subplots(1, 2 if latencies else 1, figsize=(12 if latencies else 7, 4), squeeze=False)
    ax = axes[0][0]
    for name, points in sorted(r.curves.items()):
        ax.plot([p["x"] for p in points], [p["y"] for p in points], label=name, alpha=0.85)
    ax.set_xlabel("training tokens")
    ax.set_ylabel("loss (nats/token)")
    ax.set_title(r.name)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    if latencies:
        lat = axes[0][1]
        for name, values in sorted(latencies.items()):
            x = np.sort(np.asarray(values, dtype=float))
            lat.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label=name)
        lat.set_xlabel("seconds")
        lat.set_ylabel("fraction of requests")
        lat.set_title("serving latency (ECDF)")
        lat.grid(alpha=0.3)
        lat.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
