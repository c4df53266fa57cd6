import polars as pl

from curation.steps.langid import LanguageId, LanguageIdConfig
from tests.conftest import shared


def test_langid_scores_every_document_and_keeps_configured_languages():
    wiki = [ln for ln in shared("lm", "wikitext-2_test.txt").read_text().splitlines() if len(ln.split()) > 30][:5]
    texts = wiki + ["Le conseil municipal s'est réuni mardi pour discuter du budget de l'année prochaine.",
                    "Der Stadtrat hat sich am Dienstag getroffen, um über den Haushalt zu sprechen."]
    batch = pl.DataFrame({"id": [str(i) for i in range(7)], "text": texts, "metadata": ["{}"] * 7, "source": ["s"] * 7})
    kept, removed = LanguageId(LanguageIdConfig()).run(batch)
    assert kept.height == 5 and kept["lang"].unique().to_list() == ["en"]
    assert removed["lang"].to_list() == ["fr", "de"] and removed["reason"].to_list() == ["wrong_language"] * 2
    assert (kept["lang_score"] >= 0.65).all()
    kept, removed = LanguageId(LanguageIdConfig(languages=("en", "fr"))).run(batch)
    assert removed["lang"].to_list() == ["de"]
