"""WARC (``.warc``, ``.warc.gz``) to documents: one per HTML HTTP response record, decoded by its charset.

Common Crawl's WET files (``.warc.wet.gz``: ``conversion`` records of extracted plain text) are read too: each
conversion record is a document whose ``text`` is the record's UTF-8 text (no ``extract`` step needed).

Reading is warcio's (Webrecorder's streaming reader; the one datatrove's ``WarcReader`` uses): it parses each
record, de-chunks ``Transfer-Encoding: chunked`` bodies and undoes ``Content-Encoding: gzip``. Charset
detection is resiliparse's (the HTTP ``charset`` when declared, else the HTML ``<meta charset>``, else
uchardet), with WHATWG's label mapping (``gb2312`` decodes as GBK, ``iso-8859-1`` as windows-1252, as browsers do).

What counts as an input record: every ``response``, ``revisit`` and ``conversion`` record, the records that
carry (or point to) a fetched page or its text. ``warcinfo``, ``request``, ``metadata`` and ``resource`` records (crawler bookkeeping, wget
logs) are not documents and are not counted. Each counted record becomes exactly one of:

- a document: ``text`` = the decoded HTML, ``id`` = ``WARC-Record-ID``, metadata ``url``, ``warc_record_id``,
  ``date`` (``WARC-Date``), ``content_type``, ``charset`` (the one used to decode), ``http_status``;
- a quarantine record whose ``line`` is the record's byte offset in the file (compressed offset for
  ``.warc.gz``, as Common Crawl's index gives it) and whose ``error`` says why: ``non-HTML response``,
  ``revisit record`` (a deduplicated fetch that stores no payload), ``truncated record`` (``WARC-Truncated``
  set by the crawler, or a body shorter than its ``Content-Length``), ``empty text``;
- if the stream itself breaks between records, one ``unreadable stream`` record, as for JSONL.

``count_warc_records`` counts the same records from the headers alone (no payload decoding), so
input = kept + removed + quarantined is checked against a count the reader did not produce.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import polars as pl

from core.readers import QuarantineFn, ReaderConfig, _Rows

DOCUMENT_TYPES = ("response", "revisit", "conversion")
HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:+-]+)", re.I)
_HTML_START_RE = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body)", re.I)


def _records(path: Path) -> Iterator[tuple[object, object]]:
    """(iterator, record) for every record; an error of the stream itself propagates to the caller."""
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            if record.format != "warc":  # warcio falls back to ARC parsing on anything else, garbage included
                raise ValueError(f"not a WARC record ({record.format} format)")
            yield it, record


def _header(record, name: str) -> str | None:
    return record.rec_headers.get_header(name)


def _mime_and_charset(record) -> tuple[str, str | None]:
    """The payload's MIME type (HTTP Content-Type, else WARC-Identified-Payload-Type) and declared charset."""
    declared = record.http_headers.get_header("Content-Type") if record.http_headers else None
    declared = declared or _header(record, "WARC-Identified-Payload-Type") or ""
    mime = declared.split(";")[0].strip().lower()
    match = _CHARSET_RE.search(declared)
    return mime, (match.group(1) if match else None)


def decode_html(body: bytes, declared: str | None) -> tuple[str, str]:
    """(text, charset used): the declared charset if Python knows it, else the meta tag, else uchardet.

    Names are mapped as WHATWG says (what browsers do), so a page labelled gb2312 or iso-8859-1 decodes the
    way it renders. Undecodable bytes are dropped (resiliparse's ``bytes_to_str`` double-decodes so the result
    is always valid Unicode).
    """
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding, map_encoding_to_html5

    charset = map_encoding_to_html5(declared) if declared else None
    if not charset:
        charset = detect_encoding(body, from_html_meta=True)
    return bytes_to_str(body, charset), charset


