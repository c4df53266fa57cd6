"""URL normalisation, url_dedup, url_filter block lists, and PII placeholders."""

from __future__ import annotations

import polars as pl
import pytest

from curation.runner import run_frames
from curation.steps.pii import PiiConfig, redact
from curation.steps.urls import UrlDedupConfig, UrlFilterConfig
from curation.urls import BlockList, dedup_url_key, domain_of, normalize_url
from tests.conftest import ROOT


@pytest.mark.parametrize("url, expected", [
    ("HTTP://WWW.Example.COM:80/a/%7euser/?utm_source=x&b=2&a=1#frag", "http://www.example.com/a/~user/?a=1&b=2"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com:8443/p%20q", "https://example.com:8443/p%20q"),
    ("https://[::1]:8443/x", "https://[::1]:8443/x"),
    ("not a url", "not a url"),
    ("http://Bücher.example/x", "http://xn--bcher-kva.example/x"),
])
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected


def test_dedup_key_ignores_scheme_and_www():
    assert dedup_url_key("http://www.example.com/a?b=1&a=2") == dedup_url_key("https://example.com/a?a=2&b=1#top")
    assert domain_of("https://WWW.Sub.Example.com/x") == "sub.example.com" and domain_of("no url") is None


def _frame(urls: list[str | None], file: str = "f") -> pl.DataFrame:
    import orjson

    return pl.DataFrame({"id": [f"d{i}" for i in range(len(urls))], "text": [f"t{i}" for i in range(len(urls))],
                         "metadata": [orjson.dumps({"url": u} if u else {}).decode() for u in urls],
                         "source": [f"{file}:{i}" for i in range(len(urls))]})


def test_url_dedup_keeps_first_in_input_order_across_shards(tmp_path):
    shard1 = _frame(["https://a.org/x", "http://www.a.org/x#frag", None])
    shard2 = _frame(["https://A.org/x/", "https://a.org/x?utm_source=feed", None], file="g")
    kept, removed = run_frames(UrlDedupConfig(), [shard1, shard2], tmp_path)
    # a.org/x three times (scheme, www, fragment, tracking parameter ignored); a.org/x/ is another path
    assert kept["source"].to_list() == ["f:0", "f:2", "g:0", "g:2"]
    assert removed["reason"].to_list() == ["url_duplicate", "url_duplicate"]
    assert removed["source"].to_list() == ["f:1", "g:1"]
    assert removed["duplicate_of"].to_list() == ["f:0", "f:0"]  # the keeper's source, as in exact_dedup


def test_url_filter_with_the_example_block_lists(tmp_path):
    lists = ROOT / "configs" / "url_blocklist"
    cfg = UrlFilterConfig(domain_files=[str(lists / "domains.txt")], url_files=[str(lists / "urls.txt")],
                          substring_files=[str(lists / "substrings.txt")])
    frame = _frame(["http://0755krk.com/76104/list_4_1.html", "http://035.psb556.com/24/i/a.html",
                    "HTTP://096355.com:80/video/11073.html?11073-0-2#x",
                    "http://05925.net/index.php/vod/type/id/53.html",
                    "https://Best-CASINO.example/", "http://not0755krk.com/", None])
    kept, removed = run_frames(cfg, [frame], tmp_path)
    assert removed["reason"].to_list() == ["url_blocked_domain", "url_blocked_domain", "url_blocked_url",
                                           "url_blocked_substring", "url_blocked_substring"]
    assert kept["id"].to_list() == ["d5", "d6"]  # a look-alike domain and a document without URL stay


def test_url_filter_list_content_is_part_of_the_config(tmp_path):
    lst = tmp_path / "d.txt"
    lst.write_text("example.com\n")
    first = UrlFilterConfig(domain_files=[str(lst)]).lists_sha256
    lst.write_text("example.com\nexample.org  # added\n")
    assert UrlFilterConfig(domain_files=[str(lst)]).lists_sha256 != first  # an edited list is not reused
    assert BlockList.from_files([lst]).domains == {"example.com", "example.org"}
    with pytest.raises(ValueError, match="not found"):
        UrlFilterConfig(domain_files=[str(tmp_path / "missing.txt")])


def test_pii_placeholders_and_counts():
    text = ("Write to John.Doe@Example.COM or jane@mail.example.org, call (555) 123-4567 or 555.123.4567; "
            "server 8.8.8.8, router 192.168.1.1, version 1.2.3.4.5, order 12345678901234.")
    out, counts = redact(text)
    assert counts == {"email": 2, "ip": 1, "phone": 2}
    assert out == ("Write to |||EMAIL_ADDRESS||| or |||EMAIL_ADDRESS|||, "
                   "call |||PHONE_NUMBER||| or |||PHONE_NUMBER|||; "
                   "server |||IP_ADDRESS|||, router 192.168.1.1, version 1.2.3.4.5, order 12345678901234.")
    out, counts = redact(text, PiiConfig(kinds=["ip"], only_public_ips=False))
    assert counts == {"email": 0, "ip": 2, "phone": 0} and "John.Doe@Example.COM" in out


def test_pii_step_adds_counts_and_removes_nothing(tmp_path):
    from curation.steps.pii import PiiConfig as Cfg

    frame = _frame([None, None]).with_columns(pl.Series("text", ["mail a@b.com now", "nothing here"]))
    kept, removed = run_frames(Cfg(), [frame], tmp_path)
    assert removed.height == 0 and kept["text"].to_list() == ["mail |||EMAIL_ADDRESS||| now", "nothing here"]
    assert kept["pii_email"].to_list() == [1, 0] and kept["pii_phone"].to_list() == [0, 0]


def test_presidio_engine_without_presidio_is_a_clear_error():
    import importlib.util

    from curation.steps import build_step

    if importlib.util.find_spec("presidio_analyzer") is not None:
        pytest.skip("presidio-analyzer is installed here")
    with pytest.raises(ValueError, match="presidio-analyzer"):
        build_step(PiiConfig(engine="presidio"))
