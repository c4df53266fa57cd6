"""URL normalisation, domains, and block lists: what ``url_dedup``, ``url_filter`` and the report share.

Normalisation (RFC 3986 section 6 plus the usual crawl rules): scheme and host lower-cased (IDN hosts as
punycode), default ports and the fragment dropped, an empty path becomes ``/``, percent-escapes of unreserved
characters decoded and the rest upper-cased, tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ...) dropped
and the query sorted. For the dedup key, ``http``/``https`` and a leading ``www.`` are also ignored, so the
same page fetched both ways is one.

Block list files (``url_filter``): UTF-8 text, one entry per line, ``#`` starts a comment, blank lines ignored.
A domain entry (``example.com``) blocks that host and every subdomain; a URL entry (``https://example.com/a``)
blocks that URL after normalisation; a substring entry blocks any URL containing it (case-insensitive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import orjson

DEFAULT_PORTS = {"http": "80", "https": "443"}
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|yclid|igshid)$", re.I)
_UNRESERVED_SAFE = "/:@!$&'()*+,;=-._~%"


def _clean_path(path: str) -> str:
    # decode then re-encode: %7E and ~ become one form, escapes are upper-case, reserved characters stay escaped
    return quote(unquote(path), safe=_UNRESERVED_SAFE.replace("%", "")) or "/"


def normalize_url(url: str) -> str:
    """Canonical form of an absolute URL; a string that does not parse as one is returned stripped."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if not scheme or not parts.hostname:
        return url
    host = parts.hostname.rstrip(".")
    if not host.isascii():  # IDN: one spelling (punycode), as browsers send it
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    host = f"[{host}]" if ":" in host else host  # IPv6 literal
    netloc = host if port is None or str(port) == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k))
    return urlunsplit((scheme, netloc, _clean_path(parts.path), urlencode(query), ""))


def dedup_url_key(url: str) -> str:
    """What two fetches of one page share: the normalised URL without scheme and leading ``www.``."""
    norm = normalize_url(url)
    _, sep, rest = norm.partition("://")
    rest = rest if sep else norm
    return rest[4:] if rest.startswith("www.") else rest


def domain_of(url: str | None) -> str | None:
    """Host name without ``www.`` (lower case), or None when there is no parsable absolute URL."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def url_from_metadata(metadata: str | None, field_path: str = "url") -> str | None:
    """The URL in a document's metadata JSON; ``field_path`` may be dotted (``metadata.url`` in Dolma files)."""
    if not metadata:
        return None
    value: object = orjson.loads(metadata)
    for part in field_path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value if isinstance(value, str) and value.strip() else None


def read_list(path: str | Path) -> list[str]:
    """Entries of one block-list file (comments and blank lines dropped)."""
    entries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.append(entry)
    return entries


@dataclass
class BlockList:
    """Domains (with subdomains), exact normalised URLs and substrings; ``match`` says which kind hit."""

    domains: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    substrings: list[str] = field(default_factory=list)

    @classmethod
    def from_files(cls, domain_files=(), url_files=(), substring_files=()) -> BlockList:
        domains = {d.lower().lstrip(".").removeprefix("www.") for f in domain_files for d in read_list(f)}
        urls = {normalize_url(u) for f in url_files for u in read_list(f)}
        substrings = sorted({s.lower() for f in substring_files for s in read_list(f)})
        return cls(domains, urls, substrings)

    def match(self, url: str) -> str | None:
        """``domain``, ``url`` or ``substring`` for a blocked URL, else None."""
        host = domain_of(url)
        if host and self.domains:
            labels = host.split(".")
            if any(".".join(labels[i:]) in self.domains for i in range(len(labels))):
                return "domain"
        if self.urls and normalize_url(url) in self.urls:
            return "url"
        lowered = url.lower()
        if any(s in lowered for s in self.substrings):
            return "substring"
        return None
