"""PII redaction: e-mail addresses, public IP addresses and phone numbers replaced by placeholders.

Patterns follow the reference tools: e-mail and IPv4 are datatrove's ``PIIFormatter`` regexes (IPs replaced only
when ``ipaddress`` calls them global, as datatrove does by default); phone numbers are Dolma's
``pii_regex_with_counts_fast_v2`` pattern (North-American 3-3-4 digits after white space). Placeholders default
to Dolma's (``|||EMAIL_ADDRESS|||``, ``|||PHONE_NUMBER|||``, ``|||IP_ADDRESS|||``). Differences, on purpose:
the e-mail regex is case-insensitive (datatrove's misses upper-case addresses), and IPs and phone numbers must
not sit inside a longer run of digits (datatrove/Dolma would redact part of ``1234.5.6.78`` or of a 14-digit id).

Documents are never removed; each gets ``pii_email``, ``pii_ip`` and ``pii_phone`` counts, which the report sums.
With ``engine: presidio`` (when ``presidio-analyzer`` and its spaCy model are installed) Presidio's recognizers
find the spans instead; placeholders and counts are the same. Not exercised by the tests: no spaCy English model
can be installed on these offline machines.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
from typing import Literal

import polars as pl
from pydantic import Field

from curation.steps.base import Step, StepConfig, register_step, split_by_reason

EMAIL_RE = re.compile(
    r"\b[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|"
    r"[01]?[0-9][0-9]?|[a-z0-9-]*[a-z0-9]:)])",
    re.I,
)
IP_RE = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}"
                   r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)(?![\d]|\.\d)")
PHONE_RE = re.compile(r"(\s+)\(?(\d{3})\)?[-. ]*(\d{3})[-. ]?(\d{4})(?!\d)")
KINDS = ("email", "ip", "phone")


class PiiConfig(StepConfig, step="pii"):
    kinds: list[Literal["email", "ip", "phone"]] = Field(default_factory=lambda: list(KINDS),
                                                         description="what to redact")
    email_placeholder: str = "|||EMAIL_ADDRESS|||"
    ip_placeholder: str = "|||IP_ADDRESS|||"
    phone_placeholder: str = "|||PHONE_NUMBER|||"
    only_public_ips: bool = Field(True, description="leave private/loopback/reserved IPs (datatrove's default)")
    engine: Literal["regex", "presidio"] = "regex"


def _public(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


def redact(text: str, cfg: PiiConfig | None = None) -> tuple[str, dict[str, int]]:
    """(redacted text, {kind: count}) with the regex engine."""
    cfg = cfg or PiiConfig()
    counts = dict.fromkeys(KINDS, 0)
    if "email" in cfg.kinds and "@" in text:
        text, counts["email"] = EMAIL_RE.subn(cfg.email_placeholder, text)
    if "ip" in cfg.kinds and "." in text:
        def ip_sub(m: re.Match) -> str:
            if cfg.only_public_ips and not _public(m.group(0)):
                return m.group(0)
            counts["ip"] += 1
            return cfg.ip_placeholder

        text = IP_RE.sub(ip_sub, text)
    if "phone" in cfg.kinds:
        text, counts["phone"] = PHONE_RE.subn(lambda m: m.group(1) + cfg.phone_placeholder, text)
    return text, counts


def _presidio_redact(text: str, cfg: PiiConfig) -> tuple[str, dict[str, int]]:
    from presidio_analyzer import AnalyzerEngine  # optional: only where installed with a spaCy model

    entity = {"email": "EMAIL_ADDRESS", "ip": "IP_ADDRESS", "phone": "PHONE_NUMBER"}
    kind_of = {v: k for k, v in entity.items()}
    placeholder = {"email": cfg.email_placeholder, "ip": cfg.ip_placeholder, "phone": cfg.phone_placeholder}
    results = _analyzer(AnalyzerEngine).analyze(text=text, entities=[entity[k] for k in cfg.kinds], language="en")
    counts = dict.fromkeys(KINDS, 0)
    for r in sorted(results, key=lambda r: r.start, reverse=True):  # right to left keeps offsets valid
        kind = kind_of[r.entity_type]
        counts[kind] += 1
        text = text[: r.start] + placeholder[kind] + text[r.end :]
    return text, counts


_ANALYZER = None


def _analyzer(cls):
    global _ANALYZER
    if _ANALYZER is None:
        _ANALYZER = cls()
    return _ANALYZER


@register_step(PiiConfig)
class PiiRedaction(Step):
    config: PiiConfig

    def __init__(self, config: PiiConfig):
        super().__init__(config)
        if config.engine == "presidio" and importlib.util.find_spec("presidio_analyzer") is None:
            raise ValueError("pii: engine 'presidio' needs presidio-analyzer and a spaCy English model installed; "
                             "use engine 'regex' (the default) otherwise")

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        fn = _presidio_redact if self.config.engine == "presidio" else redact
        texts, counts = [], {k: [] for k in KINDS}
        for text in batch["text"]:
            new, found = fn(text, self.config)
            texts.append(new)
            for k in KINDS:
                counts[k].append(found[k])
        kept = batch.with_columns(pl.Series("text", texts, dtype=pl.String),
                                  *[pl.Series(f"pii_{k}", counts[k], dtype=pl.Int32) for k in KINDS])
        return split_by_reason(kept, [None] * kept.height, self.name)  # redaction never removes a document
