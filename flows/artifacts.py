"""Publishes a run's report to Prefect as keyed artifacts (markdown summary, per-step table, plot link)."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE as NO_CACHE

from curation.report import render_markdown


@task(name="publish-report", cache_policy=NO_CACHE)
def publish_curation_report(report: dict, key_prefix: str = "curation") -> None:
    create_markdown_artifact(render_markdown(report), key=f"{key_prefix}-report", description="curation report")
    create_table_artifact(
        [
            {"step": s["name"], "input": s["input"], "kept": s["kept"], "removed": s["removed"] + s.get("quarantined", 0),
             "seconds": s["seconds"]}
            for s in report["steps"]
        ],
        key=f"{key_prefix}-steps",
        description="documents in / kept / removed per step",
    )
    domains = (report.get("corpus") or {}).get("domains")
    if domains:
        create_table_artifact(domains, key=f"{key_prefix}-domains",
                              description="documents (and tokens, with a tokenize step) kept / removed per top domain")
    plot = report.get("outputs", {}).get("plot")
    if plot:
        create_link_artifact(f"file://{plot}", link_text="report.png", key=f"{key_prefix}-plot",
                             description="documents left per step and drop reasons")
