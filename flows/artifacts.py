"""Publishes a run's report to Prefect as keyed artifacts (markdown summary, per-step table, plot link).

``report_artifacts`` builds them once; the ``publish-report`` task of the Prefect flow creates them in its run,
``flows.run_recorder`` for a flow run it records.
"""

from __future__ import annotations

from uuid import UUID

from prefect import task
from prefect.artifacts import Artifact, LinkArtifact, MarkdownArtifact, TableArtifact
from prefect.cache_policies import NONE as NO_CACHE

from curation.records import CurationReport
from curation.report import render_markdown


def report_artifacts(report: CurationReport, key_prefix: str = "curation",
                     flow_run_id: UUID | None = None) -> list[Artifact]:
    """The report as Prefect artifacts (keys ``{key_prefix}-report``, ``-steps``, ``-domains``, ``-plot``).

    ``flow_run_id``: attach them to that run (else to the current flow/task run when created)."""
    run = {"flow_run_id": flow_run_id} if flow_run_id else {}
    artifacts: list[Artifact] = [
        MarkdownArtifact(markdown=render_markdown(report), key=f"{key_prefix}-report",
                         description="curation report", **run),
        TableArtifact(table=[{"step": s.name, "input": s.input, "kept": s.kept,
                              "removed": s.removed + (s.quarantined or 0), "seconds": s.seconds}
                             for s in report.steps],
                      key=f"{key_prefix}-steps", description="documents in / kept / removed per step", **run),
    ]
    domains = (report.corpus or {}).get("domains")
    if domains:
        artifacts.append(TableArtifact(
            table=domains, key=f"{key_prefix}-domains", **run,
            description="documents (and tokens, with a tokenize step) kept / removed per top domain"))
    plot = report.outputs.get("plot")
    if plot:
        artifacts.append(LinkArtifact(link=f"file://{plot}", link_text="report.png", key=f"{key_prefix}-plot",
                                      description="documents left per step and drop reasons", **run))
    return artifacts


@task(name="publish-report", cache_policy=NO_CACHE)
def publish_curation_report(report: CurationReport, key_prefix: str = "curation") -> None:
    for artifact in report_artifacts(report, key_prefix):
        artifact.create(_sync=True)  # the sync path (async_dispatch would pick async in an event loop)
