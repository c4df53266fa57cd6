"""Coarse compression: rank context items (demonstrations, paragraphs) by relevance and drop the least relevant.

Two scorers: embedding cosine to the question (cheap), and LongLLMLingua's question-aware perplexity: how
well the small LM predicts the question after reading the item (lower -log p = more relevant). Without a
question, items are ranked by cosine to the context's centroid (keep the typical, drop the outliers).
"""

from __future__ import annotations

import numpy as np


def rank_by_embedding(items: list[str], question: str | None, embed) -> np.ndarray:
    vecs = embed(items)
    anchor = embed([question])[0] if question else vecs.mean(0)
    return vecs @ anchor


def rank_by_question_perplexity(items: list[str], question: str, model, tokenizer) -> np.ndarray:
    """Relevance = mean log p(question tokens | item): higher means the item makes the question predictable."""
    from core.lm_scoring import score_continuations

    return np.array([score_continuations(model, tokenizer, item + "\n\n", [question])[0].mean for item in items])
