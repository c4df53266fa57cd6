"""The report's corpus section: domains from flat or nested URLs, no table without URLs, PII sums."""

from __future__ import annotations

import orjson

from curation.corpus_stats import corpus_markdown, corpus_stats


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def test_domains_from_flat_and_nested_urls(tmp_path):
    _write(tmp_path / "kept" / "part-00000-0000.jsonl", [
        {"id": "a", "text": "x", "metadata": {"url": "https://www.a.org/1"},
         "pii_email": 2, "pii_ip": 0, "pii_phone": 1},
        {"id": "b", "text": "y", "metadata": {"metadata": {"url": "http://a.org/2"}}, "pii_email": 0, "pii_ip": 1,
         "pii_phone": 0},
        {"id": "c", "text": "z", "metadata": {}, "pii_email": 0, "pii_ip": 0, "pii_phone": 0},
    ])
    _write(tmp_path / "removed" / "01-url_filter" / "part-00000-0000.jsonl", [
        {"id": "d", "text": "w", "metadata": {"url": "https://b.net/"}, "step": "url_filter",
         "reason": "url_blocked_domain"},
    ])
    stats = corpus_stats(tmp_path, {"steps": []})
    assert stats["domains"] == [{"domain": "a.org", "kept": 2, "removed": 0},
                                {"domain": "(no url)", "kept": 1, "removed": 0},
                                {"domain": "b.net", "kept": 0, "removed": 1}]
    assert stats["pii"] == {"email": 2, "ip": 1, "phone": 1} and stats["tokens"] is None
    text = "\n".join(corpus_markdown({"corpus": stats}))
    assert "| a.org | 2 | 0 |" in text and "| email | 2 |" in text


def test_no_domain_table_without_urls(tmp_path):
    _write(tmp_path / "kept" / "part-00000-0000.jsonl", [{"id": "a", "text": "x", "metadata": {}}])
    stats = corpus_stats(tmp_path, {"steps": []})
    assert stats["domains"] == [] and stats["pii"] is None and corpus_markdown({"corpus": stats}) == []