def _summary(record, offset: int) -> str:
    """What the quarantine keeps of a record: its headers' key facts (never binary payload bytes)."""
    mime, _ = _mime_and_charset(record) if record.rec_type == "response" else ("", None)
    return orjson.dumps({
        "offset": offset, "warc_type": record.rec_type, "url": _header(record, "WARC-Target-URI"),
        "warc_record_id": _header(record, "WARC-Record-ID"), "date": _header(record, "WARC-Date"),
        "content_type": mime or None, "refers_to": _header(record, "WARC-Refers-To-Target-URI"),
    }).decode()


def _record_offset(it) -> int:
    try:
        return int(it.get_record_offset())
    except Exception:  # noqa: BLE001 - a broken tail must not hide the record itself
        return -1


def read_warc(path: Path, cfg: ReaderConfig, quarantine: QuarantineFn) -> Iterator[pl.DataFrame]:
    """Batches of documents (HTML pages; WET text) from one WARC file; other counted records go to quarantine."""
    file = str(path)
    rows = _Rows(cfg.model_copy(update={"text_field": "text", "id_field": "id"}), file, quarantine)
    last_offset: int | None = None
    records = _records(path)
    while True:
        try:
            it, record = next(records)
        except StopIteration:
            break
        except Exception as exc:  # noqa: BLE001 - a corrupt stream becomes one quarantine record, not a crash
            where = f"after the record at offset {last_offset}" if last_offset is not None else "at its first record"
            quarantine(file, last_offset or 0, f"unreadable stream: stops {where} ({type(exc).__name__}: {exc})", "")
            break
        if record.rec_type not in DOCUMENT_TYPES:
            last_offset = _record_offset(it)
            continue
        error, body, mime, declared = None, b"", "", None
        if record.rec_type == "revisit":
            error = "revisit record: payload stored at an earlier capture"
        elif record.rec_type == "conversion":  # WET: text already extracted, UTF-8 as Common Crawl writes it
            mime, declared = "text/plain", "utf-8"
            try:
                body = record.content_stream().read()
            except Exception as exc:  # noqa: BLE001 - a corrupt body: this record only
                error = f"truncated record: body unreadable ({type(exc).__name__}: {exc})"
        else:
            mime, declared = _mime_and_charset(record)
            if mime and mime not in HTML_TYPES:  # decided by its headers: the payload is never held in memory
                error = f"non-HTML response: {mime}"
            else:
                try:
                    body = record.content_stream().read()
                    clipped = record.raw_stream.limit
                except Exception as exc:  # noqa: BLE001 - corrupt chunking or gzip body: this record only
                    body, clipped, error = b"", 0, f"truncated record: body unreadable ({type(exc).__name__}: {exc})"
                truncated = _header(record, "WARC-Truncated")
                if error is None and truncated:
                    error = f"truncated record: WARC-Truncated: {truncated}"
                elif error is None and clipped:
                    error = f"truncated record: body ends {clipped} bytes before its Content-Length"
                elif error is None and not mime and not _HTML_START_RE.match(body[:512]):
                    error = "non-HTML response: no content type"
        offset = _record_offset(it)
        last_offset = offset
        if error is not None:
            quarantine(file, offset, error, _summary(record, offset))
            continue
        text, charset = decode_html(body, declared)
        record_id = _header(record, "WARC-Record-ID")
        doc = {
            "text": text, "id": record_id, "url": _header(record, "WARC-Target-URI"), "warc_record_id": record_id,
            "date": _header(record, "WARC-Date"), "content_type": mime or None, "charset": charset,
            "http_status": int(record.http_headers.get_statuscode() or 0) if record.http_headers else None,
            "warc_offset": offset,
        }
        rows.add(offset, doc, lambda r=record, o=offset: _summary(r, o))
        if rows.full():
            yield rows.flush()
    if (batch := rows.flush()) is not None:
        yield batch


def count_warc_records(path: Path) -> int:
    """``response``, ``revisit``, ``conversion`` records from their headers alone (+1 if the stream breaks)."""
    total = 0
    try:
        for _, record in _records(path):
            total += record.rec_type in DOCUMENT_TYPES
    except Exception:  # noqa: BLE001 - the reader quarantines exactly one record for a broken stream
        total += 1
    return total
