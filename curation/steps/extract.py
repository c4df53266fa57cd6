"""HTML to its main text (article body), with the page title kept in ``metadata.title``.

The HTML comes from the ``text`` column: WARC input (``core.warc``) puts the decoded page there, and any
JSONL/Parquet shard does the same with ``--text-field html``. Two maintained extractors are offered:

- ``trafilatura`` (default): the better of the two on the article-extraction benchmark and the one FineWeb
  uses, with FineWeb's (datatrove's) setting ``favor_precision=True`` and no comments. The page is parsed once
  (``load_html``); the title is trafilatura's ``extract_title`` on that tree and the text ``bare_extraction``'s
  without metadata (dates and authors would cost a third of the extraction time). Measured by
  ``benchmarks/extraction_quality.py`` on the 140 staged pages: token F1 0.960 (precision) vs 0.956 (balanced);
  the benchmark's stored trafilatura 2.0.0 predictions score 0.953 on the same pages (0.958 published on 181).
- ``resiliparse``: ``extract_plain_text(main_content=True)``, the extractor DCLM uses: several times faster,
  lower precision.

A page with no extractable text is removed as ``extract_no_text`` and keeps its HTML in ``removed/``, so nothing
is lost; a page the extractor fails on is removed as ``extract_failed`` the same way.
"""

from __future__ import annotations

from typing import Literal

import orjson
import polars as pl
from pydantic import Field

from curation.steps.base import Step, StepConfig, register_step, split_by_reason


class ExtractConfig(StepConfig, step="extract"):
    extractor: Literal["trafilatura", "resiliparse"] = Field(
        "trafilatura",
        description="trafilatura (higher F1) or resiliparse (faster); see benchmarks/extraction_quality.py")
    include_comments: bool = Field(False, description="keep reader comments below an article (trafilatura)")
    include_tables: bool = Field(True, description="keep text inside <table> (trafilatura)")
    favor: Literal["balanced", "precision", "recall"] = Field(
        "precision", description="trafilatura's favor_precision / favor_recall switches (datatrove: precision)")
    min_chars: int = Field(1, ge=1, le=1_000_000, description="extracted texts shorter than this are removed")


def _trafilatura(html: str, url: str | None, cfg: ExtractConfig) -> tuple[str, str | None]:
    import trafilatura
    from trafilatura.metadata import extract_title
    from trafilatura.utils import load_html

    tree = load_html(html)  # parsed once for the title and the text
    if tree is None:
        return "", None
    title = extract_title(tree)  # <title>/<h1> heuristics; full metadata (dates, authors) costs a third of the time
    doc = trafilatura.bare_extraction(
        tree, url=url, with_metadata=False, include_comments=cfg.include_comments, include_tables=cfg.include_tables,
        favor_precision=cfg.favor == "precision", favor_recall=cfg.favor == "recall",
    )
    return (doc.text or "" if doc is not None else ""), title


def _resiliparse(html: str, url: str | None, cfg: ExtractConfig) -> tuple[str, str | None]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    return extract_plain_text(tree, main_content=True, comments=cfg.include_comments), (tree.title or None)


EXTRACTORS = {"trafilatura": _trafilatura, "resiliparse": _resiliparse}


def extract_html(html: str, cfg: ExtractConfig | None = None, url: str | None = None) -> tuple[str, str | None]:
    """(main text, title or None) of one HTML page; the text is '' when nothing was found."""
    cfg = cfg or ExtractConfig()
    text, title = EXTRACTORS[cfg.extractor](html, url, cfg)
    return text.strip(), (title.strip() or None) if title else None


@register_step(ExtractConfig)
class Extract(Step):
    """Replaces ``text`` (HTML) with the extracted main text and adds ``title`` to ``metadata``."""

    config: ExtractConfig

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        texts, metas, reasons = [], [], []
        for html, meta_json in zip(batch["text"], batch["metadata"]):
            meta = orjson.loads(meta_json) if meta_json else {}
            url = meta.get("url") if isinstance(meta.get("url"), str) else None
            try:
                text, title = extract_html(html, self.config, url)
                reason = None if len(text) >= self.config.min_chars else "extract_no_text"
            except Exception as exc:  # noqa: BLE001 - one malformed page must not stop a shard
                text, title, reason = "", None, f"extract_failed: {type(exc).__name__}"
            texts.append(text if reason is None else html)  # a removed page keeps its HTML
            meta["title"] = title
            metas.append(orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode())
            reasons.append(reason)
        out = batch.with_columns(pl.Series("text", texts, dtype=pl.String),
                                 pl.Series("metadata", metas, dtype=pl.String))
        return split_by_reason(out, reasons, self.name)
