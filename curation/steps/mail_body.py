"""Raw RFC 822 messages to their readable body: headers and MIME plumbing are not text to curate.

Like an HTML extractor for web crawls: without it, every message shares its ``Received:`` header lines and the
repetition rules and dedup see routing, not content. HTML-only parts are reduced to their text.
"""

from __future__ import annotations

import email
import email.policy
import html
import re

import polars as pl

from curation.steps.base import Step, StepConfig, register_step, split_by_reason

TAG_RE = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def _html_text(markup: str) -> str:
    return html.unescape(TAG_RE.sub(" ", markup))


def message_body(raw: str) -> tuple[str, str]:
    """(subject, body text): text/plain parts joined, else the text of the HTML parts."""
    msg = email.message_from_string(raw, policy=email.policy.compat32)
    plain, markup = [], []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "latin-1"
        try:
            text = payload.decode(charset, errors="replace")
        except LookupError:
            text = payload.decode("latin-1", errors="replace")
        (markup if part.get_content_subtype() == "html" else plain).append(text)
    body = "\n\n".join(plain) if plain else "\n\n".join(_html_text(m) for m in markup)
    return str(msg.get("Subject", "") or ""), body


class MailBodyConfig(StepConfig, step="mail_body"):
    """No settings: the body is the first text/plain part, else the text of the first text/html part."""


@register_step(MailBodyConfig)
class MailBody(Step):
    """Replaces ``text`` with the message body and adds ``mail_subject``; messages with no text part are dropped."""

    config: MailBodyConfig

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        parsed = [message_body(t) for t in batch["text"]]
        bodies = [b for _, b in parsed]
        out = batch.with_columns(
            pl.Series("text", bodies, dtype=pl.String), pl.Series("mail_subject", [s for s, _ in parsed], dtype=pl.String)
        )
        reasons = [None if b.strip() else "mail_no_text_body" for b in bodies]
        kept, removed = split_by_reason(out, reasons, self.name)
        # a dropped message keeps its original raw text, so nothing of it is lost
        originals = dict(zip(batch["source"], batch["text"]))
        removed = removed.with_columns(pl.col("source").replace_strict(originals, return_dtype=pl.String).alias("text"))
        return kept, removed
