"""The mix step: exact proportions, budgets in documents and tokens, temperature, upsampling cap, seeds, accounting."""

from __future__ import annotations

import math
import uuid

import orjson
import polars as pl
import pytest

from curation.runner import run_frames
from curation.steps.mix import (
    MixConfig, integer_quotas, parse_budget, rehydrate_weight, target_shares, water_fill,
)
from tests.conftest import shared


def corpus(sizes: dict[str, int], words: dict[str, int] | None = None, extra: dict | None = None) -> pl.DataFrame:
    """Documents of group g: sizes[g] of them, each words[g] words long (default 10)."""
    rows = []
    for g, n in sizes.items():
        for i in range(n):
            meta = {"domain": g, "nested": {"src": g}, **(extra or {}).get(g, {})}
            rows.append({"id": f"{g}-{i}", "text": " ".join(["w"] * (words or {}).get(g, 10)),
                         "metadata": orjson.dumps(meta).decode(), "source": f"f:{g}:{i}"})
    return pl.DataFrame(rows)


def mix(tmp_path, frame, frames: int = 1, **kw):
    parts = [frame[i::frames] for i in range(frames)]
    return run_frames(MixConfig(**kw), parts, tmp_path / uuid.uuid4().hex[:8])


def copies(kept: pl.DataFrame) -> dict[str, int]:
    return {g: n for g, n in kept.group_by("mix_group").agg(pl.col("mix_repeats").sum()).iter_rows()}


SIZES = {"a": 600, "b": 300, "c": 100}


def test_uniform_target_gives_exact_equal_counts_and_accounts_for_every_document(tmp_path):
    kept, removed = mix(tmp_path, corpus(SIZES), frames=3, by="domain", budget="150", target="uniform")
    assert copies(kept) == {"a": 50, "b": 50, "c": 50}  # 150 / 3 groups, each has >= 50 documents
    assert kept.height + removed.height == 1000  # input = kept + removed
    assert set(removed["reason"]) == {"not_sampled"} and set(removed["step"]) == {"mix"}
    assert kept["mix_repeats"].max() == 1


def test_natural_keeps_corpus_shares_and_dotted_paths_group(tmp_path):
    kept, _ = mix(tmp_path, corpus(SIZES), by="nested.src", budget="100")
    assert copies(kept) == {"a": 60, "b": 30, "c": 10}  # 6:3:1, exactly


def test_temperature_flattens_between_natural_and_uniform():
    sizes = {"a": 600.0, "b": 300.0, "c": 100.0}
    t1, t2, tinf = (target_shares(sizes, "natural", t) for t in (1.0, 2.0, math.inf))
    assert t1 == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1})
    assert tinf == pytest.approx({g: 1 / 3 for g in sizes})
    root = {g: math.sqrt(n) for g, n in sizes.items()}  # p ∝ n^(1/2)
    assert t2 == pytest.approx({g: v / sum(root.values()) for g, v in root.items()})
    assert t1["c"] < t2["c"] < tinf["c"]


def test_file_target_and_absent_groups():
    shares = target_shares({"a": 10.0, "b": 10.0}, {"a": 3, "z": 1})
    assert shares == pytest.approx({"a": 0.75, "b": 0.0, "z": 0.25})
    # z is absent from the corpus (capacity 0): its quota goes to a
    assert water_fill(shares, {"a": 1000, "b": 1000}, 100) == pytest.approx({"a": 100, "b": 0, "z": 0})


def test_upsampling_cap_limits_repeats_and_gives_the_rest_to_others(tmp_path):
    # uniform over 3 groups with 900 documents: c (100 docs) would need 300; K = 2 caps it at 200 copies,
    # and the 100 it cannot take go to a and b in proportion (350 each)
    kept, removed = mix(tmp_path, corpus(SIZES), by="domain", budget="900", target="uniform", max_upsample=2)
    assert copies(kept) == {"a": 350, "b": 350, "c": 200}
    c = kept.filter(pl.col("mix_group") == "c")
    assert c.height == 100 and set(c["mix_repeats"]) == {2}  # every c document used exactly twice
    b = kept.filter(pl.col("mix_group") == "b")
    assert sorted(set(b["mix_repeats"])) == [1, 2] and b["mix_repeats"].sum() == 350  # 50 of 300 repeated
    assert kept.height + removed.height == 1000


def test_no_upsampling_when_cap_is_one_budget_short_if_corpus_too_small(tmp_path):
    kept, removed = mix(tmp_path, corpus({"a": 30, "b": 10}), by="domain", budget="100", target="uniform")
    assert copies(kept) == {"a": 30, "b": 10} and removed.height == 0  # everything, each once: 40 < 100


