"""WARC reader on the real files in shared/data: exact record counts, charsets, de-chunking, truncation."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from core.readers import ReaderConfig, count_records, read_shard
from core.warc import count_warc_records
from tests.conftest import shared


def _read(path: Path):
    quarantined: list[tuple] = []
    batches = list(read_shard(path, ReaderConfig(), lambda *q: quarantined.append(q)))
    docs = [row for b in batches for row in b.iter_rows(named=True)]
    return docs, quarantined


@pytest.mark.parametrize("name, responses, first_url", [
    ("dolma_sample-0000.warc.gz", 22, "https://www.semanticscholar.org/research/research-team"),
    ("dolma_sample-0001.warc.gz", 15, "https://creativecommons.org/"),
])
def test_dolma_samples_one_document_per_html_response(name, responses, first_url):
    # shared/data/web/SOURCE.md: 22 and 15 HTTP responses, all text/html; requests, warcinfo, metadata and the
    # two wget resource records (log, arguments) are not documents and not counted
    path = shared("web", name)
    docs, quarantined = _read(path)
    assert len(docs) == responses and quarantined == []
    assert count_records([path]) == responses
    meta = json.loads(docs[0]["metadata"])
    assert meta["url"] == first_url
    assert docs[0]["id"] == meta["warc_record_id"] and meta["warc_record_id"].startswith("<urn:uuid:")
    assert {"date", "content_type", "charset", "http_status", "warc_offset"} <= set(meta)
    assert len({d["id"] for d in docs}) == responses


def test_pywb_revisits_and_non_html_are_quarantined_with_offsets():
    # SOURCE.md (warcio 1.8.1 counts): 48 responses + 123 revisits; 20 of the responses are text/html, two of
    # which are empty-bodied 302 redirects (www.iana.org/domains/root/db/ and /dnssec) -> 18 documents
    path = shared("warc", "pywb_iana.warc.gz")
    docs, quarantined = _read(path)
    kinds = Counter(q[2].split(":")[0] for q in quarantined)
    assert len(docs) == 18
    # 25 of the responses are Transfer-Encoding: chunked; de-chunked, every page starts with its doctype
    assert all(d["text"].lstrip()[:9].lower() == "<!doctype" for d in docs)
    assert kinds == {"revisit record": 123, "non-HTML response": 28, "empty text": 2}
    assert count_records([path]) == 48 + 123 == len(docs) + len(quarantined)
    offsets = sorted(q[1] for q in quarantined if q[2] == "empty text")
    assert offsets == [671278, 772827]
    summary = json.loads(next(q[3] for q in quarantined if q[1] == 671278))
    assert summary["url"] == "http://www.iana.org/domains/root/db/" and summary["offset"] == 671278


def test_charsets_decoded_as_browsers_do():
    # SOURCE.md: utf-8 7, gb2312 3, gbk 3, iso-8859-1 2, windows-1251 1; WHATWG maps gb2312 to GBK and
    # iso-8859-1 to windows-1252
    docs, quarantined = _read(shared("warc", "resiliparse_warcfile.warc.gz"))
    charsets = Counter(json.loads(d["metadata"])["charset"] for d in docs)
    assert quarantined == [] and len(docs) == 16
    assert charsets == {"utf-8": 7, "gbk": 6, "cp1252": 2, "cp1251": 1}
    ru = next(d for d in docs if json.loads(d["metadata"])["charset"] == "cp1251")
    assert any("\u0400" <= ch <= "\u04ff" for ch in ru["text"])  # Cyrillic, not mojibake
    gbk = [d for d in docs if json.loads(d["metadata"])["charset"] == "gbk"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in d["text"]) for d in gbk)


def test_chunked_body_is_dechunked():
    docs, quarantined = _read(shared("warc", "warcio_example-iana.org-chunked.warc"))
    assert quarantined == [] and len(docs) == 1
    assert docs[0]["text"].startswith("<!doctype html>\n<html>")  # no chunk-size line in front
    assert docs[0]["source"].endswith(".warc:405")  # byte offset of the response record


def test_truncated_records_are_quarantined_and_counted(tmp_path):
    data = shared("warc", "warcio_example-iana.org-chunked.warc").read_bytes()
    clipped = tmp_path / "clipped.warc"
    clipped.write_bytes(data[:-2000])  # the response body now ends 1,544 bytes before its Content-Length
    docs, quarantined = _read(clipped)
    assert docs == [] and len(quarantined) == 1
    assert quarantined[0][1] == 405 and quarantined[0][2].startswith("truncated record: body ends")
    assert count_warc_records(clipped) == 1

    gz = shared("web", "dolma_sample-0000.warc.gz").read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(gz[:-5000])  # inside the last gzip member: the 22nd response loses its tail
    docs, quarantined = _read(cut)
    assert len(docs) == 21 and [q[2].split(":")[0] for q in quarantined] == ["truncated record"]
    assert count_records([cut]) == 22


def test_warc_crawl_truncation_header(tmp_path):
    data = shared("warc", "warcio_example-iana.org-chunked.warc").read_bytes()
    marked = tmp_path / "marked.warc"
    # a crawler that cut a payload says so in WARC-Truncated (Common Crawl: 'length' above 1 MiB)
    header = b"WARC-Type: response\r\n"
    marked.write_bytes(data.replace(header, header + b"WARC-Truncated: length\r\n", 1))
    docs, quarantined = _read(marked)
    assert docs == [] and quarantined[0][2] == "truncated record: WARC-Truncated: length"


def test_not_a_warc_is_one_unreadable_stream_record(tmp_path):
    garbage = tmp_path / "garbage.warc"
    garbage.write_bytes(b"this is not a warc file\n" * 10)  # warcio alone would read it as 5 ARC records
    docs, quarantined = _read(garbage)
    assert docs == [] and [q[2].split(" (")[0] for q in quarantined] == ["unreadable stream: stops at its first record"]
    assert count_records([garbage]) == 1

    tail = tmp_path / "tail.warc"
    tail.write_bytes(shared("warc", "warcio_example-iana.org-chunked.warc").read_bytes() + b"garbage\r\n\r\n")
    docs, quarantined = _read(tail)
    assert len(docs) == 1 and quarantined[0][2].startswith("unreadable stream: stops after the record at offset 8379")
    assert count_records([tail]) == 2


def test_wet_conversion_records_are_text_documents(tmp_path):
    import io

    from warcio.warcwriter import WARCWriter

    wet = tmp_path / "CC-MAIN-test.warc.wet.gz"  # Common Crawl's WET naming
    with open(wet, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(wet.name, {"software": "test"}))
        for i, text in enumerate(["Plain text one.", "Zweiter Text, äöü.", ""]):
            writer.write_record(writer.create_warc_record(f"http://example.org/{i}", "conversion",
                                                          payload=io.BytesIO(text.encode()),
                                                          warc_content_type="text/plain"))
    docs, quarantined = _read(wet)
    assert [d["text"] for d in docs] == ["Plain text one.", "Zweiter Text, äöü."]
    assert json.loads(docs[1]["metadata"])["content_type"] == "text/plain"
    assert [q[2] for q in quarantined] == ["empty text"]
    assert count_records([wet]) == 3
