"""Per-item scores the strategies rank by: IFD from SmolLM2, fastText quality, DSIR importance weights.

IFD (Li et al., Superfiltering): loss(response | instruction) / loss(response). Near 1 the instruction barely
helps predict the answer (hard, informative pairs); above 1 it hurts (likely a misaligned pair). A 135M model
is enough: Superfiltering shows a small scorer ranks like a large one.

DSIR (Xie et al. 2023): hashed unigram+bigram bag-of-words models of the target and the raw pool; an item's
log importance weight is the sum over its n-grams of log p_target - log p_raw, taken per 128 features
(DSIR scores fixed-length chunks; unnormalized sums would rank by length).
"""

from __future__ import annotations

import numpy as np
import xxhash

from curation.text import WORD_RE


def ifd_scores(prompts: list[str], responses: list[str], batch_size: int = 16, max_tokens: int = 256,
               device_name: str = "auto", progress: bool = False, cache: bool = True) -> np.ndarray:
    """IFD per pair (nan where there is no prompt or no response tokens), cached on disk per pair."""
    if not cache:
        return _ifd_scores(prompts, responses, batch_size, max_tokens, device_name, progress)
    from core.embed import EmbeddingCache
    from core.models import SMOLLM2_ID, cache_dir

    store = EmbeddingCache(cache_dir() / "ifd" / f"{SMOLLM2_ID}-{max_tokens}")
    keys = [xxhash.xxh3_128_digest(f"{p}\x00{r}".encode("utf-8", "surrogatepass")) for p, r in zip(prompts, responses)]
    out = np.full(len(keys), np.nan)
    todo = []
    for i, key in enumerate(keys):
        hit = store.get(key)
        if hit is None:
            todo.append(i)
        else:
            out[i] = hit[0]
    if todo:
        fresh = _ifd_scores([prompts[i] for i in todo], [responses[i] for i in todo], batch_size, max_tokens,
                            device_name, progress)
        out[todo] = fresh
        store.put([keys[i] for i in todo], fresh.reshape(-1, 1))
    return out


def _ifd_scores(prompts: list[str], responses: list[str], batch_size: int, max_tokens: int, device_name: str,
                progress: bool) -> np.ndarray:
    import torch
    from tqdm.auto import tqdm

    from core.models import load_smollm2

    model, tokenizer = load_smollm2(device_name)
    dev = next(model.parameters()).device
    out = np.full(len(prompts), np.nan)
    enc = lambda texts: tokenizer(texts, add_special_tokens=False)["input_ids"]  # noqa: E731
    prompt_ids = [ids[-max_tokens:] for ids in enc([p + "\n\n" if p else "" for p in prompts])]
    response_ids = [ids[:max_tokens] for ids in enc(responses)]
    order = sorted(range(len(prompts)), key=lambda i: len(prompt_ids[i]) + len(response_ids[i]))
    pad = tokenizer.pad_token_id

    def mean_nll(seqs: list[tuple[list[int], list[int]]]) -> np.ndarray:
        width = max(len(a) + len(b) for a, b in seqs)
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        target = torch.zeros(len(seqs), width, dtype=torch.bool)
        for row, (ctx, cont) in enumerate(seqs):
            ids[row, : len(ctx) + len(cont)] = torch.tensor(ctx + cont)
            mask[row, : len(ctx) + len(cont)] = 1
            target[row, len(ctx): len(ctx) + len(cont)] = True
        with torch.inference_mode():
            logits = model(input_ids=ids.to(dev), attention_mask=mask.to(dev)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:].to(dev).unsqueeze(-1)).squeeze(-1)
        tgt = target[:, 1:].to(dev)
        return (-(logp * tgt).sum(1) / tgt.sum(1).clamp(min=1)).cpu().numpy()

    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    batches = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc="IFD", disable=not progress):
        usable = [i for i in batch if prompt_ids[i] and response_ids[i]]
        if not usable:
            continue
        conditioned = mean_nll([(bos + prompt_ids[i], response_ids[i]) for i in usable])
        direct = mean_nll([(bos, response_ids[i]) for i in usable])
        out[usable] = conditioned / direct
    return out


def quality_scores(model_path: str, texts: list[str]) -> np.ndarray:
    from curation.classifiers.fasttext_models import load_fasttext
    from curation.classifiers.quality_model import positive_scores, prepare

    return positive_scores(load_fasttext(model_path), [prepare(t) for t in texts])


def hashed_ngrams(text: str, buckets: int) -> np.ndarray:
    words = WORD_RE.findall(text.lower())
    grams = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    return np.array([xxhash.xxh3_64_intdigest(g.encode()) % buckets for g in grams], dtype=np.int64)


def dsir_log_weights(pool_texts: list[str], target_texts: list[str], buckets: int = 10_000,
                     chunk_features: int = 128) -> np.ndarray:
    pool_feats = [hashed_ngrams(t, buckets) for t in pool_texts]
    target_counts = np.ones(buckets)  # add-one smoothing
    for t in target_texts:
        target_counts += np.bincount(hashed_ngrams(t, buckets), minlength=buckets)
    raw_counts = np.ones(buckets)
    for f in pool_feats:
        raw_counts += np.bincount(f, minlength=buckets)
    log_ratio = np.log(target_counts / target_counts.sum()) - np.log(raw_counts / raw_counts.sum())
    # per-feature mean scaled to a fixed length: DSIR scores fixed-size chunks, and a raw sum would let document
    # length, not domain, decide (long generic documents outweigh short on-target ones)
    return np.array([log_ratio[f].mean() * chunk_features if len(f) else -np.inf for f in pool_feats])