def test_token_budget_counts_whitespace_words_and_never_exceeds_quota(tmp_path):
    # a: 600 docs x 10 words, b: 300 x 20, c: 100 x 50; uniform 3000 tokens -> 1000 words each
    frame = corpus(SIZES, words={"a": 10, "b": 20, "c": 50})
    kept, _ = mix(tmp_path, frame, by="domain", budget="3k tokens", target="uniform")
    assert copies(kept) == {"a": 100, "b": 50, "c": 20}  # 1000 words per group exactly
    kept, _ = mix(tmp_path, frame, by="domain", budget="2000 tokens", target="uniform")
    words = {g: n for g, n in kept.with_columns(w=pl.col("text").str.count_matches("w") * pl.col("mix_repeats"))
             .group_by("mix_group").agg(pl.col("w").sum()).iter_rows()}
    assert all(v <= 2000 / 3 for v in words.values())  # a quota is never exceeded ...
    assert words == {"a": 660, "b": 660, "c": 650}  # ... and stops at the last whole document below 666.7


def test_seeded_and_deterministic_across_sharding(tmp_path):
    frame = corpus(SIZES)
    one, _ = mix(tmp_path / "1", frame, frames=1, by="domain", budget="100", seed=3)
    four, _ = mix(tmp_path / "4", frame, frames=4, by="domain", budget="100", seed=3)
    other, _ = mix(tmp_path / "o", frame, frames=1, by="domain", budget="100", seed=4)
    assert sorted(one["id"]) == sorted(four["id"])  # the draw depends on seed and source, not on shards
    assert sorted(one["id"]) != sorted(other["id"])


def test_rehydration_repeats_by_cluster_size():
    table = {1: 1, 2: 2, 5: 4, 100: 1}
    assert [rehydrate_weight(s, table) for s in (1, 2, 3, 5, 99, 100, 5000)] == [1, 2, 2, 4, 4, 1, 1]


def test_rehydration_upsamples_documents_from_duplicate_clusters(tmp_path):
    frame = corpus({"a": 10}, extra={"a": {}})
    meta = [orjson.dumps({"domain": "a", "cluster_size": 5 if i < 5 else 1}).decode() for i in range(10)]
    frame = frame.with_columns(pl.Series("metadata", meta))
    kept, _ = mix(tmp_path, frame, by="domain", budget="25", max_upsample=4, rehydrate=True,
                  rehydrate_weights={1: 1, 5: 4})
    reps = dict(zip(kept["id"], kept["mix_repeats"]))
    # capacity 5 x 4 + 5 x 1 = 25 = budget: clustered documents 4 times (the cap), singletons once
    assert reps == {**{f"a-{i}": 4 for i in range(5)}, **{f"a-{i}": 1 for i in range(5, 10)}}


def test_budget_and_config_errors():
    assert parse_budget("5k") == ("docs", 5000) and parse_budget("2M tokens") == ("tokens", 2_000_000)
    for bad in ("0", "1.5", "lots", "-3"):
        with pytest.raises(ValueError):
            parse_budget(bad)
    with pytest.raises(ValueError):
        MixConfig(by="x", budget="10", target="uniform", temperature=2.0)
    assert integer_quotas({"a": 1.5, "b": 1.5}, {"a": 10, "b": 10}, 3) == {"a": 2, "b": 1}


def test_group_keys_url_domain_language_and_missing():
    from curation.steps.mix import group_values

    meta = [{"url": "https://www.a.com/x"}, {"metadata": {"url": "http://b.org/"}}, {"language": "de"}, {}]
    batch = pl.DataFrame({"metadata": [orjson.dumps(m).decode() for m in meta], "source": ["f:1"] * 4})
    assert group_values(batch, "url_domain") == ["a.com", "b.org", "(none)", "(none)"]
    assert group_values(batch, "lang") == ["(none)", "(none)", "de", "(none)"]
    assert group_values(batch.with_columns(lang=pl.lit("fr")), "language") == ["fr"] * 4  # langid's column wins


def test_instruction_pools_mix_by_file(tmp_path):
    from curation.mixing import read_pool

    frame, quarantined = read_pool([str(shared("instruct", "alpaca_en_demo.json")), str(shared("instruct", "lima.json"))])
    assert (frame.height, quarantined) == (2028, 0)  # 999 Alpaca + 1,029 LIMA pairs
    kept, removed = run_frames(MixConfig(by="file", budget="200", target="uniform"), [frame], tmp_path)
    assert copies(kept) == {"alpaca_en_demo.json": 100, "lima.json": 100}
    assert kept.height + removed.height == 2028


def test_label_groups_on_real_mail(tmp_path):
    from core.readers import ReaderConfig, read_documents

    frame = pl.concat(list(read_documents([shared("mail", "spamassassin.jsonl.gz")], ReaderConfig(), lambda *a: None)))
    kept, removed = run_frames(MixConfig(by="label", budget="1000", target="uniform"), [frame], tmp_path)
    # SpamAssassin has 4,150 ham and 1,896 spam (6,046 messages): uniform 1,000 -> 500 each
    assert copies(kept) == {"ham": 500, "spam": 500}
    assert kept.height + removed.height == 6046
